"""
The administrator pages in a real browser (L{tests.browser}): an
administrator logs in, creates an account and an API key that then works on
``/api``; an administrator blocks an account that then cannot log in to the
panel and is refused by ``/api``.  axe-core checks every page landed on;
the first journey runs on SQLite and MariaDB, the second on SQLite and
PostgreSQL.
"""

from datetime import datetime, timezone

import treq
from twisted.internet import defer

from tests.browser.case import BrowserTestCase
from tests.browser.daemon import DOMAIN
from tests.engines import on_engine

VICTIM_KEY = "victimkey0123456789abcdefghijklmnopqrstu"


class AdminJourneys(BrowserTestCase):
    """Shared steps of the administrator journeys."""

    @defer.inlineCallbacks
    def log_in(self, username, password):
        """Log in through the login page."""
        yield self.page.open("/login")
        yield self.page.submit({"identifier": username, "password": password}, button="Log in")

    @defer.inlineCallbacks
    def api(self, path, username, key):
        """GET /api{path} as C{username} with API key C{key}: (status, JSON body)."""
        response = yield treq.get(
            self.famd.url + "/api" + path, persistent=False,
            headers={"Accept": "application/json", "From": "sip:%s@%s" % (username, DOMAIN),
                     "x-api-key": key})
        return response.code, (yield response.json())


class CreateAccountAndKeyJourney(AdminJourneys):
    """An administrator creates an account and an API key, then uses the key on /api."""

    @defer.inlineCallbacks
    def test_create_account_and_api_key(self):
        """The administrator creates an account and an API key in the panel; the key lists the new account on /api."""
        yield self.famd.create_account("boss", "boss-password-1", admin=True,
                                       email="boss@example.org")
        for name in ("alice", "bob"):
            yield self.famd.create_account(name + "_x", "password-" + name,
                                           email=name + "@example.org")
        yield self.log_in("boss", "boss-password-1")
        self.assertEqual((yield self.page.path()), "/account")
        yield self.page.click("Administration")
        yield self.page.click("Accounts")
        self.assertEqual((yield self.page.path()), "/admin/accounts")
        yield self.page.click("New account")
        yield self.page.submit({"username": "newbie1", "password": "newbie-pass-1",
                                "email": "newbie@example.org", "phone": "+33612345678",
                                "activated": True}, button="Create the account")
        self.assertIn("The account was created.", (yield self.page.text("main")))
        self.assertTrue((yield self.page.path()).startswith("/admin/accounts/"))
        newbie = yield self.famd.account("newbie1")
        self.assertEqual((newbie.email, newbie.phone, newbie.activated),
                         ("newbie@example.org", "+33612345678", True))

        yield self.page.open("/admin/accounts")
        yield self.page.submit({"q": "example.org", "blocked": "no"}, button="Search")
        self.assertIn("4 accounts found.", (yield self.page.text("main")))
        yield self.page.screenshot("admin-accounts")

        yield self.page.open("/admin")
        yield self.page.click("API key")
        self.assertIn("no", (yield self.page.text("dl.facts")))
        yield self.page.submit(button="Generate an API key")
        key = yield self.page.text("#api-key-value")
        self.assertRegex(key, r"^\S{20,}$")
        # The copy button shows once its script ran (no inline script: the CSP forbids it).
        yield self.page.wait("!document.getElementById('copy-api-key').hidden")
        yield self.page.screenshot("admin-api-key")
        yield self.page.click("Copy the key", navigates=False)
        yield self.page.wait("document.getElementById('copy-api-key').textContent === 'Copied'")

        code, body = yield self.api("/accounts", "boss", key)
        self.assertEqual(code, 200, body)
        self.assertIn("newbie1", [each["username"] for each in body["data"]])
        yield self.page.open("/admin/api-key")
        self.assertNotIn(key, (yield self.page.text("body")))

        yield self.page.click("Log out")
        yield self.log_in("newbie1", "newbie-pass-1")
        self.assertEqual((yield self.page.path()), "/account")
        for path in ("/login", "/account", "/admin", "/admin/accounts", "/admin/api-key"):
            self.assertIn(path.split("?")[0], [each.split("?")[0] for each in self.page.checked])


class BlockJourney(AdminJourneys):
    """An administrator blocks an account, which can then neither log in nor use /api."""

    @defer.inlineCallbacks
    def test_blocked_account_cannot_log_in(self):
        """A blocked account gets the blocked page at login and 403 on /api; unblocked, it logs in again."""
        yield self.famd.create_account("boss", "boss-password-1", admin=True)
        victim = yield self.famd.create_account("victim1", "victim-pass-1",
                                                email="victim@example.org")
        yield self.famd.storage.set_api_key(victim, VICTIM_KEY, datetime.now(timezone.utc))
        code, _ = yield self.api("/accounts/me", "victim1", VICTIM_KEY)
        self.assertEqual(code, 200)

        yield self.log_in("boss", "boss-password-1")
        yield self.page.open("/admin/accounts")
        yield self.page.submit({"q": "victim"}, button="Search")
        yield self.page.click("victim1@" + DOMAIN)
        yield self.page.click("Block")
        self.assertIn("The account was blocked", (yield self.page.text("main")))
        self.assertTrue((yield self.famd.account("victim1")).blocked)
        yield self.page.open("/admin/accounts?blocked=yes")
        self.assertIn("victim1@" + DOMAIN, (yield self.page.text("table")))
        yield self.page.click("Log out")

        yield self.log_in("victim1", "victim-pass-1")
        self.assertEqual((yield self.page.status()), 403)
        self.assertIn("blocked", (yield self.page.text("main")))
        code, body = yield self.api("/accounts/me", "victim1", VICTIM_KEY)
        self.assertEqual(code, 403, body)

        yield self.log_in("boss", "boss-password-1")
        yield self.page.open("/admin/accounts/%d" % (victim,))
        yield self.page.click("Unblock")
        yield self.page.click("Delete this account")
        self.assertIn("cannot be undone", (yield self.page.text("main")))
        yield self.page.click("Keep it: back to the account")
        yield self.page.click("Log out")
        yield self.log_in("victim1", "victim-pass-1")
        self.assertEqual((yield self.page.path()), "/account")


MySQLCreateAccountAndKeyJourney = on_engine(CreateAccountAndKeyJourney, "mysql")
PostgreSQLBlockJourney = on_engine(BlockJourney, "postgresql")
