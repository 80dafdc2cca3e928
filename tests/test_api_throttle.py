"""
The attacks of issue 13 that famd.throttle closes, replayed end to end on
every storage engine: guessing provisioning keys (1), DIGEST passwords (2),
anonymous requests growing ``nonces`` (3), floods of push tokens and
hostile device fields (4), padded names on MariaDB (5), unlimited SMS and
e-mails (7), and a stranger locking the owner out of activation (8).
Client addresses come through a trusted proxy's X-Forwarded-For.
"""

import json

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from famd.errors import NotFound
from famd.flows import Context, activation
from famd.testing.storage_contract import new
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, USER, answer, challenge_for, challenges
from tests.engines import on_engines
from tests.flows_fixtures import ovh_server, pusher, smtp_server
from tests.serving import serve

ME = "/api/accounts/me"
XFF = b"X-Forwarded-For"


def from_address(address):
    """The headers of a request relayed by the trusted proxy for C{address}."""
    return {XFF: [address.encode("ascii")]}


def count_rows(storage, table):
    return storage.read("count", lambda txn: txn.scalar('SELECT COUNT(*) FROM "%s"' % (table,)))


class PasswordGuessingTests(unittest.TestCase):
    """Points 2 and 3: DIGEST answers are wrong secrets, and challenges store nothing."""

    @defer.inlineCallbacks
    def wrong(self, api, address, password="wrong"):
        offered = yield challenge_for(api)
        code, headers, _ = yield api.request(
            "GET", "/accounts/me", headers=from_address(address),
            authorization=answer(offered, "user", password, "GET", ME))
        return code, headers

    @defer.inlineCallbacks
    def test_twenty_wrong_passwords_per_address(self):
        """After 20 wrong answers an address gets 429 even for the right one; another address logs in."""
        api = yield serve(self, trusted_proxies=["127.0.0.1"], throttle={"password_delay_max": 0})
        for _ in range(20):
            code, _ = yield self.wrong(api, "198.51.100.1")
            self.assertEqual(code, 401)
        code, headers = yield self.wrong(api, "198.51.100.1")
        self.assertEqual((code, headers.getRawHeaders(b"retry-after")), (429, [b"900"]))
        code, headers = yield self.wrong(api, "198.51.100.1", "secret")
        self.assertEqual(code, 429)
        code, _ = yield self.wrong(api, "198.51.100.2", "secret")
        self.assertEqual(code, 200)
        api.clock.advance(900)
        code, _ = yield self.wrong(api, "198.51.100.1", "secret")
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_wrong_answers_held_back_longer(self):
        """Beyond password_delay_after failures the 401 comes later; the owner's right answer at once."""
        api = yield serve(self, trusted_proxies=["127.0.0.1"], throttle={"password_delay_after": 1})
        code, _ = yield self.wrong(api, "198.51.100.1")
        self.assertEqual(code, 401)
        answered = self.wrong(api, "198.51.100.1")
        yield task.deferLater(reactor, 0.2, lambda: None)
        self.assertFalse(answered.called)
        code, _ = yield self.wrong(api, "198.51.100.2", "secret")
        self.assertEqual(code, 200)
        api.clock.advance(1)
        code, _ = yield answered
        self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_challenges_store_nothing(self):
        """300 unauthenticated requests add no nonce row; the answered nonce adds one."""
        api = yield serve(self)
        for number in range(300):
            code, _, _ = yield api.request("GET", "/accounts/me")
            self.assertEqual(code, 401)
        self.assertEqual((yield count_rows(api.storage, "nonces")), 0)
        offered = yield challenge_for(api)
        code, _, _ = yield api.request(
            "GET", "/accounts/me", authorization=answer(offered, "user", "secret", "GET", ME))
        self.assertEqual(code, 200)
        self.assertEqual((yield count_rows(api.storage, "nonces")), 1)

    @defer.inlineCallbacks
    def test_cleared_nonce_stays_invalid(self):
        """A used nonce whose row was deleted is refused for its next count."""
        api = yield serve(self)
        offered = yield challenge_for(api)
        code, _, _ = yield api.request(
            "GET", "/accounts/me", authorization=answer(offered, "user", "secret", "GET", ME))
        self.assertEqual(code, 200)
        yield api.storage.write("clear", lambda txn: txn.execute('DELETE FROM "nonces"'))
        code, _, body = yield api.request(
            "GET", "/accounts/me", authorization=answer(offered, "user", "secret", "GET", ME, nc=2))
        self.assertEqual((code, json.loads(body)), (401, {"message": "Nonce invalid"}))

    @defer.inlineCallbacks
    def test_first_use_only_soon_after_the_challenge(self):
        """A nonce never used is refused once nonce_first_use_window has passed."""
        api = yield serve(self, nonce_first_use_window=60)
        offered = yield challenge_for(api)
        api.clock.advance(61)
        code, _, body = yield api.request(
            "GET", "/accounts/me", authorization=answer(offered, "user", "secret", "GET", ME))
        self.assertEqual((code, json.loads(body)), (401, {"message": "Nonce invalid"}))
        self.assertEqual(len(challenges((yield api.request("GET", "/accounts/me"))[1])), 1)

    @defer.inlineCallbacks
    def test_forged_nonce_refused(self):
        """A nonce famd did not mint (or minted for another account) is invalid and stores nothing."""
        api = yield serve(self)
        offered = yield challenge_for(api)
        bob = yield challenge_for(api, sip=BOB)
        for nonce in ("0" * 56, bob["nonce"], offered["nonce"][:-1] + "x"):
            code, _, body = yield api.request("GET", "/accounts/me", authorization=answer(
                dict(offered, nonce=nonce), "user", "secret", "GET", ME))
            self.assertEqual((code, json.loads(body)), (401, {"message": "Nonce invalid"}))
        self.assertEqual((yield count_rows(api.storage, "nonces")), 0)


class ProvisioningGuessingTests(unittest.TestCase):
    """Point 1: wrong provisioning keys are wrong secrets of the address."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self, trusted_proxies=["127.0.0.1"])
        yield self.api.storage.create_account(new("victim", confirmation_key="0042"))

    def get(self, path, address):
        return self.api.request("GET", path, sip=None, base="", headers=from_address(address))

    @defer.inlineCallbacks
    def test_guessing_stopped(self):
        """20 wrong keys (QR code or document) from one address, then 429 even for the right key."""
        for number in range(20):
            path = "/provisioning/%s%04d" % ("qrcode/" if number % 2 else "", number + 100)
            code, _, _ = yield self.get(path, "198.51.100.1")
            self.assertIn(code, (200, 404))
        code, headers, _ = yield self.get("/provisioning/qrcode/0042", "198.51.100.1")
        self.assertEqual((code, headers.getRawHeaders(b"retry-after")), (429, [b"900"]))
        code, _, _ = yield self.get("/provisioning/0042", "198.51.100.1")
        self.assertEqual(code, 429)
        code, _, _ = yield self.get("/provisioning/qrcode/0042", "198.51.100.2")
        self.assertEqual(code, 200)
        code, _, body = yield self.get("/provisioning/0042", "198.51.100.2")
        self.assertEqual(code, 200)
        self.assertIn(b"victim", body)

    @defer.inlineCallbacks
    def test_wrong_keys_counted(self):
        """Wrong keys are counted (without a key, the defaults are not)."""
        for _ in range(30):
            code, _, _ = yield self.get("/provisioning", "198.51.100.3")
            self.assertEqual(code, 200)
        for _ in range(20):
            yield self.get("/provisioning/qrcode/9999", "198.51.100.3")
        code, _, _ = yield self.get("/provisioning/qrcode/9999", "198.51.100.3")
        self.assertEqual(code, 429)


class LinkGuessingTests(unittest.TestCase):
    """Point 2's budget for e-mail links: wrong links are wrong secrets of the address."""

    @defer.inlineCallbacks
    def test_wrong_links_counted(self):
        """20 wrong links from one address, then 429 even for the right one; another address applies it."""
        api = yield serve(self, trusted_proxies=["127.0.0.1"])
        secret = "s" * 32
        yield api.storage.set_email_change(2, "bob.new@example.org", secret, api.now())
        path = "/accounts/me/email/confirm/"
        for number in range(20):
            code, _, _ = yield api.json("GET", path + "w%031d" % (number,), sip=None,
                                        headers=from_address("198.51.100.1"))
            self.assertEqual(code, 404)
        code, _, headers = yield api.json("GET", path + secret, sip=None,
                                          headers=from_address("198.51.100.1"))
        self.assertEqual((code, headers.getRawHeaders(b"retry-after")), (429, [b"900"]))
        code, body, _ = yield api.json("GET", path + secret, sip=None,
                                       headers=from_address("198.51.100.2"))
        self.assertEqual((code, body["email"]), (200, "bob.new@example.org"))


class ActivationLockoutTests(unittest.TestCase):
    """Points 5 and 8: strangers void short codes but never lock the owner out."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self, trusted_proxies=["127.0.0.1"])
        self.dave = yield self.api.storage.create_account(new("dave", confirmation_key="1234"))

    def activate(self, code, address, sip="dave@sip.example.org", how="phone"):
        return self.api.json("POST", "/accounts/%s/activate/%s" % (sip, how), sip=None,
                             body={"code": code}, headers=from_address(address))

    def new_code(self, code):
        return self.api.storage.write("new code", lambda txn: txn.execute(
            'UPDATE "accounts" SET "confirmation_key" = ? WHERE "id" = ?', (code, self.dave)))

    @defer.inlineCallbacks
    def test_short_code_void_then_new_code_works(self):
        """Five wrong tries from five addresses void the 4-digit code; the owner's next code works at once."""
        for number in range(5):
            code, _, _ = yield self.activate("%04d" % (number + 5000,), "198.51.100.%d" % (number,))
            self.assertEqual(code, 404)
        code, _, _ = yield self.activate("1234", "203.0.113.7")
        self.assertEqual(code, 404)
        yield self.new_code("4321")
        code, body, _ = yield self.activate("4321", "203.0.113.7")
        self.assertEqual((code, body["activated"]), (200, True))

    @defer.inlineCallbacks
    def test_long_code_never_locked(self):
        """Forty wrong e-mail codes from strangers never make the owner's right one fail."""
        carol = yield self.api.storage.find_account("carol", "sip.example.org")
        for number in range(40):
            code, _, _ = yield self.activate(
                "abcdefghijk%02d" % (number,), "198.51.100.%d" % (number % 3,),
                sip="carol@sip.example.org", how="email")
            self.assertIn(code, (404, 429))
        code, body, _ = yield self.activate(
            carol.confirmation_key, "203.0.113.7", sip="carol@sip.example.org", how="email")
        self.assertEqual((code, body["activated"]), (200, True))

    @defer.inlineCallbacks
    def test_padded_name_counts_for_the_account(self):
        """Wrong codes through names padded each differently count for the account they find (MariaDB)."""
        context = Context.from_config(self.api.config, self.api.storage, self.api.now)
        for number in range(5):
            yield self.assertFailure(activation.activate(
                context, "dave" + " " * (number + 1), "sip.example.org", "%04d" % (number + 5000,),
                "198.51.100.%d" % (number,), "phone"), NotFound)
        yield self.assertFailure(activation.activate(
            context, "dave" + " " * 6, "sip.example.org", "1234", "203.0.113.7", "phone"), NotFound)
        dave = yield self.api.storage.get_account(self.dave)
        self.assertFalse(dave.activated)


class AnonymousWriteTests(unittest.TestCase):
    """Point 4: POST /api/tokens per address, and its device fields."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, sender = pusher(self)
        self.api = yield serve(self, push=sender, trusted_proxies=["127.0.0.1"],
                               throttle={"anonymous_writes": 3, "anonymous_writes_total": 5})

    def post(self, prid, address, **fields):
        body = {"pn_provider": "fcm", "pn_param": "ABCD1234", "pn_prid": prid}
        body.update(fields)
        return self.api.json("POST", "/tokens", sip=None, body=body, headers=from_address(address))

    @defer.inlineCallbacks
    def test_per_address_and_in_all(self):
        """Three tokens a minute from one address, five from all; the next minute is free again."""
        for number in range(3):
            code, _, _ = yield self.post("device-%d" % (number,), "198.51.100.1")
            self.assertEqual(code, 200)
        code, _, headers = yield self.post("device-9", "198.51.100.1")
        self.assertEqual((code, headers.getRawHeaders(b"retry-after")), (429, [b"60"]))
        for number in range(2):
            code, _, _ = yield self.post("other-%d" % (number,), "198.51.100.2")
            self.assertEqual(code, 200)
        code, _, _ = yield self.post("third", "198.51.100.3")
        self.assertEqual(code, 429)
        self.assertEqual(len(self.fake.pushed()), 5)
        self.api.clock.advance(60)
        code, _, _ = yield self.post("device-9", "198.51.100.1")
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_hostile_device_fields(self):
        """Leading dashes, line breaks, control characters and long values are 422 (a NUL 400) and push nothing."""
        cases = [
            {"pn_prid": "--key=stolen"},
            {"pn_param": "-x"},
            {"pn_provider": "fcm\r\nforged log line"},
            {"pn_prid": "a\x00b"},
            {"pn_provider": "f" * 33},
            {"pn_prid": "p" * 256},
        ]
        for fields in cases:
            prid = fields.pop("pn_prid", "device-1")
            code, body, _ = yield self.post(prid, "198.51.100.%d" % (len(fields),), **fields)
            # A NUL no database stores is refused before any rule (tests/test_api_odd_text.py).
            self.assertEqual(code, 400 if "\x00" in prid else 422, fields)
        self.assertEqual(self.fake.pushed(), [])


class SendingTests(unittest.TestCase):
    """Point 7: SMS and e-mails per account and per destination."""

    @defer.inlineCallbacks
    def test_sms_limited(self):
        """25 SMS asked within a minute: five are sent, then 429."""
        ovh, sender = ovh_server(self)
        api = yield serve(self, sms=sender)
        codes = []
        for number in range(25):
            code, _, _ = yield api.json("POST", "/accounts/me/phone/request", sip=BOB, key=BOB_KEY,
                                        body={"phone": "+336123456%02d" % (number,)})
            codes.append(code)
        self.assertEqual(codes, [200] * 5 + [429] * 20)
        self.assertEqual(len(ovh.jobs), 5)

    @defer.inlineCallbacks
    def test_sms_per_destination(self):
        """One number gets at most sms_per_destination codes a day, whichever accounts ask."""
        ovh, sender = ovh_server(self)
        api = yield serve(self, sms=sender, throttle={"sms_per_destination": 2})
        codes = []
        for sip, key in ((BOB, BOB_KEY), (BOB, BOB_KEY), (USER, ADMIN_KEY)):
            code, _, _ = yield api.json("POST", "/accounts/me/phone/request", sip=sip, key=key,
                                        body={"phone": "+33612345678"})
            codes.append(code)
        self.assertEqual(codes, [200, 200, 429])
        self.assertEqual(len(ovh.jobs), 2)

    @defer.inlineCallbacks
    def test_emails_limited(self):
        """25 e-mails asked within a minute: ten are sent, then 429."""
        delivery, sender = smtp_server(self)
        api = yield serve(self, email=sender)
        codes = []
        for number in range(25):
            code, _, _ = yield api.json("POST", "/accounts/me/email/request", sip=BOB, key=BOB_KEY,
                                        body={"email": "new%d@example.org" % (number,)})
            codes.append(code)
        self.assertEqual(codes, [200] * 10 + [429] * 15)


globals().update(on_engines(
    PasswordGuessingTests, ProvisioningGuessingTests, LinkGuessingTests, ActivationLockoutTests,
    AnonymousWriteTests, SendingTests,
))
