"""
The account panel's foundation in a real browser, against the installed
daemon: login (right password, wrong one, blocked account), logout, the
session cookie, and a form posted without its CSRF field; axe-core checks
every page visited.  The main pages are the README's screenshots
(FAMD_WRITE_SCREENSHOTS=1).
"""

from twisted.internet import defer

from tests.browser.case import BrowserTestCase
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


globals().update(on_engines(LoginJourneyTests))
