"""
Admin POST /api/accounts through the real /api resource tree on every
storage engine: the stored rows, the 2021 answer, every 422 rule, and bodies that must get
a 4xx rather than a 500.
"""

import json
import re
from datetime import datetime, timezone

from twisted.internet import defer
from twisted.trial import unittest

from famd.accounts import new_account
from famd.errors import ODD_TEXT, Conflict
from famd.testing.storage_contract import NOW
from tests.api_helpers import ADMIN_KEY
from tests.engines import engine_of, on_engines
from tests.serving import serve

CREATE_KEYS = [
    "id", "username", "domain", "email", "activated", "confirmation_key", "ip_address",
    "user_agent", "creation_time", "realm", "phone", "confirmation_key_expires", "passwords",
    "admin", "email_changed", "activation_expiration",
]
INVALID = "The given data was invalid."


class CreateTests(unittest.TestCase):
    """Accounts created by an admin."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    def create(self, body, **kwargs):
        return self.api.json("POST", "/accounts", key=ADMIN_KEY, body=body, **kwargs)

    def rows(self, sql, *params):
        """Fire with the rows of one query, as tuples."""
        return self.api.storage.read("probe", lambda txn: [tuple(row) for row in txn.all(sql, params)])

    @defer.inlineCallbacks
    def test_minimal(self):
        """A minimal account is not activated, gets a 13-character key and sip_domain."""
        code, body, _ = yield self.create(
            {"username": "newuser", "password": "newpass", "algorithm": "MD5",
             "domain": "other.example.org"})
        self.assertEqual(code, 200)
        self.assertEqual(list(body), CREATE_KEYS)
        self.assertTrue(re.match(r"^[A-Za-z0-9]{13}$", body["confirmation_key"]))
        self.assertEqual(
            {k: v for k, v in body.items() if k != "confirmation_key"},
            {"id": 4, "username": "newuser", "domain": "sip.example.org", "email": None,
             "activated": False, "ip_address": "127.0.0.1", "user_agent": "famd",
             "creation_time": "2026-11-28 14:32:50", "realm": None, "phone": None,
             "confirmation_key_expires": None, "passwords": [{"algorithm": "MD5"}],
             "admin": None, "email_changed": None, "activation_expiration": None})
        self.assertEqual((yield self.rows('SELECT password, algorithm FROM passwords WHERE account_id = 4')),
                         [("bbea8034739c6ad48f140915b9aa15ed", "MD5")])
        self.assertEqual((yield self.rows("SELECT confirmation_key FROM accounts WHERE id = 4")),
                         [(body["confirmation_key"],)])

    @defer.inlineCallbacks
    def test_all_fields(self):
        """activated, admin, email, phone and SHA-256 are stored: admin row, alias, no key."""
        code, body, _ = yield self.create(
            {"username": "fullname", "password": "p4ssword", "algorithm": "SHA-256",
             "email": "full@example.org", "admin": True, "activated": True,
             "phone": "+33612345678", "confirmation_key_expires": "2040-01-02 03:04:05"})
        self.assertEqual(code, 200)
        self.assertEqual((body["activated"], body["confirmation_key"], body["phone"]),
                         (True, None, "+33612345678"))
        self.assertEqual(body["admin"], {"created_at": "2026-11-28T14:32:50.000000Z",
                                         "updated_at": "2026-11-28T14:32:50.000000Z"})
        self.assertEqual(body["passwords"], [{"algorithm": "SHA-256"}])
        self.assertIsNone(body["activation_expiration"])
        self.assertEqual((yield self.rows("SELECT alias, domain FROM aliases WHERE account_id = 4")),
                         [("+33612345678", "sip.example.org")])
        self.assertEqual(len((yield self.rows("SELECT 1 FROM admins WHERE account_id = 4"))), 1)
        self.assertEqual((yield self.rows("SELECT 1 FROM activation_expirations")), [])
        stored = (yield self.rows("SELECT password FROM passwords WHERE account_id = 4"))[0][0]
        self.assertEqual(len(stored), 64)
        self.assertNotIn(stored, json.dumps(body))

    @defer.inlineCallbacks
    def test_expiration(self):
        """confirmation_key_expires of a non-activated account is stored and shown."""
        code, body, _ = yield self.create(
            {"username": "expiring", "password": "pass123", "algorithm": "MD5",
             "confirmation_key_expires": "2040-01-02 03:04:05"})
        self.assertEqual(code, 200)
        self.assertEqual(body["confirmation_key_expires"], "2040-01-02 03:04:05")
        self.assertEqual(body["activation_expiration"], {
            "id": 1, "account_id": 4, "expires": "2040-01-02 03:04:05",
            "created_at": "2026-11-28T14:32:50.000000Z",
            "updated_at": "2026-11-28T14:32:50.000000Z"})

    @defer.inlineCallbacks
    def test_empty_body(self):
        """An empty object lists the three required fields in the 2021 order."""
        for body in ({}, None):
            code, answer, _ = yield self.create(body)
            self.assertEqual((code, answer), (422, {"message": INVALID, "errors": {
                "username": ["The username field is required."],
                "algorithm": ["The algorithm field is required."],
                "password": ["The password field is required."]}}))

    @defer.inlineCallbacks
    def test_every_failing_field(self):
        """One 422 lists every failing field, uniqueness included; nothing is written."""
        code, answer, _ = yield self.create(
            {"username": "bob", "password": "x", "algorithm": "SHA-1", "email": "not-an-email",
             "phone": "0612 34", "domain": "ab", "admin": "maybe", "activated": 1,
             "confirmation_key_expires": "2040-01-02"})
        self.assertEqual(code, 422)
        self.assertEqual(answer["errors"], {
            "username": ["The username must be at least 6 characters.",
                         "The username has already been taken."],
            "algorithm": ["The selected algorithm is invalid."],
            "password": ["The password must be at least 6 characters."],
            "email": ["The email must be a valid email address."],
            "activated": ["The activated field must be true or false."],
            "admin": ["The admin field must be true or false."],
            "confirmation_key_expires": [
                "The confirmation key expires does not match the format Y-m-d H:i:s."],
            "phone": ["The phone contains spaces",
                      "The phone must start with one of the following: +"]})
        self.assertEqual((yield self.rows("SELECT count(*) FROM accounts")), [(3,)])

    @defer.inlineCallbacks
    def test_strict_types(self):
        """A number is not a username or password, and booleans are true or false."""
        code, answer, _ = yield self.create(
            {"username": 12345678, "password": 12345678, "algorithm": ["MD5"],
             "email": 5, "activated": "true", "admin": 0, "phone": 33612345678,
             "confirmation_key_expires": 20400102})
        self.assertEqual(code, 422)
        self.assertEqual(answer["errors"], {
            "username": ["The username must be a string."],
            "algorithm": ["The selected algorithm is invalid."],
            "password": ["The password must be a string."],
            "email": ["The email must be a valid email address."],
            "activated": ["The activated field must be true or false."],
            "admin": ["The admin field must be true or false."],
            "confirmation_key_expires": [
                "The confirmation key expires does not match the format Y-m-d H:i:s."],
            "phone": ["The phone must be a string."]})

    @defer.inlineCallbacks
    def test_username_rules(self):
        """Usernames are 6 to 64 characters of a SIP user part and unique in the domain."""
        cases = {
            "a" * 65: "The username may not be greater than 64 characters.",
            "has space": "The username must be a valid SIP user part.",
            "at@domain": "The username must be a valid SIP user part.",
            "ctrl\x01char": "The username must be a valid SIP user part.",
            "ta\tbbed": "The username must be a valid SIP user part.",
            "newline\n": "The username must be a valid SIP user part.",
            "   ": "The username field is required.",
        }
        for username, message in cases.items():
            code, answer, _ = yield self.create(
                {"username": username, "password": "secret1", "algorithm": "MD5"})
            self.assertEqual((code, answer["errors"]), (422, {"username": [message]}), username)
        code, _, _ = yield self.create({"username": "a" * 64, "password": "secret1", "algorithm": "MD5"})
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_username_case(self):
        """Usernames differing in case are two accounts, but one on MariaDB, whose collation ignores case."""
        code, _, _ = yield self.create({"username": "casename", "password": "secret1",
                                        "algorithm": "MD5"})
        self.assertEqual(code, 200)
        code, answer, _ = yield self.create({"username": "CaseName", "password": "secret1",
                                             "algorithm": "MD5"})
        if engine_of(self) == "mysql":
            self.assertEqual((code, answer["errors"]),
                             (422, {"username": ["The username has already been taken."]}))
        else:
            self.assertEqual((code, answer["username"]), (200, "CaseName"))

    @defer.inlineCallbacks
    def test_phone_rules(self):
        """A phone is E.164 and unique among aliases and usernames."""
        yield self.create({"username": "phoneowner", "password": "secret1", "algorithm": "MD5",
                           "phone": "+33612345678"})
        yield self.api.storage.create_account(new_account(
            self.api.config, NOW, "+33700000000", "secret1", "MD5"))
        cases = {
            "+33612345678": ["The phone has already been taken."],
            "+33700000000": ["The phone has already been taken."],
            "+0612": ["The phone must be an E.164 number: + then up to 15 digits."],
            "+3361234567890123": ["The phone must be an E.164 number: + then up to 15 digits."],
            "+33a": ["The phone must be an E.164 number: + then up to 15 digits."],
            "+33612345679\n": ["The phone contains spaces"],
        }
        for phone, messages in cases.items():
            code, answer, _ = yield self.create(
                {"username": "phoneuser", "password": "secret1", "algorithm": "MD5", "phone": phone})
            self.assertEqual((code, answer["errors"]), (422, {"phone": messages}), phone)

    @defer.inlineCallbacks
    def test_other_rules(self):
        """Bad e-mails and impossible dates are 422, lone surrogates 400 (tests/test_api_odd_text.py), never 500."""
        cases = [
            ({"email": "a@b@c"}, "email"), ({"email": "x" * 60 + "@example.org"}, "email"),
            ({"email": "sp ace@example.org"}, "email"), ({"email": "a@example.org\n"}, "email"),
            ({"confirmation_key_expires": "2040-13-45 03:04:05"}, "confirmation_key_expires"),
            ({"password": "\ud800secret"}, None), ({"username": "\ud800abcdef"}, None),
        ]
        for extra, field in cases:
            body = {"username": "someone", "password": "secret1", "algorithm": "MD5"}
            body.update(extra)
            code, answer, _ = yield self.api.json(
                "POST", "/accounts", key=ADMIN_KEY,
                body=json.dumps(body, ensure_ascii=True).encode())
            if field is None:
                self.assertEqual((code, answer), (400, {"message": ODD_TEXT}), extra)
            else:
                self.assertEqual((code, list(answer["errors"])), (422, [field]), extra)

    @defer.inlineCallbacks
    def test_null_optional_fields(self):
        """null for an optional field means absent."""
        code, body, _ = yield self.create(
            {"username": "nullable", "password": "secret1", "algorithm": "MD5", "email": None,
             "phone": None, "activated": None, "admin": None, "confirmation_key_expires": None})
        self.assertEqual((code, body["activated"], body["admin"]), (200, False, None))

    @defer.inlineCallbacks
    def test_bad_bodies(self):
        """Bodies that are not a JSON object get a 4xx JSON message, never a 500."""
        for raw, expected in ((b"[1, 2]", 400), (b'"text"', 400), (b"{nope", 400),
                              (b"[" * 20000, 400), (b"\xff\xfe", 400), (b"null", 400)):
            code, answer, headers = yield self.api.json("POST", "/accounts", key=ADMIN_KEY, body=raw)
            self.assertEqual(code, expected, raw[:10])
            self.assertIn("message", answer)
            self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        code, answer, _ = yield self.api.json(
            "POST", "/accounts", key=ADMIN_KEY, body=b"username=formuser&password=pw",
            headers={b"Content-Type": [b"application/x-www-form-urlencoded"]})
        self.assertEqual(code, 415)
        self.assertIn("JSON", answer["message"])

    @defer.inlineCallbacks
    def test_body_limit(self):
        """A body above max_body_size gets 413; the account is not created."""
        api = yield serve(self, max_body_size=1024)
        body = {"username": "biguser", "password": "secret1", "algorithm": "MD5", "pad": "x" * 2000}
        code, answer, _ = yield api.json("POST", "/accounts", key=ADMIN_KEY, body=body)
        self.assertEqual(code, 413)
        self.assertIn("message", answer)
        account = yield api.storage.find_account("biguser", "sip.example.org")
        self.assertIsNone(account)

    @defer.inlineCallbacks
    def test_one_transaction(self):
        """A clash found inside the transaction leaves no row behind."""
        storage = self.api.storage
        yield self.create({"username": "first1", "password": "secret1", "algorithm": "MD5",
                           "phone": "+33611111111"})
        racing = new_account(self.api.config, NOW, "second", "secret1", "MD5", admin=True,
                             phone="+33611111111", activation_expires=datetime(2040, 1, 1, tzinfo=timezone.utc))
        failure = yield self.assertFailure(storage.create_and_load_account(racing), Conflict)
        self.assertEqual(failure.field, "phone")
        self.assertEqual((yield self.rows("SELECT count(*) FROM accounts")), [(4,)])
        self.assertEqual((yield self.rows("SELECT count(*) FROM passwords")), [(4,)])
        self.assertEqual((yield self.rows("SELECT count(*) FROM admins")), [(1,)])


globals().update(on_engines(CreateTests))
