"""
The account panel's administrator pages, in-process (L{tests.panel_helpers}):
the 403 page for others, the accounts list (search, filters, pages),
creation, edit, the state actions, deletion, the provisioning e-mail, the
API key (generated and shown once, used on /api, revoked), and the CSRF
refusal of every form, each with its effect (or none) in storage.
"""

import re

from twisted.internet import defer
from twisted.trial import unittest

from famd.accounts import new_account
from famd.credentials import ha1, realm_for
from famd.panel.sessions import id_hash
from tests.api_helpers import ADMIN_KEY, SEEDED
from tests.engines import on_engines
from tests.flows_fixtures import captured_logs, smtp_server
from tests.panel_helpers import HTML, Browser, serve_panel

BOB, CAROL = 2, 3
KEY = re.compile(r'<code id="api-key-value" class="secret">([^<]+)</code>')


def table_addresses(page):
    """The SIP addresses of the accounts table's rows."""
    return ["".join(cell.itertext()) for cell in page.tree.iter(HTML + "a")
            if (cell.get("href") or "").startswith("/admin/accounts/")
            and cell.get("href")[len("/admin/accounts/"):].isdigit()]


class AdminPagesTests(unittest.TestCase):
    """The administrator pages (SQLite here; MariaDB and PostgreSQL below)."""

    @defer.inlineCallbacks
    def setUp(self):
        self.delivery, sender = smtp_server(self)
        self.served, self.browser = yield serve_panel(self, email=sender)
        self.storage = self.served.storage

    @defer.inlineCallbacks
    def admin(self):
        """Log the administrator (user) in and open /admin (the new session's CSRF token)."""
        yield self.browser.log_in("user", "secret")
        page = yield self.browser.get("/admin")
        self.assertEqual(page.status, 200)
        return page

    @defer.inlineCallbacks
    def test_others_are_refused(self):
        """A visitor is sent to the login page, a logged-in non-administrator gets the 403 page, and their POSTs change nothing."""
        for path in ("/admin", "/admin/accounts", "/admin/accounts/1", "/admin/api-key",
                     "/admin/accounts/new", "/admin/accounts/1/delete"):
            page = yield self.browser.get(path)
            self.assertEqual((path, page.status, page.header("Location")), (path, 303, "/login"))
        yield self.browser.log_in("bob", "bobpass")
        yield self.browser.get("/account")
        for path in ("/admin", "/admin/accounts?q=user", "/admin/api-key"):
            page = yield self.browser.get(path)
            self.assertEqual((path, page.status), (path, 403))
        for path in ("/admin/accounts/3/activate", "/admin/accounts/1/block",
                     "/admin/accounts/2/admin", "/admin/accounts/1/delete", "/admin/api-key"):
            page = yield self.browser.post(path)
            self.assertEqual((path, page.status), (path, 403))
        page = yield self.browser.post("/admin/accounts/new", {"username": "eve", "password": "x" * 12})
        self.assertEqual(page.status, 403)
        user = yield self.storage.get_account(1)
        self.assertEqual((user.blocked, user.api_key), (False, ADMIN_KEY))
        self.assertFalse((yield self.storage.get_account(CAROL)).activated)
        self.assertIsNone((yield self.storage.get_account(BOB)).admin)
        self.assertIsNone((yield self.storage.find_account("eve", "sip.example.org")))

    @defer.inlineCallbacks
    def test_index_and_navigation(self):
        """The administrator's pages link the accounts and the API key; the nav links /admin."""
        page = yield self.admin()
        self.assertEqual(page.title(), "Administration")
        links = [a.get("href") for a in page.tree.iter(HTML + "a")]
        for href in ("/admin", "/admin/accounts", "/admin/api-key"):
            self.assertIn(href, links)

    @defer.inlineCallbacks
    def test_list_search_and_filters(self):
        """The list shows every account, and finds them by SIP address, e-mail, phone and state."""
        yield self.admin()
        yield self.browser.post("/admin/accounts/2", {"username": "bob", "phone": "+33612345678",
                                                      "email": "bob@example.net"})
        page = yield self.browser.get("/admin/accounts")
        self.assertEqual(page.status, 200)
        self.assertEqual(table_addresses(page), ["user@sip.example.org", "bob@sip.example.org",
                                                 "carol@sip.example.org"])
        self.assertIn("3 accounts found.", page.main_text())
        for query, found in (("q=sip:bob@sip.example.org", ["bob@sip.example.org"]),
                             ("q=EXAMPLE.NET", ["bob@sip.example.org"]),
                             ("q=%2B336123", ["bob@sip.example.org"]),
                             ("q=user%40example.org", ["user@sip.example.org"]),
                             ("activated=no", ["carol@sip.example.org"]),
                             ("admin=yes", ["user@sip.example.org"]),
                             ("admin=no&activated=yes", ["bob@sip.example.org"]),
                             ("blocked=yes", []),
                             ("q=nobody", [])):
            page = yield self.browser.get("/admin/accounts?" + query)
            self.assertEqual((query, page.status, table_addresses(page)), (query, 200, found))
        page = yield self.browser.get("/admin/accounts?activated=no&blocked=maybe")
        self.assertEqual(table_addresses(page), ["carol@sip.example.org"])

    @defer.inlineCallbacks
    def test_pages(self):
        """Twenty accounts a page, with next and previous links that keep the search."""
        config = self.served.config
        for number in range(25):
            yield self.storage.create_account(new_account(
                config, SEEDED, "many%02d" % (number,), "password-%d" % (number,), "MD5",
                activated=True))
        yield self.admin()
        page = yield self.browser.get("/admin/accounts?q=many")
        self.assertEqual(len(table_addresses(page)), 20)
        self.assertIn("25 accounts found.", page.main_text())
        self.assertIn("Page 1 of 2", page.main_text())
        links = [a.get("href") for a in page.tree.iter(HTML + "a")]
        self.assertIn("/admin/accounts?q=many&page=2", links)
        page = yield self.browser.get("/admin/accounts?q=many&page=2")
        self.assertEqual(table_addresses(page)[0], "many20@sip.example.org")
        self.assertEqual(len(table_addresses(page)), 5)
        self.assertIn("/admin/accounts?q=many&page=1", [a.get("href") for a in page.tree.iter(HTML + "a")])
        page = yield self.browser.get("/admin/accounts?q=many&page=999999999999999999999")
        self.assertEqual((page.status, len(table_addresses(page))), (200, 20))
        page = yield self.browser.get("/admin/accounts?page=9")
        self.assertEqual((page.status, table_addresses(page)), (200, []))

    @defer.inlineCallbacks
    def test_create(self):
        """A created account is stored with its fields and a SHA-256 password, then shown."""
        yield self.admin()
        yield self.browser.get("/admin/accounts/new")
        page = yield self.browser.post("/admin/accounts/new", {
            "username": "dave_1", "password": "dave-secret-1", "email": "dave@example.org",
            "phone": "+33698765432", "activated": "on"})
        self.assertEqual(page.status, 303)
        dave = yield self.storage.find_account("dave_1", "sip.example.org")
        self.assertEqual(page.header(b"location"), ("/admin/accounts/%d?done=created" % (dave.id,)).encode())
        self.assertEqual((dave.email, dave.phone, dave.activated, dave.admin, dave.blocked),
                         ("dave@example.org", "+33698765432", True, None, False))
        realm = realm_for(self.served.config.realm, "sip.example.org")
        self.assertIn(ha1("dave_1", realm, "dave-secret-1", "SHA-256"),
                      [password.password for password in dave.passwords])
        page = yield self.browser.get("/admin/accounts/%d?done=created" % (dave.id,))
        self.assertEqual(page.title(), "Account dave_1")
        self.assertIn("The account was created.", page.main_text())

    @defer.inlineCallbacks
    def test_create_refusals(self):
        """Bad or taken values re-render the form with the API's messages (422), and nothing is stored."""
        yield self.admin()
        yield self.browser.get("/admin/accounts/new")
        yield self.browser.post("/admin/accounts/new", {"username": "taken1", "password": "secret-1"})
        page = yield self.browser.post("/admin/accounts/new", {
            "username": "taken1", "password": "short", "email": "not-an-address", "phone": "12"})
        self.assertEqual(page.status, 422)
        text = page.main_text()
        self.assertIn("The username has already been taken.", text)
        self.assertIn("The email must be a valid email address.", text)
        self.assertIn("password", text)
        self.assertEqual(page.tree.find(".//%sinput[@name='username']" % (HTML,)).get("aria-invalid"), "true")
        self.assertNotIn("short", page.text)
        page = yield self.browser.post("/admin/accounts/new", {"username": "", "password": ""})
        self.assertEqual(page.status, 422)
        _, total = yield self.storage.list_accounts(0, 100)
        self.assertEqual(total, 4)

    @defer.inlineCallbacks
    def test_csrf(self):
        """Every administrator form posted without its CSRF token is the 403 page, and changes nothing."""
        yield self.admin()
        for path, fields in (("/admin/accounts/new", {"username": "eve", "password": "x" * 12}),
                             ("/admin/accounts/2", {"username": "bobby"}),
                             ("/admin/accounts/2/block", {}), ("/admin/accounts/3/activate", {}),
                             ("/admin/accounts/2/admin", {}), ("/admin/accounts/1/unadmin", {}),
                             ("/admin/accounts/1/provisioning", {}),
                             ("/admin/accounts/2/delete", {}), ("/admin/api-key", {}),
                             ("/admin/api-key/revoke", {})):
            page = yield self.browser.post(path, fields, csrf=False)
            self.assertEqual((path, page.status, page.title()), (path, 403, "Forbidden"))
            page = yield self.browser.post(path, dict(fields, __csrf_protection__="0" * 40), csrf=False)
            self.assertEqual((path, page.status), (path, 403))
        bob = yield self.storage.get_account(BOB)
        self.assertEqual((bob.username, bob.blocked, bob.admin), ("bob", False, None))
        self.assertFalse((yield self.storage.get_account(CAROL)).activated)
        self.assertEqual((yield self.storage.get_account(1)).api_key, ADMIN_KEY)
        self.assertEqual(self.delivery.messages, [])

    @defer.inlineCallbacks
    def test_edit(self):
        """The edit form rewrites the account with the API's rules; an empty password keeps the passwords."""
        yield self.admin()
        before = yield self.storage.get_account(BOB)
        page = yield self.browser.post("/admin/accounts/2", {
            "username": "robert", "password": "", "email": "robert@example.org",
            "phone": "+33611111111", "display_name": "Robert"})
        self.assertEqual((page.status, page.header(b"location")), (303, b"/admin/accounts/2?done=saved"))
        bob = yield self.storage.get_account(BOB)
        self.assertEqual((bob.username, bob.email, bob.phone, bob.display_name, bob.activated),
                         ("robert", "robert@example.org", "+33611111111", "Robert", True))
        self.assertEqual(bob.passwords, before.passwords)
        yield self.browser.post("/admin/accounts/2", {"username": "robert", "password": "a-new-password"})
        bob = yield self.storage.get_account(BOB)
        realm = realm_for(self.served.config.realm, "sip.example.org")
        self.assertIn(ha1("robert", realm, "a-new-password", "SHA-256"),
                      [password.password for password in bob.passwords])
        self.assertEqual((bob.email, bob.phone), (None, None))

    @defer.inlineCallbacks
    def test_edit_refusals(self):
        """A username or phone another account has is refused (422) and nothing changes."""
        yield self.admin()
        yield self.browser.post("/admin/accounts/3", {"username": "carol_2", "phone": "+33622222222"})
        page = yield self.browser.post("/admin/accounts/2", {"username": "carol_2", "phone": "+33622222222"})
        self.assertEqual(page.status, 422)
        self.assertIn("The username has already been taken.", page.main_text())
        self.assertIn("The phone has already been taken.", page.main_text())
        bob = yield self.storage.get_account(BOB)
        self.assertEqual((bob.username, bob.phone), ("bob", None))
        page = yield self.browser.post("/admin/accounts/2", {"username": "b o b"})
        self.assertEqual(page.status, 422)

    @defer.inlineCallbacks
    def test_states(self):
        """Activate, block (ending the account's sessions), unblock, make and revoke administrator, deactivate."""
        other = Browser(self.served)
        yield other.log_in("bob", "bobpass")
        self.assertEqual((yield other.get("/account")).status, 200)
        yield self.admin()
        steps = (("/admin/accounts/3/activate", CAROL, lambda a: a.activated),
                 ("/admin/accounts/2/block", BOB, lambda a: a.blocked),
                 ("/admin/accounts/2/unblock", BOB, lambda a: not a.blocked),
                 ("/admin/accounts/2/admin", BOB, lambda a: a.admin is not None),
                 ("/admin/accounts/2/unadmin", BOB, lambda a: a.admin is None),
                 ("/admin/accounts/3/deactivate", CAROL, lambda a: not a.activated))
        for path, account_id, holds in steps:
            page = yield self.browser.post(path)
            self.assertEqual(page.status, 303, path)
            self.assertTrue(page.header(b"location").startswith(b"/admin/accounts/%d?done=" % (account_id,)))
            self.assertTrue(holds((yield self.storage.get_account(account_id))), path)
            if path.endswith("/block"):
                self.assertEqual((yield other.get("/account")).header(b"location"), b"/login")
                answer = yield self.served.request("GET", "/accounts/me", sip="sip:bob@sip.example.org",
                                                   key="bobkey0123456789abcdefghijklmnopqrstuvwx")
                self.assertEqual(answer[0], 403)
        page = yield self.browser.get("/admin/accounts/2?done=unadmin")
        self.assertIn("The account is no longer an administrator.", page.main_text())

    @defer.inlineCallbacks
    def test_delete(self):
        """Deleting asks first, then removes the account and its sessions."""
        other = Browser(self.served)
        yield other.log_in("bob", "bobpass")
        session = id_hash(other.cookies["famd_session"])
        yield self.admin()
        page = yield self.browser.get("/admin/accounts/2/delete")
        self.assertEqual((page.status, page.title()), (200, "Delete bob?"))
        self.assertIsNotNone((yield self.storage.get_account(BOB)))
        page = yield self.browser.post("/admin/accounts/2/delete")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/admin/accounts?done=deleted"))
        self.assertIsNone((yield self.storage.get_account(BOB)))
        self.assertIsNone((yield self.storage.web_session(session, SEEDED, SEEDED)))
        self.assertEqual((yield self.browser.get("/admin/accounts/2")).status, 404)
        self.assertEqual((yield self.browser.post("/admin/accounts/2/delete")).status, 404)

    @defer.inlineCallbacks
    def test_unknown_account(self):
        """An account id no row has is the 404 page, for every page and action."""
        yield self.admin()
        for path in ("/admin/accounts/999", "/admin/accounts/999/delete",
                     "/admin/accounts/99999999999999999999999"):
            self.assertEqual((yield self.browser.get(path)).status, 404, path)
        for action in ("", "/activate", "/block", "/admin", "/provisioning", "/delete"):
            page = yield self.browser.post("/admin/accounts/999" + action, {"username": "x"})
            self.assertEqual(page.status, 404, action)

    @defer.inlineCallbacks
    def test_provisioning_email(self):
        """The provisioning e-mail goes to the account's address with a new token; without an address, a 422 page."""
        yield self.admin()
        before = yield self.storage.current_provisioning_token(1)
        page = yield self.browser.post("/admin/accounts/1/provisioning")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/admin/accounts/1?done=provisioning"))
        [(_, recipient, raw)] = self.delivery.messages
        self.assertEqual(recipient, "user@example.org")
        after = yield self.storage.current_provisioning_token(1)
        self.assertNotEqual(after.token, before.token)
        self.assertIn(("/provisioning/" + after.token).encode(), raw)
        page = yield self.browser.get("/admin/accounts/2")
        self.assertNotIn("/admin/accounts/2/provisioning", page.text)
        page = yield self.browser.post("/admin/accounts/2/provisioning")
        self.assertEqual(page.status, 422)
        self.assertIn("no e-mail address", page.main_text())
        self.assertEqual(len(self.delivery.messages), 1)

    @defer.inlineCallbacks
    def test_api_key(self):
        """A new key is shown once, works on /api in place of the old one, is never logged, and can be revoked."""
        logs = captured_logs(self)
        yield self.admin()
        page = yield self.browser.get("/admin/api-key")
        self.assertEqual(page.status, 200)
        self.assertIn("Keyyes", page.main_text())
        self.assertIn("2021-06-01 10:00:00 UTC", page.main_text())
        self.assertNotIn(ADMIN_KEY, page.text)
        page = yield self.browser.post("/admin/api-key")
        self.assertEqual(page.status, 200)
        [key] = KEY.findall(page.text)
        self.assertEqual((yield self.storage.get_account(1)).api_key, key)
        self.assertRegex(page.text, r'<script src="/assets/admin.js\?v=[0-9a-f]{16}" defer="defer"></script>')
        self.assertIn('hidden="hidden"', page.text)
        code, _, _ = yield self.served.request("GET", "/accounts", key=key)
        self.assertEqual(code, 200)
        code, _, _ = yield self.served.request("GET", "/accounts", key=ADMIN_KEY)
        self.assertIn(code, (401, 403))
        page = yield self.browser.get("/admin/api-key")
        self.assertNotIn(key, page.text)
        page = yield self.browser.post("/admin/api-key/revoke")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/admin/api-key?done=revoked"))
        self.assertIsNone((yield self.storage.get_account(1)).api_key)
        code, _, _ = yield self.served.request("GET", "/accounts", key=key)
        self.assertIn(code, (401, 403))
        page = yield self.browser.get("/admin/api-key?done=revoked")
        self.assertIn("Keyno", page.main_text())
        self.assertIn("Your API key was revoked.", page.main_text())
        self.assertFalse([line for line in logs if key in line])

    @defer.inlineCallbacks
    def test_script(self):
        """The copy script is served as JavaScript, cached, under the panel's CSP."""
        page = yield self.browser.get("/assets/admin.js")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header(b"content-type"), b"text/javascript; charset=utf-8")
        self.assertIn(b"navigator.clipboard", page.body)
        self.assertIn(b"script-src 'self'", page.header(b"content-security-policy"))


globals().update(on_engines(AdminPagesTests))
