"""
The account endpoints through the real /api resource tree on every storage
engine: the status codes and JSON shapes of fam-2021-transcripts.md, with
its deliberate differences.
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, CAROL
from tests.engines import on_engines
from tests.serving import serve

ME_USER = (
    '{"id":1,"username":"user","domain":"sip.example.org","email":"user@example.org",'
    '"activated":true,"ip_address":"127.0.0.1","user_agent":"seed",'
    '"creation_time":"2021-06-01 10:00:00","realm":null,"phone":null,'
    '"confirmation_key_expires":null,"passwords":[{"algorithm":"MD5"}],'
    '"admin":{"created_at":"2021-06-01T10:00:00.000000Z","updated_at":"2021-06-01T10:00:00.000000Z"},'
    '"email_changed":null,"activation_expiration":null}'
)
ME_BOB = (
    '{"id":2,"username":"bob","domain":"sip.example.org","email":null,"activated":true,'
    '"ip_address":"127.0.0.1","user_agent":"seed","creation_time":"2021-06-01 10:05:00",'
    '"realm":null,"phone":null,"confirmation_key_expires":null,'
    '"passwords":[{"algorithm":"MD5"}],"admin":null,"email_changed":null,'
    '"activation_expiration":null}'
)
FULL_KEYS = [
    "id", "username", "domain", "email", "activated", "ip_address", "user_agent",
    "creation_time", "realm", "phone", "confirmation_key_expires", "passwords", "admin",
    "email_changed", "activation_expiration",
]
NO_ACCOUNT = {"message": "No query results for model [App\\Account]."}


class PublicTests(unittest.TestCase):
    """GET /api/accounts/{sip}/info."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    @defer.inlineCallbacks
    def test_info(self):
        """Known accounts answer {"activated", "realm"} without authentication."""
        for sip, activated in (("user@sip.example.org", True), ("carol@sip.example.org", False)):
            code, _, body = yield self.api.request("GET", "/accounts/%s/info" % (sip,), sip=None)
            self.assertEqual((code, body), (200, b'{"activated":%s,"realm":null}'
                                            % (b"true" if activated else b"false",)))

    @defer.inlineCallbacks
    def test_info_realm(self):
        """The realm shown is the configured one."""
        api = yield serve(self, realm="famd.example.org")
        code, body, _ = yield api.json("GET", "/accounts/user@sip.example.org/info")
        self.assertEqual((code, body), (200, {"activated": True, "realm": "famd.example.org"}))

    @defer.inlineCallbacks
    def test_info_unknown(self):
        """An unknown account, or a sip without @, is a JSON 404."""
        for sip in ("nobody@sip.example.org", "user", "@sip.example.org", "user@"):
            code, body, headers = yield self.api.json("GET", "/accounts/%s/info" % (sip,))
            self.assertEqual((code, body), (404, NO_ACCOUNT), sip)
            self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])


class MeTests(unittest.TestCase):
    """GET and DELETE /api/accounts/me."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    @defer.inlineCallbacks
    def test_me_admin(self):
        """The admin's own account is the 2021 object, byte for byte."""
        code, headers, body = yield self.api.request("GET", "/accounts/me", key=ADMIN_KEY)
        self.assertEqual((code, body.decode()), (200, ME_USER))
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        self.assertIsNone(headers.getRawHeaders(b"www-authenticate"))

    @defer.inlineCallbacks
    def test_me_user(self):
        """A non-admin sees admin null, and neither a hash nor a key."""
        code, _, body = yield self.api.request("GET", "/accounts/me", sip=BOB, key=BOB_KEY)
        self.assertEqual((code, body.decode()), (200, ME_BOB))
        self.assertEqual(list(json.loads(body)), FULL_KEYS)
        self.assertNotIn(BOB_KEY.encode(), body)

    @defer.inlineCallbacks
    def test_delete_me(self):
        """DELETE /me answers 1 (as in 2021) and the account is gone: /me is then 404."""
        code, _, body = yield self.api.request("DELETE", "/accounts/me", sip=BOB, key=BOB_KEY)
        self.assertEqual((code, body), (200, b"1"))
        code, body, _ = yield self.api.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY)
        self.assertEqual((code, body), (404, NO_ACCOUNT))

    @defer.inlineCallbacks
    def test_me_requires_activation(self):
        """A not activated account gets 401 even with its right key."""
        yield self.api.storage.set_api_key(3, "carolkey", self.api.now())
        code, body, headers = yield self.api.json("GET", "/accounts/me", sip=CAROL, key="carolkey")
        self.assertEqual((code, body), (401, {"message": "Unauthenticated request"}))
        self.assertEqual(len(headers.getRawHeaders(b"www-authenticate")), 1)


class AdminAccessTests(unittest.TestCase):
    """Admin endpoints need an admins row or everyone_is_admin."""

    @defer.inlineCallbacks
    def test_non_admin_forbidden(self):
        """A non-admin gets 403 "Unauthorized area" on every admin endpoint."""
        api = yield serve(self)
        for method, path in (("GET", "/accounts"), ("POST", "/accounts"), ("GET", "/accounts/1"),
                             ("DELETE", "/accounts/1"), ("GET", "/accounts/1/activate"),
                             ("GET", "/accounts/1/deactivate")):
            code, body, _ = yield api.json(method, path, sip=BOB, key=BOB_KEY, body={})
            self.assertEqual((code, body), (403, {"message": "Unauthorized area"}), path)

    @defer.inlineCallbacks
    def test_everyone_is_admin(self):
        """With everyone_is_admin, any authenticated account may list accounts."""
        api = yield serve(self, everyone_is_admin=True)
        code, body, _ = yield api.json("GET", "/accounts", sip=BOB, key=BOB_KEY)
        self.assertEqual((code, body["total"]), (200, 3))

    @defer.inlineCallbacks
    def test_admin_endpoints_need_authentication(self):
        """Without credentials an admin endpoint answers 401 with a challenge."""
        api = yield serve(self)
        code, body, headers = yield api.json("GET", "/accounts")
        self.assertEqual((code, body), (401, {"message": "Unauthenticated request"}))
        self.assertTrue(headers.getRawHeaders(b"www-authenticate"))


class ShowActivateDeleteTests(unittest.TestCase):
    """GET/DELETE /api/accounts/{id}, /activate, /deactivate."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)
        code, self.created, _ = yield self.api.json(
            "POST", "/accounts", key=ADMIN_KEY,
            body={"username": "newuser", "password": "newpass", "algorithm": "MD5",
                  "confirmation_key_expires": "2040-01-02 03:04:05", "phone": "+33612345678"})
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_show(self):
        """Show has the confirmation key after activated, and no passwords or admin."""
        code, body, _ = yield self.api.json("GET", "/accounts/4", key=ADMIN_KEY)
        self.assertEqual(code, 200)
        self.assertEqual(list(body), [
            "id", "username", "domain", "email", "activated", "confirmation_key", "ip_address",
            "user_agent", "creation_time", "realm", "phone", "confirmation_key_expires",
            "email_changed", "activation_expiration"])
        self.assertEqual(body["confirmation_key"], self.created["confirmation_key"])
        self.assertEqual(body["phone"], "+33612345678")
        self.assertEqual(body["activation_expiration"], self.created["activation_expiration"])

    @defer.inlineCallbacks
    def test_unknown_ids(self):
        """Unknown ids are 404 naming the id; non-numeric or huge ids are 404 too."""
        for method, path in (("GET", "/accounts/9999"), ("DELETE", "/accounts/9999"),
                             ("GET", "/accounts/9999/activate"),
                             ("GET", "/accounts/9999/deactivate")):
            code, body, _ = yield self.api.json(method, path, key=ADMIN_KEY)
            self.assertEqual((code, body), (404, {
                "message": "No query results for model [App\\Account] 9999"}), path)
        for path in ("/accounts/99999999999999999999999", "/accounts/abc", "/accounts/" + "9" * 5000,
                     "/accounts/-1", "/accounts/99999999999999999999999/activate"):
            code, body, _ = yield self.api.json("GET", path, key=ADMIN_KEY)
            self.assertEqual(code, 404, path)
            self.assertIn("message", body)

    @defer.inlineCallbacks
    def test_activate_deactivate(self):
        """activate and deactivate answer the full object without the key."""
        code, body, _ = yield self.api.json("GET", "/accounts/4/activate", key=ADMIN_KEY)
        self.assertEqual((code, body["activated"]), (200, True))
        self.assertEqual(list(body), FULL_KEYS)
        self.assertEqual(body["passwords"], [{"algorithm": "MD5"}])
        code, body, _ = yield self.api.json("GET", "/accounts/4/deactivate", key=ADMIN_KEY)
        self.assertEqual((code, body["activated"]), (200, False))
        stored = yield self.api.storage.get_account(4)
        self.assertFalse(stored.activated)

    @defer.inlineCallbacks
    def test_delete_removes_everything(self):
        """Deleting an account removes its passwords, nonces, key, aliases and codes; again is 404."""
        yield self.api.storage.set_api_key(4, "key4", self.api.now())
        yield self.api.storage.set_admin(4, True, self.api.now())
        yield self.api.storage.create_nonce(4, "nonce4", self.api.now())
        yield self.api.storage.write("probe", lambda txn: (
            txn.execute("INSERT INTO phone_change_codes (account_id, code, phone) "
                        "VALUES (4, '1234', '+33600000000')"),
            txn.execute("INSERT INTO email_changed (account_id, new_email, hash) "
                        "VALUES (4, 'n@example.org', 'h')")))
        code, body, _ = yield self.api.json("DELETE", "/accounts/4", key=ADMIN_KEY)
        self.assertEqual((code, body), (200, {}))
        for table in ("passwords", "nonces", "api_keys", "aliases", "phone_change_codes",
                      "email_changed", "admins", "activation_expirations"):
            count = yield self.api.storage.read("probe", lambda txn: txn.scalar(
                "SELECT count(*) FROM %s WHERE account_id = 4" % (table,)))
            self.assertEqual(count, 0, table)
        code, body, _ = yield self.api.json("DELETE", "/accounts/4", key=ADMIN_KEY)
        self.assertEqual((code, body), (404, {"message": "No query results for model [App\\Account] 4"}))


globals().update(on_engines(PublicTests, MeTests, AdminAccessTests, ShowActivateDeleteTests))
