"""
The account panel's foundation in a real browser, against the installed
daemon: login (right password, wrong one, blocked account), logout, the
session cookie, the password change read back through Flexisip's own SQL
request, the e-mail change with the code mailed to the test's SMTP server,
the phone change with the code sent to the fake OVH API, the provisioning
QR code, the account's deletion, device removal through the fake Flexisip
CLI, and forms posted without
their CSRF field; axe-core checks every page visited.  The main pages are
the README's screenshots (FAMD_WRITE_SCREENSHOTS=1).
"""

import base64
import io
import re

import treq
from PIL import Image
from pyzbar import pyzbar
from twisted.internet import defer

from famd.credentials import ha1
from tests.browser.case import BrowserTestCase
from tests.browser.daemon import DOMAIN, text_of
from tests.flows_fixtures import sms_code
from tests.engines import on_engines

CSRF_FIELD = "__csrf_protection__"
"""The hidden field of the panel's forms (famd.panel.base.CSRF_FIELD)."""


class PanelBrowserTestCase(BrowserTestCase):
    """A browser on the panel."""

    @defer.inlineCallbacks
    def log_in(self, identifier, password):
        """Open the login page (from /) and submit it."""
        yield self.page.open("/")
        self.assertEqual((yield self.page.path()), "/login")
        yield self.page.submit({"identifier": identifier, "password": password}, button="Log in")


class LoginJourneyTests(PanelBrowserTestCase):
    """Logging in and out of the panel, on every storage engine."""

    @defer.inlineCallbacks
    def test_login_and_logout(self):
        """A wrong password is refused on the form; the right one opens the account page; logging out closes it."""
        yield self.famd.create_account("alice", "alice-secret", email="alice@example.org")
        yield self.page.open("/login")
        yield self.page.screenshot("login")
        yield self.page.submit({"identifier": "alice", "password": "not-hers"}, button="Log in")
        self.assertEqual(((yield self.page.path()), (yield self.page.status())), ("/login", 403))
        self.assertIn("Wrong username or password.", (yield self.page.text("main")))
        yield self.page.submit({"identifier": "alice", "password": "alice-secret"}, button="Log in")
        self.assertEqual(((yield self.page.path()), (yield self.page.status())), ("/account", 200))
        shown = yield self.page.text("main")
        self.assertIn("alice@sip.example.org", shown)
        self.assertIn("alice@example.org", shown)
        yield self.page.screenshot("account")
        [cookie] = [c for c in (yield self.page.cookies()) if c["name"] == "famd_session"]
        self.assertEqual((cookie["httpOnly"], cookie["sameSite"], cookie["secure"]),
                         (True, "Lax", False))
        yield self.page.click("Log out")
        self.assertEqual((yield self.page.path()), "/login")
        yield self.page.open("/account")
        self.assertEqual((yield self.page.path()), "/login")
        self.assertEqual(self.page.checked,
                         ["/login", "/login", "/account", "/login", "/login"])



class LoginBrowserTests(PanelBrowserTestCase):
    """The other ways in, and the refusals."""

    @defer.inlineCallbacks
    def test_login_by_email(self):
        """The e-mail address logs in as well as the username."""
        yield self.famd.create_account("bobby", "bobby-secret", email="bobby@example.org")
        yield self.log_in("bobby@example.org", "bobby-secret")
        self.assertEqual((yield self.page.path()), "/account")
        self.assertIn("bobby@sip.example.org", (yield self.page.text("main")))

    @defer.inlineCallbacks
    def test_blocked_account_refused(self):
        """A blocked account's right password is refused with a page saying so, and no session opens."""
        yield self.famd.create_account("carol", "carol-secret", blocked=True)
        yield self.log_in("carol", "carol-secret")
        self.assertEqual(((yield self.page.path()), (yield self.page.status())), ("/login", 403))
        self.assertIn("This account is blocked", (yield self.page.text("main")))
        yield self.page.open("/account")
        self.assertEqual((yield self.page.path()), "/login")

    @defer.inlineCallbacks
    def test_form_without_csrf_refused(self):
        """The login form posted without its CSRF field is a 403 page and logs nobody in."""
        yield self.famd.create_account("dave", "dave-secret")
        yield self.page.open("/login")
        yield self.page.submit({"identifier": "dave", "password": "dave-secret"},
                               button="Log in", without=(CSRF_FIELD,))
        self.assertEqual((yield self.page.status()), 403)
        self.assertIn("This form expired or was not sent from this site",
                      (yield self.page.text("main")))
        yield self.page.open("/account")
        self.assertEqual((yield self.page.path()), "/login")


class PasswordJourneyTests(PanelBrowserTestCase):
    """Changing the password, as Flexisip then sees it, on every storage engine."""

    @defer.inlineCallbacks
    def test_password_change_reaches_flexisip(self):
        """The new password's HA1 is what Flexisip's request returns; the old password no longer logs in."""
        yield self.famd.create_account("erin", "erin-old-secret", email="erin@example.org")
        self.assertEqual((yield self.famd.flexisip_passwords("erin")),
                         [(ha1("erin", DOMAIN, "erin-old-secret", "SHA-256"), "SHA-256")])
        yield self.log_in("erin", "erin-old-secret")
        yield self.page.click("Change my password")
        self.assertEqual((yield self.page.path()), "/account/password")
        yield self.page.screenshot("password")
        yield self.page.submit({"old_password": "erin-old-secret", "password": "erin-new-secret",
                                "password_confirmation": "erin-new-secret"},
                               button="Change the password")
        self.assertEqual((yield self.page.status()), 200)
        self.assertIn("Your password is changed", (yield self.page.text("main")))
        self.assertEqual((yield self.famd.flexisip_passwords("erin")),
                         [(ha1("erin", DOMAIN, "erin-new-secret", "SHA-256"), "SHA-256")])
        yield self.page.click("Log out")
        yield self.page.submit({"identifier": "erin", "password": "erin-old-secret"}, button="Log in")
        self.assertIn("Wrong username or password.", (yield self.page.text("main")))
        yield self.page.submit({"identifier": "erin", "password": "erin-new-secret"}, button="Log in")
        self.assertEqual((yield self.page.path()), "/account")


class AccountBrowserTests(PanelBrowserTestCase):
    """The account pages that reach outside famd: e-mail and registrar."""

    @defer.inlineCallbacks
    def test_email_change_by_mailed_code(self):
        """A code mailed to the new address, typed into the page, makes it the account's address."""
        yield self.famd.create_account("frank", "frank-secret", email="frank@example.org")
        yield self.log_in("frank", "frank-secret")
        yield self.page.click("Change my e-mail address")
        yield self.page.submit({"email": "frank@example.net"}, button="Send a code to this address")
        self.assertIn("A code was sent to frank@example.net", (yield self.page.text("main")))
        yield self.page.screenshot("email")
        message = yield self.famd.mail.wait("frank@example.net")
        code = re.search(r"in the application:\s+(\S+)", text_of(message)).group(1)
        yield self.page.submit({"code": code}, button="Confirm the new address")
        self.assertIn("Your e-mail address is now frank@example.net", (yield self.page.text("main")))
        self.assertEqual((yield self.famd.account("frank")).email, "frank@example.net")

    @defer.inlineCallbacks
    def test_device_removal(self):
        """The devices page lists the registrar's bindings; Remove deletes one through Flexisip's CLI."""
        yield self.famd.create_account("grace", "grace-secret")
        self.famd.register_device("grace", "aaaa-1111", user_agent="Linphone-Desktop/5.2")
        self.famd.register_device("grace", "bbbb-2222", user_agent="LinphoneAndroid/5.3")
        yield self.log_in("grace", "grace-secret")
        yield self.page.click("My devices")
        rows = yield self.page.texts("tbody tr")
        self.assertEqual(len(rows), 2)
        self.assertIn("Linphone-Desktop/5.2", rows[0])
        self.assertIn("LinphoneAndroid/5.3", rows[1])
        yield self.page.screenshot("devices")
        yield self.page.submit(form="form:has(input[name=uuid][value='urn:uuid:aaaa-1111'])")
        self.assertEqual((yield self.page.path()), "/account/devices")
        rows = yield self.page.texts("tbody tr")
        self.assertEqual(len(rows), 1)
        self.assertIn("LinphoneAndroid/5.3", rows[0])
        self.assertIn(b'REGISTRAR_DELETE sip:grace@sip.example.org "<urn:uuid:aaaa-1111>"',
                      self.famd.cli.commands)
        self.assertEqual([b.unique_id for b in self.famd.cli.records.bindings("grace@" + DOMAIN)],
                         ['"<urn:uuid:bbbb-2222>"'])

    @defer.inlineCallbacks
    def test_phone_qr_code_and_deletion(self):
        """A phone change by the SMS code, a QR code that provisions the account, then the account deleted by its password."""
        yield self.famd.create_account("ivan", "ivan-secret")
        yield self.log_in("ivan", "ivan-secret")
        yield self.page.click("Change my phone number")
        yield self.page.submit({"phone": "+33612345678"}, button="Send a code to this number")
        [job] = self.famd.ovh.jobs
        self.assertEqual(job["receivers"], ["+33612345678"])
        yield self.page.submit({"code": sms_code(job)}, button="Confirm the new number")
        self.assertIn("Your phone number is now +33612345678", (yield self.page.text("main")))
        self.assertEqual((yield self.famd.account("ivan")).phone, "+33612345678")

        yield self.page.open("/account")
        yield self.page.click("Set up a Linphone app")
        yield self.page.submit(button="Make a QR code")
        shown = yield self.page.text("main code")
        image = yield self.page.attribute("img.qr", "src")
        (symbol,) = pyzbar.decode(Image.open(io.BytesIO(base64.b64decode(image.split(",", 1)[1]))))
        self.assertEqual(symbol.data.decode(), shown)
        yield self.page.screenshot("provisioning")
        response = yield treq.get(shown, persistent=False)
        self.assertEqual(response.code, 200)
        self.assertIn(b"sip:ivan@sip.example.org", (yield response.content()))

        yield self.page.open("/account")
        yield self.page.click("Delete my account")
        yield self.page.submit({"password": "ivan-secret"}, button="Delete my account for good")
        self.assertIn("Your account is deleted.", (yield self.page.text("main")))
        self.assertIsNone((yield self.famd.account("ivan")))
        yield self.page.open("/account")
        self.assertEqual((yield self.page.path()), "/login")

    @defer.inlineCallbacks
    def test_password_form_without_csrf_refused(self):
        """The password form posted without its CSRF field is a 403 page and changes nothing."""
        yield self.famd.create_account("heidi", "heidi-secret")
        before = yield self.famd.flexisip_passwords("heidi")
        yield self.log_in("heidi", "heidi-secret")
        yield self.page.open("/account/password")
        yield self.page.submit({"old_password": "heidi-secret", "password": "heidi-other-secret",
                                "password_confirmation": "heidi-other-secret"},
                               button="Change the password", without=(CSRF_FIELD,))
        self.assertEqual((yield self.page.status()), 403)
        self.assertIn("This form expired", (yield self.page.text("main")))
        self.assertEqual((yield self.famd.flexisip_passwords("heidi")), before)


globals().update(on_engines(LoginJourneyTests, PasswordJourneyTests))
