"""
POST /api/accounts/{sip}/activate/email and .../activate/phone end to end:
the 2021 statuses and shapes, single use, expiry, and the limit on wrong
codes per client address (behind trusted proxies too),
with time driven by a Clock, on every storage engine.
"""

from datetime import datetime, timezone

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.storage_contract import new
from tests.engines import on_engines
from tests.serving import serve

NO_ACCOUNT = {"message": "No query results for model [App\\Account]."}
WRONG = "abcdefghijklm"
XFF = b"X-Forwarded-For"


class ActivationTests(unittest.TestCase):
    """Activation by the code received by e-mail or SMS."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        self.key = carol.confirmation_key

    def activate(self, sip, code, how="email", headers=None):
        return self.served.json("POST", "/accounts/%s/activate/%s" % (sip, how), sip=None,
                                body={"code": code}, headers=headers)

    @defer.inlineCallbacks
    def test_code_format(self):
        """E-mail codes must have 13 characters, phone codes 4 digits (2021 messages)."""
        code, body, _ = yield self.activate("carol@sip.example.org", "short")
        self.assertEqual((code, body["errors"]), (422, {"code": ["The code must be 13 characters."]}))
        code, body, _ = yield self.activate("carol@sip.example.org", "12a4", "phone")
        self.assertEqual((code, body["errors"]), (422, {"code": ["The code must be 4 digits."]}))
        code, body, _ = yield self.activate("carol@sip.example.org", "1234\n", "phone")
        self.assertEqual(code, 422)
        code, body, _ = yield self.activate("carol@sip.example.org", None)
        self.assertEqual(body["errors"], {"code": ["The code field is required."]})

    @defer.inlineCallbacks
    def test_wrong_code_or_account(self):
        """A wrong code and an unknown account are both 404 and activate nothing."""
        for sip, code in (("carol@sip.example.org", WRONG), ("nobody@sip.example.org", self.key),
                          ("no-at-sign", self.key)):
            status, body, _ = yield self.activate(sip, code)
            self.assertEqual((status, body), (404, NO_ACCOUNT))
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        self.assertFalse(carol.activated)

    @defer.inlineCallbacks
    def test_activates_once(self):
        """The right code activates the account, answers it and works only once."""
        code, body, _ = yield self.activate("sip:carol@sip.example.org", self.key)
        self.assertEqual(code, 200)
        self.assertEqual((body["username"], body["activated"]), ("carol", True))
        self.assertEqual(body["passwords"], [{"algorithm": "MD5"}])
        self.assertNotIn("confirmation_key", body)
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        self.assertEqual((carol.activated, carol.confirmation_key), (True, None))
        code, body, _ = yield self.activate("carol@sip.example.org", self.key)
        self.assertEqual((code, body), (404, NO_ACCOUNT))

    @defer.inlineCallbacks
    def test_phone_code(self):
        """A 4-digit confirmation key activates by phone."""
        yield self.served.storage.create_account(new("phoneuser", confirmation_key="0421"))
        code, body, _ = yield self.activate("phoneuser@sip.example.org", "0421", "phone")
        self.assertEqual((code, body["activated"]), (200, True))

    @defer.inlineCallbacks
    def test_expired(self):
        """A right code past the account's activation expiration is 403 and activates nothing."""
        yield self.served.storage.create_account(new(
            "lateuser", confirmation_key="K" * 13, activation_expires=datetime(2026, 11, 28, 14, tzinfo=timezone.utc)))
        code, body, _ = yield self.activate("lateuser@sip.example.org", "K" * 13)
        self.assertEqual((code, body), (403, {"message": "Activation expired"}))
        account = yield self.served.storage.find_account("lateuser", "sip.example.org")
        self.assertEqual((account.activated, account.confirmation_key), (False, "K" * 13))


class GuessingTests(unittest.TestCase):
    """Wrong activation codes are limited per client address, never locking the owner out."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self, trusted_proxies=["127.0.0.1"], throttle={"wrong_secrets": 5})
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        self.key = carol.confirmation_key

    def activate(self, code, sip="carol@sip.example.org", client=None):
        headers = {XFF: [b"203.0.113.9, " + client.encode()]} if client else None
        return self.served.json("POST", "/accounts/%s/activate/email" % (sip,), sip=None,
                                body={"code": code}, headers=headers)

    @defer.inlineCallbacks
    def test_strangers_never_lock_the_owner_out(self):
        """Wrong e-mail codes from other addresses never refuse the owner's right code (issue 13, point 8)."""
        for n in range(10):
            code, _, _ = yield self.activate(WRONG, client="198.51.100.%d" % (n,))
            self.assertEqual(code, 404)
        code, body, _ = yield self.activate(self.key, client="198.51.100.77")
        self.assertEqual((code, body["activated"]), (200, True))

    @defer.inlineCallbacks
    def test_address_retry_after(self):
        """A spent address answers 429 with the seconds until its oldest wrong code expires."""
        for n in range(5):
            code, _, _ = yield self.activate(WRONG, client="198.51.100.1")
            self.assertEqual(code, 404)
        code, body, headers = yield self.activate(self.key, client="198.51.100.1")
        self.assertEqual((code, body), (429, {"message": "Too Many Attempts."}))
        self.assertEqual(headers.getRawHeaders(b"retry-after"), [b"900"])
        self.served.clock.advance(600)
        code, _, headers = yield self.activate(self.key, client="198.51.100.1")
        self.assertEqual((code, headers.getRawHeaders(b"retry-after")), (429, [b"300"]))
        self.served.clock.advance(300)
        code, body, _ = yield self.activate(self.key, client="198.51.100.1")
        self.assertEqual((code, body["activated"]), (200, True))

    @defer.inlineCallbacks
    def test_address_limit(self):
        """One client guessing over many accounts is stopped after five wrong codes."""
        for n in range(5):
            code, _, _ = yield self.activate(WRONG, sip="user%d@sip.example.org" % (n,),
                                             client="198.51.100.1")
            self.assertEqual(code, 404)
        code, _, _ = yield self.activate(self.key, client="198.51.100.1")
        self.assertEqual(code, 429)
        code, _, _ = yield self.activate(self.key, client="198.51.100.2")
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_successes_do_not_count(self):
        """Right codes and malformed codes are not failures."""
        for n in range(4):
            yield self.activate(WRONG, client="198.51.100.1")
        for n in range(3):
            code, _, _ = yield self.activate("short", client="198.51.100.1")
            self.assertEqual(code, 422)
        code, _, _ = yield self.activate(self.key, client="198.51.100.1")
        self.assertEqual(code, 200)
        code, _, _ = yield self.activate(self.key, client="198.51.100.1")
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_untrusted_forwarded_for_ignored(self):
        """Behind no trusted proxy, a forged X-Forwarded-For does not escape the address limit."""
        served = yield serve(self, throttle={"wrong_secrets": 5})
        for n in range(5):
            code, _, _ = yield served.json(
                "POST", "/accounts/user%d@sip.example.org/activate/email" % (n,), sip=None,
                body={"code": WRONG}, headers={XFF: [b"198.51.100.%d" % (n,)]})
            self.assertEqual(code, 404)
        code, _, _ = yield served.json(
            "POST", "/accounts/carol@sip.example.org/activate/email", sip=None,
            body={"code": WRONG}, headers={XFF: [b"198.51.100.99"]})
        self.assertEqual(code, 429)


globals().update(on_engines(ActivationTests, GuessingTests))
