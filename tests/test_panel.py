"""
The account panel's skeleton, in-process (L{tests.panel_helpers}): the
layout and its headers, the session cookie, login by username, SIP address
or e-mail, the refusals of a wrong password, a blocked or a not activated
account, the login throttle, logout, CSRF, HTML refusals, the style sheet,
and the panel switched off.
"""

from datetime import timedelta
from types import SimpleNamespace

from klein import Klein
from twisted.internet import defer
from twisted.trial import unittest

from famd.panel.base import ADMIN, REQUEST, PanelRoutes, requirer
from famd.panel.sessions import id_hash
from famd.panel.site import ROUTE_CLASSES, panel_resource
from famd.testing.storage_contract import NOW
from tests.engines import on_engines
from tests.panel_helpers import CSRF, Browser, serve_panel
from tests.serving import InMemoryClient, serve


class PanelTests(unittest.TestCase):
    """The panel's skeleton (SQLite here; the servers below)."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served, self.browser = yield serve_panel(self)

    @defer.inlineCallbacks
    def test_home_goes_to_login(self):
        """/ sends a visitor to the login page, and a logged-in account to its page."""
        page = yield self.browser.get("/")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/login"))
        yield self.browser.log_in()
        page = yield self.browser.get("/")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/account"))

    @defer.inlineCallbacks
    def test_layout_and_headers(self):
        """A page has the layout, a viewport, the style sheet and every security header."""
        page = yield self.browser.get("/login")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.title(), "Log in")
        self.assertIn('name="viewport"', page.text)
        self.assertIn('<link rel="stylesheet" href="/assets/panel.css?v=', page.text)
        csp = page.header(b"content-security-policy").decode()
        for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'",
                          "base-uri 'none'"):
            self.assertIn(directive, csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertEqual(page.header(b"x-content-type-options"), b"nosniff")
        self.assertEqual(page.header(b"referrer-policy"), b"no-referrer")
        self.assertEqual(page.header(b"cache-control"), b"no-store")
        self.assertEqual(page.header(b"content-type"), b"text/html; charset=utf-8")
        self.assertNotIn("<script", page.text)

    @defer.inlineCallbacks
    def test_anonymous_cookie(self):
        """A visitor gets an HttpOnly, SameSite=Lax cookie, not Secure over http, and nothing is stored."""
        yield self.browser.get("/login")
        line = self.browser.attributes["famd_session"]
        self.assertIn("HttpOnly", line)
        self.assertIn("SameSite=lax", line)
        self.assertNotIn("Secure", line)
        secret = self.browser.cookies["famd_session"]
        self.assertIsNone((yield self.served.storage.web_session(id_hash(secret), NOW - timedelta(days=9), NOW - timedelta(days=9))))
        self.assertNotIn(secret, (yield self.browser.get("/login")).text)

    @defer.inlineCallbacks
    def test_login_by_username(self):
        """The right password starts a new, stored session and opens the account page."""
        yield self.browser.get("/login")
        anonymous = self.browser.cookies["famd_session"]
        page = yield self.browser.post("/login", {"identifier": "user", "password": "secret"})
        self.assertEqual((page.status, page.header(b"location")), (303, b"/account"))
        secret = self.browser.cookies["famd_session"]
        self.assertNotEqual(secret, anonymous)
        row = yield self.served.storage.web_session(id_hash(secret), NOW - timedelta(days=9), NOW - timedelta(days=9))
        self.assertEqual(row.account_id, 1)
        page = yield self.browser.get("/account")
        self.assertEqual(page.status, 200)
        self.assertIn("user@sip.example.org", page.main_text())
        self.assertNotIn(secret, page.text)

    @defer.inlineCallbacks
    def test_login_by_address_and_email(self):
        """A SIP address (with or without sip:) and an e-mail address log in too."""
        for identifier in ("sip:user@sip.example.org", "user@sip.example.org", "user@example.org"):
            self.browser.cookies.clear()
            page = yield self.browser.log_in(identifier, "secret")
            self.assertEqual(page.status, 303, identifier + page.main_text())

    @defer.inlineCallbacks
    def test_wrong_password(self):
        """A wrong password or an unknown name is the login page again, 403, with no session."""
        for identifier, password in (("user", "wrong"), ("nobody", "secret"), ("user", "")):
            page = yield self.browser.log_in(identifier, password)
            self.assertEqual(page.status, 403)
            self.assertIn("Wrong username or password.", page.main_text())
        self.assertEqual((yield self.browser.get("/account")).status, 303)

    @defer.inlineCallbacks
    def test_not_activated(self):
        """A not activated account with its right password is told so, and not logged in."""
        page = yield self.browser.log_in("carol", "carolpass")
        self.assertEqual(page.status, 403)
        self.assertIn("not activated", page.main_text())
        self.assertEqual((yield self.browser.get("/account")).status, 303)

    @defer.inlineCallbacks
    def test_blocked(self):
        """A blocked account cannot log in, and a logged-in one is out once blocked."""
        yield self.browser.log_in("bob", "bobpass")
        self.assertEqual((yield self.browser.get("/account")).status, 200)
        yield self.served.storage.set_blocked(2, True)
        self.assertEqual((yield self.browser.get("/account")).status, 303)
        page = yield self.browser.log_in("bob", "bobpass")
        self.assertEqual(page.status, 403)
        self.assertIn("blocked", page.main_text())

    @defer.inlineCallbacks
    def test_login_throttled(self):
        """Wrong passwords fill the address's wrong-secrets bucket: then a 429 page with Retry-After."""
        limit = self.served.config.throttle["wrong_secrets"]
        for _ in range(limit):
            page = yield self.browser.log_in("user", "wrong")
            self.assertEqual(page.status, 403)
        page = yield self.browser.log_in("user", "secret")
        self.assertEqual(page.status, 429)
        self.assertGreater(int(page.header(b"retry-after")), 0)
        self.assertEqual(page.title(), "Too many attempts")
        self.assertIn("text/html", page.header(b"content-type").decode())

    @defer.inlineCallbacks
    def test_logout(self):
        """Logout revokes the session's row; the old cookie opens nothing."""
        yield self.browser.log_in()
        secret = self.browser.cookies["famd_session"]
        yield self.browser.get("/account")
        page = yield self.browser.post("/logout")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/login"))
        self.assertIsNone((yield self.served.storage.web_session(id_hash(secret), NOW - timedelta(days=9), NOW - timedelta(days=9))))
        self.browser.cookies["famd_session"] = secret
        self.assertEqual((yield self.browser.get("/account")).status, 303)

    @defer.inlineCallbacks
    def test_csrf_refused(self):
        """A form posted without its token, or with another session's, is a 403 page and does nothing."""
        yield self.browser.log_in()
        yield self.browser.get("/account")
        page = yield self.browser.post("/logout", csrf=False)
        self.assertEqual(page.status, 403)
        self.assertIn("form expired", page.main_text())
        page = yield self.browser.post("/logout", {CSRF: "0" * 64})
        self.assertEqual(page.status, 403)
        self.assertEqual((yield self.browser.get("/account")).status, 200)

    @defer.inlineCallbacks
    def test_odd_text_refused(self):
        """A form value that is not UTF-8, or holds a NUL, is a 400 page, not a 500."""
        yield self.browser.get("/login")
        for odd in (b"\xff\xfe", b"us\x00er"):
            page = yield self.browser.post("/login", {"identifier": odd, "password": "secret"})
            self.assertEqual(page.status, 400, odd)
            self.assertEqual(page.title(), "Bad request")

    @defer.inlineCallbacks
    def test_post_without_session(self):
        """A POST with no session cookie at all is a 403 page (no form was served to it)."""
        page = yield self.browser.post("/login", {"identifier": "user", "password": "secret"})
        self.assertEqual(page.status, 403)
        self.assertNotIn("famd_session", self.browser.cookies)

    @defer.inlineCallbacks
    def test_refusals_are_pages(self):
        """An unknown page is a 404 page, a wrong method a 405 page with Allow: HTML, never JSON."""
        page = yield self.browser.get("/no/such/page")
        self.assertEqual((page.status, page.title()), (404, "Page not found"))
        self.assertEqual(page.header(b"content-type"), b"text/html; charset=utf-8")
        page = yield self.browser.request("PUT", "/login")
        self.assertEqual(page.status, 405)
        self.assertIn(b"POST", page.header(b"allow"))
        self.assertEqual(page.title(), "Method not allowed")

    @defer.inlineCallbacks
    def test_api_untouched(self):
        """/api still answers JSON refusals, beside the panel."""
        status, headers, body = yield self.served.client.request("GET", "http://famd.test/api/nope")
        self.assertEqual(status, 404)
        self.assertIn(b"application/json", headers.getRawHeaders(b"content-type")[0])

    @defer.inlineCallbacks
    def test_stylesheet(self):
        """The style sheet is CSS cached for a year."""
        page = yield self.browser.get("/assets/panel.css")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header(b"content-type"), b"text/css; charset=utf-8")
        self.assertIn(b"max-age=31536000", page.header(b"cache-control"))
        self.assertIn(b"font-family", page.body)

    @defer.inlineCallbacks
    def test_idle_expiry(self):
        """A session unused for panel.session_idle seconds is over; the janitor purges its row."""
        yield self.browser.log_in()
        secret = self.browser.cookies["famd_session"]
        self.served.clock.advance(self.served.components["panel"].settings["session_idle"] + 1)
        self.assertEqual((yield self.browser.get("/account")).status, 303)
        purged = yield self.served.components["panel"].sessions.purge()
        self.assertEqual(purged, 1)
        self.assertIsNone((yield self.served.storage.web_session(id_hash(secret), NOW - timedelta(days=9), NOW - timedelta(days=9))))

    @defer.inlineCallbacks
    def test_session_shared_by_processes(self):
        """A session started on one famd opens the account on another famd of the same database, and logout there ends it here."""
        other = yield serve(self, beside=self.served)
        elsewhere = Browser(other)
        yield self.browser.log_in()
        elsewhere.cookies.update(self.browser.cookies)
        page = yield elsewhere.get("/account")
        self.assertEqual(page.status, 200)
        self.assertIn("user@sip.example.org", page.main_text())
        yield elsewhere.post("/logout")
        self.assertEqual((yield self.browser.get("/account")).status, 303)


globals().update(on_engines(PanelTests))


class SecurePanelTests(unittest.TestCase):
    """The panel behind https (public_url), reached over plain HTTP through a TLS proxy."""

    @defer.inlineCallbacks
    def test_secure_cookie(self):
        """With an https public_url the cookie is Secure and __Host- named, though the request is plain HTTP."""
        served, browser = yield serve_panel(self, public_url="https://accounts.example.org")
        yield browser.get("/login")
        line = browser.attributes["__Host-famd_session"]
        self.assertIn("Secure", line)
        self.assertIn("HttpOnly", line)
        page = yield browser.log_in()
        self.assertEqual(page.status, 303)
        self.assertEqual((yield browser.get("/account")).status, 200)


class PanelOffTests(unittest.TestCase):
    """panel.enabled: false."""

    @defer.inlineCallbacks
    def test_off(self):
        """With the panel off, other paths are the JSON 404 of before."""
        served = yield serve(self, panel={"enabled": False})
        self.assertIsNone(served.components["panel"])
        status, headers, body = yield served.client.request("GET", "http://famd.test/login")
        self.assertEqual(status, 404)
        self.assertIn(b"application/json", headers.getRawHeaders(b"content-type")[0])


class Probe(PanelRoutes):
    """A route class of the test: one page for administrators only."""

    app = Klein()

    @requirer.require(app.route("/probe", methods=["GET"]), request=REQUEST, admin=ADMIN)
    def probe(self, request, admin):
        return self.panel.page(request, "account.title", "admin " + admin.username, account=admin)


class RouteClassTests(unittest.TestCase):
    """A route class added to the panel, as the contract says, with an administrator's page."""

    @defer.inlineCallbacks
    def setUp(self):
        served = yield serve(self)
        resource = panel_resource(served.components["panel"], ROUTE_CLASSES + [Probe])
        self.served = SimpleNamespace(client=InMemoryClient({}, fallback=resource))

    @defer.inlineCallbacks
    def test_admin_required(self):
        """A visitor goes to the login page, an account that is not an administrator gets 403, an administrator the page."""
        browser = Browser(self.served)
        page = yield browser.get("/probe")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/login"))
        yield browser.log_in("bob", "bobpass")
        page = yield browser.get("/probe")
        self.assertEqual((page.status, page.title()), (403, "Forbidden"))
        browser = Browser(self.served)
        yield browser.log_in("user", "secret")
        page = yield browser.get("/probe")
        self.assertEqual(page.status, 200)
        self.assertIn("admin user", page.main_text())
        self.assertIn('href="/admin"', page.text)
