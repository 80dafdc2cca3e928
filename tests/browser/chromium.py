"""
Debian's Chromium driven by Selenium through Debian's chromedriver: one
headless browser per test process, started on first use and reused by every
browser test of that process (reset between tests), quit at exit.

The driver and the browser come from the same Debian source package, so
their versions always match; Selenium is told both paths, so Selenium
Manager never looks for (or downloads) anything.  Every method here blocks:
L{tests.browser.page.Page} calls them from the reactor's thread pool, so the
in-process servers a journey needs (SMTP, fake Flexisip CLI, fake OVH) keep
answering while the browser works.
"""

import atexit
import os
import shutil
import tempfile
import threading

from famd.testing.databases import unavailable

CHROMIUM = os.environ.get("FAMD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FAMD_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # Without these two, Chromium calls Google at start and stalls here (no network).
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-dev-shm-usage", "--disable-extensions",
    "--lang=en-US", "--window-size=1280,900",
)
"""The flags that work as root on a machine without network."""

HERE = os.path.dirname(os.path.abspath(__file__))
AXE = os.path.join(HERE, "node_modules", "axe-core", "axe.min.js")
"""axe-core, installed by ``npm ci`` in this folder (scripts/test does it)."""

_lock = threading.Lock()
_shared = None


def require():
    """Skip the running test (fail it when services are required) if the browser or axe-core is missing."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            unavailable("%s is missing (Debian package %s; ./scripts/test installs it)" % (path, package))
    if not os.path.exists(AXE):
        unavailable("%s is missing (npm ci --prefix tests/browser; ./scripts/test runs it)" % (AXE,))
    try:
        import selenium  # noqa: F401
    except ImportError:
        unavailable("selenium is not installed (pip install '.[test]')")


class Chromium:
    """One headless Chromium and its chromedriver, with a fresh profile folder."""

    def __init__(self):
        # Belt and braces: with both paths given Selenium Manager is not run,
        # and offline it could not download anything anyway.
        os.environ["SE_OFFLINE"] = "true"
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="famd-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument("--user-data-dir=" + self.profile)
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(60)

    def reset(self):
        """Forget what a previous test left: cookies (shared by every port of 127.0.0.1), cache, the page."""
        self.driver.get("about:blank")
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def shared():
    """This process's browser, started on first call (blocking, about 2 s), reset."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Chromium()
            atexit.register(_shared.quit)
        _shared.reset()
        return _shared
