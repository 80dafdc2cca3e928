"""
A browser tab on one running famd, for journeys written as Deferreds.

Every L{Page} method returns a Deferred and runs its Selenium calls in the
reactor's thread pool, so the test's in-process servers (SMTP, fake
Flexisip CLI, fake OVH) answer meanwhile.  Each page the tab lands on
(L{Page.open}, L{Page.submit}, L{Page.click}) is checked with axe-core
first: a violation of impact serious or critical fails the test, listed.
"""

import base64
import hashlib
import json
import os
from urllib.parse import urljoin, urlsplit

from twisted.internet import threads

from tests.browser import chromium

SERIOUS = ("serious", "critical")
"""The axe-core impacts that fail a test."""

SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "docs", "screenshots")
"""Where L{Page.screenshot} writes, when FAMD_WRITE_SCREENSHOTS=1: the checkout's docs/screenshots."""

VIEWPORTS = (("phone", 390, 844, True), ("desktop", 1280, 900, False))
"""(label, width, height, mobile) of each screenshot L{Page.screenshot} takes."""

LOAD_TIMEOUT = 30
"""Seconds a submitted form or clicked link has to bring the next page."""

_AXE_RUN = """
var done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]}).then(
  function (result) { done(JSON.stringify(result.violations)); },
  function (error) { done(JSON.stringify({error: String(error)})); });
"""

_SIGNATURE = """
return document.documentElement.outerHTML.replace(/ value="[^"]*"/g, "");
"""
"""The page's markup without its field values (CSRF tokens, typed text): what axe-core judges."""

_axe_source = None
_passed = set()
"""Signatures of the pages axe-core passed in this process: the same markup is not checked twice."""


def axe_source():
    """The text of axe.min.js (read once)."""
    global _axe_source
    if _axe_source is None:
        with open(chromium.AXE, encoding="utf-8") as f:
            _axe_source = f.read()
    return _axe_source


def serious(violations):
    """The violations of impact serious or critical, as readable lines (empty when none)."""
    lines = []
    for violation in violations:
        if violation.get("impact") in SERIOUS:
            lines.append("%s %s: %s (%s)" % (
                violation["impact"], violation["id"], violation["help"], violation["helpUrl"]))
            for node in violation["nodes"]:
                target = node["target"]
                lines.append("    at %s: %s" % (
                    " ".join(map(str, target)) if isinstance(target, list) else target,
                    " ".join((node.get("failureSummary") or "").split())))
    return lines


def screenshots_wanted():
    """True when FAMD_WRITE_SCREENSHOTS=1: L{Page.screenshot} writes docs/screenshots."""
    return os.environ.get("FAMD_WRITE_SCREENSHOTS") == "1"


def _gone(element):
    """
    True once C{element} belongs to a document the browser left: selenium's
    C{staleness_of}, also reading chromedriver's "does not belong to the
    document" answer (given instead of a stale reference while the next
    page is being built) as gone.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False

class Page:
    """
    The shared browser, pointed at the famd at C{base} (``http://127.0.0.1:PORT``).

    @ivar checked: the paths axe-core checked, in order (one per page landed on).
    @ivar check_every_page: run axe-core on each page landed on (default True).
    """

    def __init__(self, test_case, browser, base):
        self.test_case = test_case
        self.driver = browser.driver
        self.base = base
        self.checked = []
        self.check_every_page = True

    # ------------------------------------------------------------ plumbing

    def run(self, function, *args, **kwargs):
        """Fire with C{function(driver, *args, **kwargs)}, run in a thread: for any other Selenium use."""
        return threads.deferToThread(function, self.driver, *args, **kwargs)

    def _thread(self, method, *args, **kwargs):
        return threads.deferToThread(method, *args, **kwargs)

    def _wait(self, condition, timeout=LOAD_TIMEOUT, message=""):
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition, message)

    def _landed(self):
        self._wait(lambda d: d.execute_script("return document.readyState") == "complete",
                   message="the page did not finish loading")
        if self.check_every_page:
            self._axe()

    def _new_page(self, action):
        """Do C{action} (a click), then wait for the page it brings, and land on it."""
        from selenium.webdriver.common.by import By

        old = self.driver.find_element(By.TAG_NAME, "html")
        action()
        self._wait(lambda driver: _gone(old), message="no new page came")
        self._landed()

    # ------------------------------------------------------------ navigation

    def open(self, path):
        """Load C{path} (relative to famd, or a whole URL) and land on it."""
        return self._thread(self._open, urljoin(self.base + "/", path))

    def _open(self, url):
        self.driver.get(url)
        self._landed()

    def click(self, text, navigates=True):
        """Click the link or button whose visible text is C{text}; with C{navigates}, land on the page it brings."""
        return self._thread(self._click, text, navigates)

    def _click(self, text, navigates):
        from selenium.webdriver.common.by import By

        literal = json.dumps(text)
        element = self.driver.find_element(By.XPATH, (
            "//a[normalize-space()=%s] | //button[normalize-space()=%s] | "
            "//input[@type='submit' and @value=%s]") % (literal, literal, literal))
        if navigates:
            self._new_page(element.click)
        else:
            element.click()

    def tick(self, label):
        """Click the label whose visible text is C{label} (ticks or unticks its checkbox), as a person does."""
        from selenium.webdriver.common.by import By

        return self._thread(lambda: self.driver.find_element(
            By.XPATH, "//label[normalize-space()=%s]" % (json.dumps(label),)).click())

    def submit(self, fields=None, button=None, form=None, without=()):
        """
        Fill a form and submit it by its button, then land on the answer.

        @param fields: {name: value}: text is typed, a bool ticks a checkbox,
            a select or radio group takes the value given.
        @param button: the submit button's visible text (default: the form's first).
        @param form: a CSS selector of the form (default: the form holding
            the first field, or the button, or the page's only form).
        @param without: names of fields removed before submitting (a form
            posted without its CSRF field: C{without=("csrf",)}).
        """
        return self._thread(self._submit, dict(fields or {}), button, form, tuple(without))

    def _submit(self, fields, button, form, without):
        from selenium.webdriver.common.by import By

        element = self._form(fields, button, form)
        for name, value in fields.items():
            self._fill(element, name, value)
        for name in without:
            found = element.find_elements(By.NAME, name)
            if not found:
                raise AssertionError("the form has no field %r to remove" % (name,))
            for field in found:
                self.driver.execute_script("arguments[0].remove();", field)
        self._new_page(self._submit_button(element, button).click)

    def _form(self, fields, button, form):
        from selenium.webdriver.common.by import By

        if form is not None:
            return self.driver.find_element(By.CSS_SELECTOR, form)
        if fields:
            field = self.driver.find_element(By.NAME, next(iter(fields)))
            return self.driver.execute_script("return arguments[0].form;", field)
        if button is not None:
            return self.driver.execute_script("return arguments[0].form;",
                                              self._submit_button(self.driver, button))
        forms = self.driver.find_elements(By.TAG_NAME, "form")
        if len(forms) != 1:
            raise AssertionError("%d forms on %s: say which (form=...)" % (
                len(forms), self.driver.current_url))
        return forms[0]

    def _submit_button(self, scope, text):
        from selenium.webdriver.common.by import By

        if text is None:
            return scope.find_element(By.CSS_SELECTOR, "button:not([type]), button[type=submit], "
                                      "input[type=submit]")
        literal = json.dumps(text)
        return scope.find_element(By.XPATH, (
            ".//button[normalize-space()=%s] | .//input[@type='submit' and @value=%s]")
            % (literal, literal))

    def _fill(self, form, name, value):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        found = form.find_elements(By.NAME, name)
        if not found:
            raise AssertionError("the form has no field %r" % (name,))
        field = found[0]
        kind = (field.get_attribute("type") or "").lower()
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        elif kind == "checkbox":
            if field.is_selected() != bool(value):
                field.click()
        elif kind == "radio":
            [choice] = [f for f in found if f.get_attribute("value") == value]
            choice.click()
        elif kind == "hidden":
            self.driver.execute_script("arguments[0].value = arguments[1];", field, value)
        else:
            field.clear()
            field.send_keys(value)

    # ------------------------------------------------------------ reading

    def text(self, selector="body"):
        """Fire with the visible text of the first element matching C{selector}."""
        from selenium.webdriver.common.by import By

        return self._thread(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).text)

    def texts(self, selector):
        """Fire with the visible texts of every element matching C{selector}."""
        from selenium.webdriver.common.by import By

        return self._thread(lambda: [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, selector)])

    def attribute(self, selector, name):
        """Fire with attribute C{name} of the first element matching C{selector} (None when absent)."""
        from selenium.webdriver.common.by import By

        return self._thread(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).get_attribute(name))

    def path(self):
        """Fire with the path (and query) of the page shown."""
        def path():
            parts = urlsplit(self.driver.current_url)
            return parts.path + ("?" + parts.query if parts.query else "")
        return self._thread(path)

    def status(self):
        """Fire with the HTTP status of the page shown (Navigation Timing's responseStatus)."""
        return self._thread(self.driver.execute_script,
                            "return performance.getEntriesByType('navigation')[0].responseStatus;")

    def cookies(self):
        """Fire with the browser's cookies for this famd: a list of Selenium cookie dicts."""
        return self._thread(self.driver.get_cookies)

    def wait(self, script, timeout=LOAD_TIMEOUT):
        """Fire once the JavaScript expression C{script} is true on the page (fails after C{timeout} s)."""
        return self._thread(self._wait, lambda d: d.execute_script("return (%s);" % (script,)),
                            timeout, "still false after %s s: %s" % (timeout, script))

    # ------------------------------------------------------------ checks

    def axe(self):
        """
        Fire once axe-core found no serious or critical violation on the page
        shown; else fail, listing them.  A page whose markup (field values
        aside) already passed in this process is not checked again.
        """
        return self._thread(self._axe)

    def _axe(self):
        signature = hashlib.sha256(self.driver.execute_script(_SIGNATURE).encode("utf-8")).digest()
        if signature in _passed:
            self.checked.append(urlsplit(self.driver.current_url).path)
            return []
        if not self.driver.execute_script("return !!window.axe;"):
            self.driver.execute_script(axe_source())
        answer = json.loads(self.driver.execute_async_script(_AXE_RUN))
        if isinstance(answer, dict):
            raise AssertionError("axe-core failed on %s: %s" % (self.driver.current_url, answer["error"]))
        self.checked.append(urlsplit(self.driver.current_url).path)
        lines = serious(answer)
        if not lines:
            _passed.add(signature)
        else:
            self.test_case.fail("axe-core: %d serious or critical violation(s) on %s:\n  %s" % (
                len(lines), self.driver.current_url, "\n  ".join(lines)))
        return answer

    def screenshot(self, name, folder=None):
        """
        When FAMD_WRITE_SCREENSHOTS=1 (or with C{folder}), write the page
        shown as C{name}-phone.png (390x844) and C{name}-desktop.png
        (1280x900) into docs/screenshots (or C{folder}); fire with the paths
        written (none otherwise).
        """
        if folder is None and not screenshots_wanted():
            return self._thread(list)
        return self._thread(self._screenshot, name, folder or SCREENSHOTS)

    def _screenshot(self, name, folder):
        os.makedirs(folder, exist_ok=True)
        written = []
        try:
            for label, width, height, mobile in VIEWPORTS:
                self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                    "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
                self.driver.execute_script("return document.body.getBoundingClientRect().height;")
                shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
                path = os.path.join(folder, "%s-%s.png" % (name, label))
                with open(path, "wb") as f:
                    f.write(base64.b64decode(shot["data"]))
                written.append(path)
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return written
