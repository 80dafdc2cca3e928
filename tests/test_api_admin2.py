"""
The administrators' FAM 2.x routes through the real /api resource tree on
every storage engine: ``PUT /accounts/{id}``, ``POST
/accounts/{id}/activate|deactivate|block|unblock``, the two searches, an
account's devices and ``send_reset_password_email``; by API key and by
DIGEST, refused to others.
"""

import email
import re
from datetime import timedelta
from email import policy

from twisted.internet import defer, reactor
from twisted.trial import unittest

from famd.credentials import ha1
from famd.errors import Gone, NotFound
from famd.flows import Context
from famd.flows.reset_password import use_link
from famd.registrar.flexisip_cli import FlexisipCLIRegistrar
from famd.testing.registrar_contract import IOS_UA
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, answer, challenge_for, fake_cli_with_devices
from tests.engines import on_engines
from tests.flows_fixtures import captured_logs, smtp_down, smtp_server
from tests.serving import serve

DOMAIN = "sip.example.org"
ACCOUNT_2X_KEYS = [
    "id", "username", "domain", "email", "activated", "ip_address", "user_agent", "created_at",
    "display_name", "dtmf_protocol", "updated_at", "blocked", "admin", "phone",
    "provisioning_token", "provisioning_token_expire_at", "dictionary", "sip_uri", "passwords",
    "email_change_code", "types", "actions", "carddav_servers",
]
FULL_BODY = {
    "username": "bobby2", "password": "newpass", "email": "bob@example.org",
    "display_name": "Bob B.", "dtmf_protocol": "rfc2833", "phone": "+33612345678",
}
NON_ADMIN = {"message": "Unauthorized area"}


def no_account(account_id):
    return {"message": "No query results for model [App\\Account] %d" % (account_id,)}


class UpdateTests(unittest.TestCase):
    """PUT /api/accounts/{id}."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    def put(self, account_id, body, key=ADMIN_KEY):
        return self.api.json("PUT", "/accounts/%d" % (account_id,), key=key, body=body)

    @defer.inlineCallbacks
    def test_rewrites_the_account(self):
        """Every field sent is written and the 2.x account comes back; the password gets a SHA-256 HA1."""
        code, body, headers = yield self.put(2, FULL_BODY)
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        self.assertEqual(list(body), ACCOUNT_2X_KEYS)
        self.assertEqual(
            {key: body[key] for key in ("id", "username", "email", "display_name", "dtmf_protocol",
                                        "phone", "activated", "blocked", "admin", "sip_uri",
                                        "passwords")},
            {"id": 2, "username": "bobby2", "email": "bob@example.org", "display_name": "Bob B.",
             "dtmf_protocol": "rfc2833", "phone": "+33612345678", "activated": True,
             "blocked": False, "admin": False, "sip_uri": "sip:bobby2@sip.example.org",
             "passwords": [{"algorithm": "SHA-256"}]})
        stored = yield self.api.storage.get_account(2)
        self.assertEqual([(p.password, p.algorithm) for p in stored.passwords],
                         [(ha1("bobby2", DOMAIN, "newpass", "SHA-256"), "SHA-256")])
        self.assertEqual(stored.api_key, BOB_KEY)
        code, _, _ = yield self.api.json("GET", "/accounts/me", sip="sip:bobby2@sip.example.org",
                                         key=BOB_KEY)
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_omitted_fields_are_cleared(self):
        """Fields not sent again are null afterwards; no password keeps the passwords; flags stay."""
        yield self.put(2, FULL_BODY)
        code, body, _ = yield self.put(2, {"username": "bobby2"})
        self.assertEqual(code, 200)
        self.assertEqual(
            [body[key] for key in ("email", "display_name", "dtmf_protocol", "phone", "activated",
                                   "admin", "blocked", "passwords")],
            [None, None, None, None, True, False, False, [{"algorithm": "SHA-256"}]])
        self.assertFalse((yield self.api.storage.phone_in_use("+33612345678")))
        code, body, _ = yield self.put(2, {"username": "bobby2", "password": ""})
        self.assertEqual((code, body["passwords"]), (200, [{"algorithm": "SHA-256"}]))

    @defer.inlineCallbacks
    def test_flags_and_algorithm(self):
        """admin, activated and blocked are applied when present; an MD5 algorithm gives an MD5 HA1."""
        code, body, _ = yield self.put(3, {"username": "carol", "admin": True, "activated": True,
                                           "blocked": True, "password": "carolnew",
                                           "algorithm": "MD5"})
        self.assertEqual(code, 200)
        self.assertEqual((body["admin"], body["activated"], body["blocked"], body["passwords"]),
                         (True, True, True, [{"algorithm": "MD5"}]))
        stored = yield self.api.storage.get_account(3)
        self.assertIsNotNone(stored.admin)
        self.assertEqual(stored.passwords[0].password, ha1("carol", DOMAIN, "carolnew", "MD5"))
        code, body, _ = yield self.put(3, {"username": "carol", "admin": False, "blocked": False})
        self.assertEqual((body["admin"], body["activated"], body["blocked"]), (False, True, False))

    @defer.inlineCallbacks
    def test_validation(self):
        """Broken fields are one Laravel 422 listing each of them; nothing changes."""
        code, body, headers = yield self.put(2, {
            "username": "ab", "password": "123", "algorithm": "SHA-1", "email": "nope",
            "display_name": 5, "phone": "0612", "dtmf_protocol": "morse", "admin": "yes",
            "activated": 1, "blocked": "true"})
        self.assertEqual(code, 422)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        self.assertEqual(list(body["errors"]), [
            "username", "password", "algorithm", "email", "display_name", "phone",
            "dtmf_protocol", "admin", "activated", "blocked"])
        self.assertEqual(body["errors"]["dtmf_protocol"], ["The selected dtmf protocol is invalid."])
        self.assertEqual(body["errors"]["blocked"], ["The blocked field must be true or false."])
        self.assertEqual((yield self.api.storage.get_account(2)).username, "bob")

    @defer.inlineCallbacks
    def test_username_required_even_for_unknown_id(self):
        """A missing username is a 422 whatever the id; a valid body for an unknown id is a 404."""
        for account_id in (2, 9999):
            code, body, _ = yield self.put(account_id, {"email": "x@example.org"})
            self.assertEqual((code, body["errors"]), (422, {"username": ["The username field is required."]}))
        code, body, _ = yield self.put(9999, {"username": "nobody"})
        self.assertEqual((code, body), (404, no_account(9999)))
        code, body, _ = yield self.api.json("PUT", "/accounts/99999999999999999999999",
                                            key=ADMIN_KEY, body={"username": "nobody"})
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_taken_fields(self):
        """Another account's username or phone is "already taken"; the account's own are not."""
        yield self.put(3, {"username": "carol", "phone": "+33699999999"})
        code, _, _ = yield self.api.json("POST", "/accounts", key=ADMIN_KEY, body={
            "username": "userone", "password": "pass123", "algorithm": "MD5"})
        self.assertEqual(code, 200)
        code, body, _ = yield self.put(2, {"username": "userone", "phone": "+33699999999"})
        self.assertEqual((code, body["errors"]), (422, {
            "username": ["The username has already been taken."],
            "phone": ["The phone has already been taken."]}))
        code, body, _ = yield self.put(3, {"username": "carol", "phone": "+33699999999"})
        self.assertEqual((code, body["phone"]), (200, "+33699999999"))
        code, body, _ = yield self.put(2, {"username": "userone", "email": "x"})
        self.assertEqual(body["errors"], {
            "username": ["The username has already been taken."],
            "email": ["The email must be a valid email address."]})

    @defer.inlineCallbacks
    def test_bad_bodies(self):
        """A body that is not a JSON object is a 400."""
        code, _, _ = yield self.api.request("PUT", "/accounts/2", key=ADMIN_KEY, body=b"[1]")
        self.assertEqual(code, 400)


class StateTests(unittest.TestCase):
    """POST /api/accounts/{id}/activate|deactivate|block|unblock, beside the 2021 GET forms."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    def post(self, path, key=ADMIN_KEY):
        return self.api.json("POST", path, key=key, body={"ignored": True})

    @defer.inlineCallbacks
    def test_activate_deactivate(self):
        """POST activate and deactivate answer the 2.x account; the 2021 GET keeps its shape."""
        code, body, _ = yield self.post("/accounts/3/activate")
        self.assertEqual((code, body["activated"], list(body)), (200, True, ACCOUNT_2X_KEYS))
        self.assertTrue((yield self.api.storage.get_account(3)).activated)
        code, body, _ = yield self.post("/accounts/3/deactivate")
        self.assertEqual((code, body["activated"]), (200, False))
        self.assertFalse((yield self.api.storage.get_account(3)).activated)
        code, body, _ = yield self.api.json("GET", "/accounts/3/activate", key=ADMIN_KEY)
        self.assertEqual((code, body["creation_time"], body["activated"]),
                         (200, "2021-06-01 10:10:00", True))

    @defer.inlineCallbacks
    def test_block_unblock(self):
        """block and unblock set blocked and leave activation alone."""
        code, body, _ = yield self.post("/accounts/2/block")
        self.assertEqual((code, body["blocked"], body["activated"]), (200, True, True))
        self.assertTrue((yield self.api.storage.get_account(2)).blocked)
        code, body, _ = yield self.post("/accounts/2/unblock")
        self.assertEqual((code, body["blocked"]), (200, False))
        self.assertFalse((yield self.api.storage.get_account(2)).blocked)

    @defer.inlineCallbacks
    def test_unknown(self):
        """An unknown id is 404 on each."""
        for action in ("activate", "deactivate", "block", "unblock"):
            code, body, _ = yield self.post("/accounts/9999/" + action)
            self.assertEqual((code, body), (404, no_account(9999)), action)


class SearchTests(unittest.TestCase):
    """GET /api/accounts/{sip}/search and /api/accounts/{email}/search-by-email."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    @defer.inlineCallbacks
    def test_search_sip(self):
        """user@domain finds the account, with call_forwardings; an unknown or malformed one is 404."""
        code, body, headers = yield self.api.json(
            "GET", "/accounts/bob@sip.example.org/search", key=ADMIN_KEY, body={"x": 1})
        self.assertEqual((code, body["id"], body["username"]), (200, 2, "bob"))
        self.assertEqual(list(body), ACCOUNT_2X_KEYS + ["call_forwardings"])
        self.assertEqual(body["call_forwardings"], [])
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        for sip in ("nobody@sip.example.org", "bob@other.example.org", "bob", "@sip.example.org"):
            code, body, _ = yield self.api.json("GET", "/accounts/%s/search" % (sip,), key=ADMIN_KEY)
            self.assertEqual((code, body), (404, {"message": "SIP address not found"}), sip)

    @defer.inlineCallbacks
    def test_search_email(self):
        """The first account with the e-mail is found; an unknown e-mail is 404."""
        yield self.api.json("PUT", "/accounts/3", key=ADMIN_KEY,
                            body={"username": "carol", "email": "user@example.org"})
        code, body, _ = yield self.api.json(
            "GET", "/accounts/user@example.org/search-by-email", key=ADMIN_KEY)
        self.assertEqual((code, body["id"], body["email"]), (200, 1, "user@example.org"))
        self.assertEqual(body["call_forwardings"], [])
        code, body, _ = yield self.api.json(
            "GET", "/accounts/nobody@example.org/search-by-email", key=ADMIN_KEY)
        self.assertEqual((code, body), (404, {"message": "Email address not found"}))


class AdminDevicesTests(unittest.TestCase):
    """GET /api/accounts/{id}/devices and DELETE /api/accounts/{id}/devices/{uuid}."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, socket = yield fake_cli_with_devices(self)
        self.api = yield serve(self, registrar=FlexisipCLIRegistrar(reactor, socket=socket, timeout=2))

    @defer.inlineCallbacks
    def test_list_and_remove(self):
        """An admin lists an account's devices and removes one (bodies ignored); a second removal is 404."""
        code, body, _ = yield self.api.json("GET", "/accounts/2/devices", key=ADMIN_KEY,
                                            body={"device_uuid": "x"})
        self.assertEqual((code, sorted(body)), (200, ["urn:uuid:1111-aaaa", "urn:uuid:2222-bbbb"]))
        self.assertEqual(body["urn:uuid:2222-bbbb"]["user_agent"], IOS_UA)
        path = "/accounts/2/devices/urn:uuid:1111-aaaa"
        code, _, _ = yield self.api.json("DELETE", path, key=ADMIN_KEY,
                                         body={"device_uuid": "urn:uuid:1111-aaaa"})
        self.assertEqual(code, 200)
        self.assertIn(b'REGISTRAR_DELETE sip:bob@sip.example.org "<urn:uuid:1111-aaaa>"',
                      self.fake.commands)
        code, body, _ = yield self.api.json("GET", "/accounts/2/devices", key=ADMIN_KEY)
        self.assertEqual(list(body), ["urn:uuid:2222-bbbb"])
        code, body, _ = yield self.api.json("DELETE", path, key=ADMIN_KEY)
        self.assertEqual((code, body), (404, {"message": "No such device."}))

    @defer.inlineCallbacks
    def test_empty_and_unknown(self):
        """An account without devices gives {}; an unknown account is 404 without asking Flexisip."""
        code, body, _ = yield self.api.json("GET", "/accounts/1/devices", key=ADMIN_KEY)
        self.assertEqual((code, body), (200, {}))
        before = len(self.fake.commands)
        for method, path in (("GET", "/accounts/9999/devices"),
                             ("DELETE", "/accounts/9999/devices/urn:uuid:1111-aaaa")):
            code, body, _ = yield self.api.json(method, path, key=ADMIN_KEY)
            self.assertEqual((code, body), (404, no_account(9999)), path)
        self.assertEqual(len(self.fake.commands), before)

    @defer.inlineCallbacks
    def test_registrar_off(self):
        """With the none registrar the list is {} and a removal is 404."""
        api = yield serve(self)
        code, body, _ = yield api.json("GET", "/accounts/2/devices", key=ADMIN_KEY)
        self.assertEqual((code, body), (200, {}))
        code, _, _ = yield api.json("DELETE", "/accounts/2/devices/urn:uuid:1111-aaaa", key=ADMIN_KEY)
        self.assertEqual(code, 404)


_RESET_LINK = re.compile(r"(http://127\.0\.0\.1:8091/reset_password/([A-Za-z0-9]+))")


def mailed_reset_link(raw):
    """(link, token) of the plain-text part of a raw message."""
    message = email.message_from_bytes(raw, policy=policy.default)
    return _RESET_LINK.search(message.get_body(preferencelist=("plain",)).get_content()).groups()


def reset_tokens(storage):
    return storage.read("probe", lambda txn: txn.all(
        'SELECT "account_id", "token", "used", "email", "ip", "user_agent" '
        'FROM "reset_password_email_tokens" ORDER BY "id"'))


class ResetPasswordEmailTests(unittest.TestCase):
    """POST /api/accounts/{id}/send_reset_password_email."""

    @defer.inlineCallbacks
    def setUp(self):
        self.delivery, sender = smtp_server(self)
        self.api = yield serve(self, email=sender)

    def send(self, account_id, api=None):
        return (api or self.api).request(
            "POST", "/accounts/%d/send_reset_password_email" % (account_id,), key=ADMIN_KEY,
            headers={b"User-Agent": [b"admin-tool/1.0"]})

    def context(self):
        return Context.from_config(self.api.config, self.api.storage, self.api.now)

    @defer.inlineCallbacks
    def test_mails_a_single_use_link(self):
        """The account's address gets a 16-character link under public_url, stored unused, usable once."""
        logs = captured_logs(self)
        code, headers, content = yield self.send(1)
        self.assertEqual((code, content), (200, b""))
        [(_, recipient, raw)] = self.delivery.messages
        self.assertEqual(recipient, "user@example.org")
        link, token = mailed_reset_link(raw)
        self.assertEqual(len(token), 16)
        rows = yield reset_tokens(self.api.storage)
        self.assertEqual([(r[0], r[1], bool(r[2]), r[3], r[4], r[5]) for r in rows],
                         [(1, token, False, "user@example.org", "127.0.0.1", "admin-tool/1.0")])
        context = self.context()
        self.assertEqual((yield use_link(context, token)), 1)
        yield self.assertFailure(use_link(context, token), NotFound)
        yield self.assertFailure(use_link(context, token.swapcase()), NotFound)
        self.assertFalse([line for line in logs if token in line])

    @defer.inlineCallbacks
    def test_lifetime_in_words(self):
        """The message says how long the link works, right for any reset_password_email_lifetime."""
        for lifetime, words in ((86400, "1 day"), (1800, "30 minutes"), (5400, "1 hour and 30 minutes"),
                                (90061, "1 day, 1 hour, 1 minute and 1 second")):
            delivery, sender = smtp_server(self)
            api = yield serve(self, email=sender, reset_password_email_lifetime=lifetime)
            code, _, _ = yield self.send(1, api)
            self.assertEqual(code, 200)
            [(_, _, raw)] = delivery.messages
            message = email.message_from_bytes(raw, policy=policy.default)
            for kind in ("plain", "html"):
                text = " ".join(message.get_body(preferencelist=(kind,)).get_content().split())
                self.assertIn("it works once, for %s)" % (words,), text)

    @defer.inlineCallbacks
    def test_link_expires(self):
        """After reset_password_email_lifetime the link is Gone."""
        yield self.send(1)
        [(_, _, raw)] = self.delivery.messages
        _, token = mailed_reset_link(raw)
        self.api.clock.advance(timedelta(days=1, seconds=1).total_seconds())
        yield self.assertFailure(use_link(self.context(), token), Gone)

    @defer.inlineCallbacks
    def test_refusals(self):
        """No e-mail is 403 "No email configured", an unknown id 404; nothing is sent or stored."""
        code, _, content = yield self.send(2)
        self.assertEqual((code, content), (403, b'{"message":"No email configured"}'))
        code, _, content = yield self.send(9999)
        self.assertEqual(code, 404)
        self.assertEqual(self.delivery.messages, [])
        self.assertEqual((yield reset_tokens(self.api.storage)), [])

    @defer.inlineCallbacks
    def test_email_down_or_off(self):
        """An SMTP server down is 503 and stores no token; no e-mail backend is 503 and stores nothing."""
        down = yield serve(self, email=smtp_down())
        code, _, _ = yield self.send(1, down)
        self.assertEqual(code, 503)
        self.assertEqual((yield reset_tokens(down.storage)), [])
        off = yield serve(self)
        code, _, _ = yield self.send(1, off)
        self.assertEqual(code, 503)
        self.assertEqual((yield reset_tokens(off.storage)), [])


class AdminAccessTests(unittest.TestCase):
    """Who may use the 2.x admin routes."""

    ROUTES = (
        ("PUT", "/accounts/2"), ("POST", "/accounts/2/activate"), ("POST", "/accounts/2/deactivate"),
        ("POST", "/accounts/2/block"), ("POST", "/accounts/2/unblock"),
        ("GET", "/accounts/bob@sip.example.org/search"),
        ("GET", "/accounts/user@example.org/search-by-email"), ("GET", "/accounts/2/devices"),
        ("DELETE", "/accounts/2/devices/urn:uuid:1111-aaaa"),
        ("POST", "/accounts/1/send_reset_password_email"),
    )

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    @defer.inlineCallbacks
    def test_non_admin_forbidden(self):
        """A non-admin gets 403 "Unauthorized area" on every route, and nothing changes."""
        for method, path in self.ROUTES:
            code, body, _ = yield self.api.json(method, path, sip=BOB, key=BOB_KEY,
                                                body={"username": "hacked"})
            self.assertEqual((code, body), (403, NON_ADMIN), path)
        stored = yield self.api.storage.get_account(2)
        self.assertEqual((stored.username, stored.blocked), ("bob", False))

    @defer.inlineCallbacks
    def test_authentication_required(self):
        """Without credentials every route answers 401 with a challenge."""
        for method, path in self.ROUTES:
            code, body, headers = yield self.api.json(method, path, body={"username": "hacked"})
            self.assertEqual((code, body), (401, {"message": "Unauthenticated request"}), path)
            self.assertTrue(headers.getRawHeaders(b"www-authenticate"), path)

    @defer.inlineCallbacks
    def test_admin_by_digest(self):
        """An administrator may use DIGEST instead of a key, as in FAM 2.0."""
        offered = yield challenge_for(self.api)
        code, body, _ = yield self.api.json(
            "POST", "/accounts/2/block",
            authorization=answer(offered, "user", "secret", "POST", "/api/accounts/2/block"))
        self.assertEqual((code, body["blocked"]), (200, True))
        offered = yield challenge_for(self.api)
        code, body, _ = yield self.api.json(
            "PUT", "/accounts/2", body={"username": "bobdigest"},
            authorization=answer(offered, "user", "secret", "PUT", "/api/accounts/2"))
        self.assertEqual((code, body["username"]), (200, "bobdigest"))


globals().update(on_engines(
    UpdateTests, StateTests, SearchTests, AdminDevicesTests, ResetPasswordEmailTests, AdminAccessTests))
