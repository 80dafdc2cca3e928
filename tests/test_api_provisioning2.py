"""
FAM 2.x provisioning through famd's whole site in memory, on every engine:
provisioning tokens (``/api/accounts/me/provision``, the admin variant,
``/provisioning/{provisioning_token}``, expiry, ``?reset_password``),
``/provisioning/me``, the QR codes of both key kinds, the QR login (auth
tokens, API keys) and the provisioning e-mail through a real SMTP server.
"""

import email
import hashlib
import io
import json
import re
from datetime import timedelta
from email import policy

from PIL import Image
from pyzbar import pyzbar
from twisted.internet import defer
from twisted.trial import unittest

from famd.clock import laravel
from famd.logsafe import redact
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, PUBLIC_URL, USER, answer, challenges
from tests.engines import on_engines
from tests.flows_fixtures import captured_logs, smtp_server
from tests.serving import serve
from tests.test_provisioning_document import values_of

BOB_MD5 = hashlib.md5(b"bob:sip.example.org:bobpass").hexdigest()
LINPHONE = {b"X-Linphone-Provisioning": [b"1"]}


def provisioning(served, path, headers=None, **kwargs):
    """GET C{path} under /provisioning, anonymously unless told: (status, headers, body)."""
    kwargs.setdefault("sip", None)
    return served.request("GET", path, base="/provisioning", headers=headers, **kwargs)


def identity(body):
    """The reg_identity of the account a document carries, or None."""
    values = values_of(body)
    found = [entries["reg_identity"] for entries in values.values() if "reg_identity" in entries]
    return found[0] if found else None


class ProvisioningTokenTests(unittest.TestCase):
    """Provisioning tokens: issued, served once, replaced, expired, reset."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self, provisioning={"token_lifetime": 600})

    @defer.inlineCallbacks
    def provision_bob(self):
        code, body, headers = yield self.served.json("GET", "/accounts/me/provision", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        return body

    @defer.inlineCallbacks
    def test_accounts_get_a_token_at_creation(self):
        """An account created by any path has a current provisioning token from the start."""
        code, created, _ = yield self.served.json(
            "POST", "/accounts", key=ADMIN_KEY,
            body={"username": "davidx", "password": "davepass", "algorithm": "SHA-256",
                  "domain": "sip.example.org"})
        self.assertEqual(code, 200, created)
        issued = yield self.served.storage.current_provisioning_token(created["id"])
        self.assertEqual(len(issued.token), 13)
        code, _, body = yield provisioning(self.served, "/" + issued.token)
        self.assertEqual((code, identity(body)), (200, "sip:davidx@sip.example.org"))

    @defer.inlineCallbacks
    def test_blocked_account_not_provisioned(self):
        """
        A blocked account's provisioning token or 2021 confirmation key gives 403 Account blocked, no
        credentials, and consumes nothing: the token stays current, the key valid, the account not
        activated, its passwords kept (?reset_password too).
        """
        code, body, _ = yield self.served.json("GET", "/accounts/3/provision", key=ADMIN_KEY)
        self.assertEqual(code, 200)
        token = body["provisioning_token"]
        carol = yield self.served.storage.get_account(3)
        yield self.served.storage.set_blocked(3, True)
        for key in (token, carol.confirmation_key):
            for query in ("", "?reset_password"):
                code, _, content = yield provisioning(self.served, "/" + key + query, headers=LINPHONE)
                self.assertEqual((code, json.loads(content)), (403, {"message": "Account blocked"}))
        now = yield self.served.storage.get_account(3)
        self.assertEqual((now.activated, now.passwords, now.confirmation_key),
                         (False, carol.passwords, carol.confirmation_key))
        self.assertEqual((yield self.served.storage.current_provisioning_token(3)).token, token)
        yield self.served.storage.set_blocked(3, False)
        code, _, document = yield provisioning(self.served, "/" + token)
        self.assertEqual((code, identity(document)), (200, "sip:carol@sip.example.org"))
        self.assertTrue((yield self.served.storage.get_account(3)).activated)

    @defer.inlineCallbacks
    def test_me_provision_serves_once(self):
        """me/provision answers the 2.x account with a new token; the token provisions once, then 404."""
        body = yield self.provision_bob()
        token = body["provisioning_token"]
        self.assertEqual((len(token), body["username"], body["sip_uri"]), (13, "bob", "sip:bob@sip.example.org"))
        self.assertEqual(body["provisioning_token_expire_at"],
                         laravel(self.served.now() + timedelta(seconds=600)))
        self.assertNotIn("api_key", body)
        code, headers, document = yield provisioning(self.served, "/" + token, headers=LINPHONE)
        self.assertEqual((code, headers.getRawHeaders(b"content-type")), (200, [b"application/xml"]))
        self.assertEqual(identity(document), "sip:bob@sip.example.org")
        auth = [v for v in values_of(document).values() if "ha1" in v]
        self.assertEqual([(a["ha1"], a["algorithm"]) for a in auth], [(BOB_MD5, "MD5")])
        code, _, again = yield provisioning(self.served, "/" + token)
        self.assertEqual((code, again), (404, b'{"message":"Unknown or used provisioning token"}'))
        self.assertIsNone((yield self.served.storage.current_provisioning_token(2)))

    @defer.inlineCallbacks
    def test_new_token_replaces_older(self):
        """Issuing a token makes the earlier one 404, without the header too."""
        first = (yield self.provision_bob())["provisioning_token"]
        second = (yield self.provision_bob())["provisioning_token"]
        self.assertNotEqual(first, second)
        code, _, _ = yield provisioning(self.served, "/" + first)
        self.assertEqual(code, 404)
        code, _, document = yield provisioning(self.served, "/" + second)
        self.assertEqual((code, identity(document)), (200, "sip:bob@sip.example.org"))

    @defer.inlineCallbacks
    def test_admin_provision_activates(self):
        """An admin issues a token for a not activated account; serving it activates the account."""
        code, body, _ = yield self.served.json("GET", "/accounts/3/provision", key=ADMIN_KEY)
        self.assertEqual((code, body["username"], body["activated"]), (200, "carol", False))
        # The owner's view: no pending codes (none are loaded), so no phone_change_code.
        self.assertNotIn("phone_change_code", body)
        self.assertIsNone(body["email_change_code"])
        code, _, document = yield provisioning(self.served, "/" + body["provisioning_token"])
        self.assertEqual((code, identity(document)), (200, "sip:carol@sip.example.org"))
        self.assertTrue((yield self.served.storage.get_account(3)).activated)

    @defer.inlineCallbacks
    def test_admin_provision_refusals(self):
        """Not an admin: 403; no such account: 404; no credentials: 401."""
        code, _, _ = yield self.served.json("GET", "/accounts/3/provision", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 403)
        code, body, _ = yield self.served.json("GET", "/accounts/99/provision", key=ADMIN_KEY)
        self.assertEqual((code, body["message"]), (404, "No query results for model [App\\Account] 99"))
        code, _, _ = yield self.served.json("GET", "/accounts/me/provision", sip=BOB)
        self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_expired_token_is_gone(self):
        """A token older than provisioning.token_lifetime answers 410 and provisions nothing."""
        token = (yield self.provision_bob())["provisioning_token"]
        self.served.clock.advance(601)
        code, _, body = yield provisioning(self.served, "/" + token)
        self.assertEqual((code, body), (410, b'{"message":"Expired"}'))
        fresh = (yield self.provision_bob())["provisioning_token"]
        code, _, _ = yield provisioning(self.served, "/" + fresh)
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_reset_password(self):
        """?reset_password stores a new random password whose HA1 the document carries."""
        token = (yield self.provision_bob())["provisioning_token"]
        code, _, document = yield provisioning(self.served, "/" + token + "?reset_password")
        self.assertEqual(code, 200)
        [auth] = [v for v in values_of(document).values() if "ha1" in v]
        self.assertNotEqual(auth["ha1"], BOB_MD5)
        stored = (yield self.served.storage.get_account(2)).passwords
        self.assertEqual([(p.password, p.algorithm) for p in stored], [(auth["ha1"], "MD5")])

    @defer.inlineCallbacks
    def test_unknown_key_gets_defaults(self):
        """A key that is neither a token nor a confirmation key gets the defaults, as in 2021."""
        code, _, document = yield provisioning(self.served, "/neitherkey123")
        self.assertEqual((code, identity(document)), (200, None))

    @defer.inlineCallbacks
    def test_confirmation_key_still_provisions(self):
        """The 2021 confirmation key path keeps working beside the tokens."""
        key = (yield self.served.storage.get_account(3)).confirmation_key
        code, _, document = yield provisioning(self.served, "/" + key)
        self.assertEqual((code, identity(document)), (200, "sip:carol@sip.example.org"))
        code, _, document = yield provisioning(self.served, "/" + key)
        self.assertEqual((code, identity(document)), (200, None))

    @defer.inlineCallbacks
    def test_qrcode_of_a_token(self):
        """A provisioning token's QR code holds its URL, also in X-Qrcode-URL, and consumes nothing."""
        token = (yield self.provision_bob())["provisioning_token"]
        for query, suffix in (("", ""), ("?reset_password", "?reset_password=1")):
            code, headers, png = yield provisioning(self.served, "/qrcode/" + token + query)
            url = PUBLIC_URL + "/provisioning/" + token + suffix
            self.assertEqual((code, headers.getRawHeaders(b"content-type")), (200, [b"image/png"]))
            self.assertEqual(headers.getRawHeaders(b"x-qrcode-url"), [url.encode("ascii")])
            symbols = pyzbar.decode(Image.open(io.BytesIO(png)))
            self.assertEqual([s.data.decode("ascii") for s in symbols], [url])
        code, _, _ = yield provisioning(self.served, "/" + token)
        self.assertEqual(code, 200)
        code, _, _ = yield provisioning(self.served, "/qrcode/" + token)
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_qrcode_of_a_confirmation_key(self):
        """A 2021 confirmation key's QR code carries X-Qrcode-URL too."""
        key = (yield self.served.storage.get_account(3)).confirmation_key
        code, headers, _ = yield provisioning(self.served, "/qrcode/" + key)
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"x-qrcode-url"),
                         [(PUBLIC_URL + "/provisioning/" + key).encode("ascii")])


class ProvisioningMeTests(unittest.TestCase):
    """GET /provisioning/me: the caller's own document, any time."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    @defer.inlineCallbacks
    def test_api_key(self):
        """With an API key the document comes every time and no token is consumed."""
        before = yield self.served.storage.current_provisioning_token(2)
        for _ in range(2):
            code, _, document = yield provisioning(self.served, "/me", sip=BOB, key=BOB_KEY)
            self.assertEqual((code, identity(document)), (200, "sip:bob@sip.example.org"))
        self.assertEqual((yield self.served.storage.current_provisioning_token(2)), before)

    @defer.inlineCallbacks
    def test_digest(self):
        """Without credentials the answer is a DIGEST challenge, which liblinphone answers."""
        code, headers, body = yield provisioning(self.served, "/me", sip=BOB, headers=LINPHONE)
        self.assertEqual(code, 401)
        [challenge] = challenges(headers)
        authorization = answer(challenge, "bob", "bobpass", "GET", "/provisioning/me")
        code, _, document = yield provisioning(
            self.served, "/me", sip=BOB, authorization=authorization, headers=LINPHONE)
        self.assertEqual((code, identity(document)), (200, "sip:bob@sip.example.org"))

    @defer.inlineCallbacks
    def test_reset_password(self):
        """?reset_password works on /provisioning/me too."""
        code, _, document = yield provisioning(self.served, "/me?reset_password=1", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 200)
        [auth] = [v for v in values_of(document).values() if "ha1" in v]
        stored = (yield self.served.storage.get_account(2)).passwords
        self.assertEqual([p.password for p in stored], [auth["ha1"]])
        self.assertNotEqual(auth["ha1"], BOB_MD5)

    @defer.inlineCallbacks
    def test_wrong_key(self):
        """A wrong API key is a 401, never the defaults."""
        code, _, _ = yield provisioning(self.served, "/me", sip=BOB, key="wrong")
        self.assertEqual(code, 401)


class QRLoginTests(unittest.TestCase):
    """Auth tokens: made anonymously, attached by an account, traded once."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    @defer.inlineCallbacks
    def new_token(self):
        code, body, headers = yield self.served.json(
            "POST", "/accounts/auth_token", sip=None, headers={b"User-Agent": [b"Linphone/6"]})
        self.assertEqual(code, 201)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        self.assertEqual(sorted(body), ["created_at", "id", "ip", "token", "updated_at", "user_agent"])
        self.assertEqual((len(body["token"]), body["user_agent"]), (32, "Linphone/6"))
        return body["token"]

    def attach(self, token, sip=BOB, key=BOB_KEY):
        return self.served.request("GET", "/accounts/auth_token/%s/attach" % (token,), sip=sip, key=key)

    @defer.inlineCallbacks
    def test_provisioning_by_auth_token(self):
        """An attached token gives the device its document once; attaching twice is 404."""
        token = yield self.new_token()
        code, _, _ = yield provisioning(self.served, "/auth_token/" + token)
        self.assertEqual(code, 404)
        code, _, body = yield self.attach(token)
        self.assertEqual((code, body), (200, b""))
        code, _, _ = yield self.attach(token, sip=USER, key=ADMIN_KEY)
        self.assertEqual(code, 404)
        code, _, document = yield provisioning(self.served, "/auth_token/" + token, headers=LINPHONE)
        self.assertEqual((code, identity(document)), (200, "sip:bob@sip.example.org"))
        code, _, _ = yield provisioning(self.served, "/auth_token/" + token)
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_api_key_by_auth_token(self):
        """An attached token is traded once for a new key of its account, which replaces the old one."""
        logs = captured_logs(self)
        token = yield self.new_token()
        yield self.attach(token)
        code, body, headers = yield self.served.json("GET", "/accounts/me/api_key/" + token, sip=None)
        self.assertEqual(code, 200)
        key = body["api_key"]
        self.assertEqual(len(key), 40)
        self.assertTrue(headers.getRawHeaders(b"set-cookie")[0].startswith(b"x-api-key=" + key.encode() + b";"))
        code, _, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key=key)
        self.assertEqual(code, 200)
        code, _, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 401)
        code, _, _ = yield self.served.json("GET", "/accounts/me/api_key/" + token, sip=None)
        self.assertEqual(code, 404)
        self.assertFalse([line for line in logs if token in line or key in line])

    @defer.inlineCallbacks
    def test_blocked_account_gets_nothing(self):
        """An account blocked after attaching a token gets neither its document nor a key through it."""
        for path, base in (("/auth_token/%s", "/provisioning"), ("/accounts/me/api_key/%s", "/api")):
            token = yield self.new_token()
            yield self.attach(token)
            bob = yield self.served.storage.find_account("bob", "sip.example.org")
            yield self.served.storage.set_blocked(bob.id, True)
            for query in ("", "?reset_password"):
                code, _, body = yield self.served.request(
                    "GET", path % (token,) + query, base=base, sip=None)
                self.assertEqual((code, json.loads(body)), (403, {"message": "Account blocked"}))
            # Nothing was consumed or changed: once unblocked, the token still works, once.
            self.assertEqual((yield self.served.storage.get_account(bob.id)).passwords, bob.passwords)
            code, _, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY)
            self.assertEqual(code, 403)
            yield self.served.storage.set_blocked(bob.id, False)
            code, _, _ = yield self.served.request("GET", path % (token,), base=base, sip=None)
            self.assertEqual(code, 200)
            code, _, _ = yield self.served.request("GET", path % (token,), base=base, sip=None)
            self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_old_tokens(self):
        """A token older than five minutes can be neither attached nor traded."""
        token = yield self.new_token()
        self.served.clock.advance(301)
        code, _, _ = yield self.attach(token)
        self.assertEqual(code, 404)
        fresh = yield self.new_token()
        yield self.attach(fresh)
        self.served.clock.advance(301)
        code, _, _ = yield provisioning(self.served, "/auth_token/" + fresh)
        self.assertEqual(code, 404)
        self.assertEqual((yield self.served.storage.delete_auth_tokens(self.served.now())), 2)

    @defer.inlineCallbacks
    def test_attach_needs_an_account(self):
        """Attaching without credentials is a 401."""
        token = yield self.new_token()
        code, _, _ = yield self.attach(token, key=None)
        self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_renew_api_key(self):
        """me/api_key answers the new key as the raw body, with the cookie; the old key stops working."""
        code, headers, body = yield self.served.request("GET", "/accounts/me/api_key", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 200)
        self.assertTrue(re.match(rb"^[A-Za-z0-9]{40}$", body), body)
        self.assertEqual(headers.getRawHeaders(b"set-cookie")[0].split(b";")[0], b"x-api-key=" + body)
        code, _, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key=body.decode())
        self.assertEqual(code, 200)
        code, _, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 401)
        code, _, _ = yield self.served.request("GET", "/accounts/me/api_key", sip=BOB)
        self.assertEqual(code, 401)


class RedactTests(unittest.TestCase):
    """The access log never shows an auth token."""

    def test_auth_token_paths(self):
        """Both /api paths carrying an auth token are masked; the others are left as they are."""
        self.assertEqual(redact(b"/api/accounts/me/api_key/abc"), b"/api/accounts/me/api_key/***")
        self.assertEqual(redact(b"/api/accounts/auth_token/abc/attach"), b"/api/accounts/auth_token/***")
        self.assertEqual(redact(b"/api/accounts/me/api_key"), b"/api/accounts/me/api_key")
        self.assertEqual(redact(b"/api/accounts/auth_token"), b"/api/accounts/auth_token")
        self.assertEqual(redact(b"/provisioning/auth_token/abc"), b"/provisioning/***")
        self.assertEqual(redact(b"/creation_token/check/Xq3abc"), b"/creation_token/check/***")


class ThrottleTests(unittest.TestCase):
    """The anonymous routes of provisioning and QR login are under famd's limits."""

    @defer.inlineCallbacks
    def test_auth_tokens_are_anonymous_writes(self):
        """Making auth tokens counts as anonymous writes: 429 with Retry-After past the budget."""
        served = yield serve(self, throttle={"anonymous_writes": 2})
        for expected in (201, 201, 429):
            code, _, headers = yield served.json("POST", "/accounts/auth_token", sip=None)
            self.assertEqual(code, expected)
        self.assertTrue(headers.getRawHeaders(b"retry-after"))

    @defer.inlineCallbacks
    def test_wrong_tokens_are_wrong_secrets(self):
        """Wrong auth tokens, on either trading route, spend the address's wrong secrets."""
        served = yield serve(self, throttle={"wrong_secrets": 2})
        code, _, _ = yield provisioning(served, "/auth_token/" + "x" * 32)
        self.assertEqual(code, 404)
        code, _, _ = yield served.json("GET", "/accounts/me/api_key/" + "y" * 32, sip=None)
        self.assertEqual(code, 404)
        code, _, _ = yield provisioning(served, "/auth_token/" + "z" * 32)
        self.assertEqual(code, 429)


class ProvisioningEmailTests(unittest.TestCase):
    """POST /api/accounts/{id}/send_provisioning_email through a real SMTP server."""

    @defer.inlineCallbacks
    def test_sent(self):
        """The account receives its provisioning link and QR code URL; the link provisions it."""
        delivery, sender = smtp_server(self)
        served = yield serve(self, email=sender)
        code, headers, body = yield served.request("POST", "/accounts/1/send_provisioning_email", key=ADMIN_KEY)
        self.assertEqual((code, body), (200, b""))
        [(_, recipient, raw)] = delivery.messages
        self.assertEqual(recipient, "user@example.org")
        message = email.message_from_bytes(raw, policy=policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()
        token = (yield served.storage.current_provisioning_token(1)).token
        self.assertIn(PUBLIC_URL + "/provisioning/" + token, text)
        self.assertIn(PUBLIC_URL + "/provisioning/qrcode/" + token, text)
        html = message.get_body(preferencelist=("html",)).get_content()
        self.assertIn('<img src="%s/provisioning/qrcode/%s"' % (PUBLIC_URL, token), html)
        code, _, document = yield provisioning(served, "/" + token)
        self.assertEqual((code, identity(document)), (200, "sip:user@sip.example.org"))

    @defer.inlineCallbacks
    def test_refusals(self):
        """No e-mail: 403; not an admin: 403; unknown account: 404; e-mail off: 503."""
        delivery, sender = smtp_server(self)
        served = yield serve(self, email=sender)
        code, body, _ = yield served.json("POST", "/accounts/2/send_provisioning_email", key=ADMIN_KEY)
        self.assertEqual((code, body), (403, {"message": "No email configured"}))
        code, _, _ = yield served.json("POST", "/accounts/1/send_provisioning_email", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 403)
        code, _, _ = yield served.json("POST", "/accounts/99/send_provisioning_email", key=ADMIN_KEY)
        self.assertEqual(code, 404)
        self.assertEqual(delivery.messages, [])
        off = yield serve(self)
        code, _, _ = yield off.json("POST", "/accounts/1/send_provisioning_email", key=ADMIN_KEY)
        self.assertEqual(code, 503)


    @defer.inlineCallbacks
    def test_not_sent_keeps_current_token(self):
        """A message the server refuses is 503 and issues nothing: the account's current token still works."""
        delivery, sender = smtp_server(self)
        delivery.refuse.add("user@example.org")
        served = yield serve(self, email=sender)
        before = yield served.storage.current_provisioning_token(1)
        code, body, _ = yield served.json("POST", "/accounts/1/send_provisioning_email", key=ADMIN_KEY)
        self.assertEqual(code, 503, body)
        self.assertEqual(delivery.messages, [])
        self.assertEqual((yield served.storage.current_provisioning_token(1)), before)
        code, _, document = yield provisioning(served, "/" + before.token)
        self.assertEqual((code, identity(document)), (200, "sip:user@sip.example.org"))

globals().update(on_engines(
    ProvisioningTokenTests, ProvisioningMeTests, QRLoginTests, ThrottleTests, ProvisioningEmailTests,
))
