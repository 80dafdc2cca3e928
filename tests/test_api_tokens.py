"""
POST /api/tokens and POST /api/accounts/with-token end to end: the real
resource tree on every storage engine, tokens pushed by a real
``flexisip_pusher`` stand-in, concurrent creations with one token on two
famd "processes".
"""

from twisted.internet import defer
from twisted.trial import unittest

from tests.engines import on_engines
from tests.flows_fixtures import captured_logs, pusher
from tests.serving import serve

DEVICE = {"pn_provider": "fcm", "pn_param": "ABCD1234", "pn_prid": "device-token-1"}
NOT_SENT = {"message": "Token not sent"}
ALREADY = {"message": "A similar token was already used"}
LIMIT = {"message": "The limit of tokens generated for this device has been reached"}


def tokens_txn(txn):
    return txn.all('SELECT "token", "pn_provider", "pn_param", "pn_prid", "used" FROM "tokens"')


class TokenTests(unittest.TestCase):
    """POST /api/tokens."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, sender = pusher(self)
        self.served = yield serve(self, push=sender)

    def post(self, body=DEVICE):
        return self.served.json("POST", "/tokens", sip=None, body=body)

    @defer.inlineCallbacks
    def test_missing_fields(self):
        """Each missing device field gets the 2021 message, in order."""
        code, body, _ = yield self.post({})
        self.assertEqual(code, 422)
        self.assertEqual(body["errors"], {
            "pn_provider": ["The pn provider field is required."],
            "pn_param": ["The pn param field is required."],
            "pn_prid": ["The pn prid field is required."],
        })

    @defer.inlineCallbacks
    def test_pushed_then_stored(self):
        """A 13-character token is pushed as {"token": ...} to the device, then stored unused."""
        code, body, _ = yield self.post()
        self.assertEqual((code, body), (200, {}))
        [(provider, param, prid, payload)] = self.fake.pushed()
        self.assertEqual((provider, param, prid), ("fcm", "ABCD1234", "device-token-1"))
        self.assertEqual(list(payload), ["token"])
        self.assertRegex(payload["token"], r"^[A-Za-z0-9]{13}$")
        rows = yield self.served.storage.read("tokens", tokens_txn)
        self.assertEqual(rows, [(payload["token"], "fcm", "ABCD1234", "device-token-1", 0)])

    @defer.inlineCallbacks
    def test_unused_token_refused(self):
        """While the device holds an unused token, a new one is refused with 403 and not pushed."""
        yield self.post()
        code, body, _ = yield self.post()
        self.assertEqual((code, body), (403, ALREADY))
        self.assertEqual(len(self.fake.pushed()), 1)

    @defer.inlineCallbacks
    def test_device_limit(self):
        """A device that received four tokens gets no fifth."""
        for n in range(4):
            code, _, _ = yield self.post()
            self.assertEqual(code, 200)
            token = self.fake.pushed()[-1][3]["token"]
            code, _, _ = yield self.served.json("POST", "/accounts/with-token", sip=None, body={
                "username": "device%d" % (n,), "password": "secret1", "algorithm": "MD5",
                "token": token})
            self.assertEqual(code, 200)
        code, body, _ = yield self.post()
        self.assertEqual((code, body), (403, LIMIT))
        self.assertEqual(len(self.fake.pushed()), 4)
        code, _, _ = yield self.post(dict(DEVICE, pn_prid="another-device"))
        self.assertEqual(code, 200)


class TokenFailureTests(unittest.TestCase):
    """POST /api/tokens when the push cannot be sent."""

    @defer.inlineCallbacks
    def test_push_off(self):
        """Without a push backend the answer is 503 'Token not sent' and nothing is stored."""
        served = yield serve(self)
        code, body, _ = yield served.json("POST", "/tokens", sip=None, body=DEVICE)
        self.assertEqual((code, body), (503, NOT_SENT))
        self.assertEqual((yield served.storage.read("tokens", tokens_txn)), [])

    @defer.inlineCallbacks
    def test_pusher_fails(self):
        """A pusher exiting 1 gives 503, stores nothing and logs the failure without the token."""
        logs = captured_logs(self)
        fake, sender = pusher(self, status=1)
        served = yield serve(self, push=sender)
        code, body, _ = yield served.json("POST", "/tokens", sip=None, body=DEVICE)
        self.assertEqual((code, body), (503, NOT_SENT))
        self.assertEqual((yield served.storage.read("tokens", tokens_txn)), [])
        token = fake.pushed()[0][3]["token"]
        self.assertTrue([line for line in logs if "token not sent" in line])
        self.assertFalse([line for line in logs if token in line])

    @defer.inlineCallbacks
    def test_pusher_reports_failures(self):
        """A pusher exiting 0 but counting a failed notification also gives 503."""
        output = "1 push notification(s) sent, 0 successfully and 1 failed.\n"
        _, sender = pusher(self, output=output)
        served = yield serve(self, push=sender)
        code, body, _ = yield served.json("POST", "/tokens", sip=None, body=DEVICE)
        self.assertEqual((code, body), (503, NOT_SENT))
        self.assertEqual((yield served.storage.read("tokens", tokens_txn)), [])


class WithTokenTests(unittest.TestCase):
    """POST /api/accounts/with-token."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, sender = pusher(self)
        self.served = yield serve(self, push=sender)
        yield self.served.json("POST", "/tokens", sip=None, body=DEVICE)
        self.token = self.fake.pushed()[0][3]["token"]

    def create(self, **fields):
        body = {"username": "newuser", "password": "secret1", "algorithm": "SHA-256",
                "token": self.token}
        body.update(fields)
        body = {key: value for key, value in body.items() if value is not None}
        return self.served.json("POST", "/accounts/with-token", sip=None, body=body)

    @defer.inlineCallbacks
    def test_invalid_token(self):
        """An unknown token of the wrong size gets both 2021 messages."""
        code, body, _ = yield self.create(token="nope")
        self.assertEqual(code, 422)
        self.assertEqual(body["errors"], {"token": [
            "The selected token is invalid.", "The token must be 13 characters."]})

    @defer.inlineCallbacks
    def test_all_rules(self):
        """Account fields follow the admin creation rules, token included, in one 422."""
        code, body, _ = yield self.create(username="bob", password="p", algorithm="SHA-1",
                                          token=None)
        self.assertEqual(code, 422)
        self.assertEqual(list(body["errors"]), ["username", "algorithm", "password", "token"])
        self.assertIn("The username has already been taken.", body["errors"]["username"])
        self.assertEqual(body["errors"]["token"], ["The token field is required."])

    @defer.inlineCallbacks
    def test_created_not_activated_token_used(self):
        """The token buys one not activated account in the default domain, then is used up."""
        code, body, _ = yield self.create()
        self.assertEqual(code, 200)
        self.assertEqual((body["username"], body["domain"], body["activated"]),
                         ("newuser", "sip.example.org", False))
        self.assertEqual(body["passwords"], [{"algorithm": "SHA-256"}])
        self.assertNotIn("confirmation_key", body)
        rows = yield self.served.storage.read("tokens", tokens_txn)
        self.assertEqual(rows[0][4], 1)
        code, body, _ = yield self.create(username="otheruser")
        self.assertEqual(code, 422)
        self.assertEqual(body["errors"], {"token": ["The selected token is invalid."]})

    @defer.inlineCallbacks
    def test_domain(self):
        """A given domain is used; a malformed one is refused."""
        code, body, _ = yield self.create(domain="x")
        self.assertEqual((code, body["errors"]),
                         (422, {"domain": ["The domain must be at least 3 characters."]}))
        code, body, _ = yield self.create(domain="other.example.org")
        self.assertEqual((code, body["domain"]), (200, "other.example.org"))

    @defer.inlineCallbacks
    def test_refused_creation_keeps_token(self):
        """A creation refused for a taken username leaves the token usable."""
        code, _, _ = yield self.create(username="carol")
        self.assertEqual(code, 422)
        code, _, _ = yield self.create()
        self.assertEqual(code, 200)


class ConcurrentTokenTests(unittest.TestCase):
    """One token, many simultaneous creations, two famd processes on one database."""

    @defer.inlineCallbacks
    def test_exactly_one_succeeds(self):
        """Of twelve simultaneous creations with one token over two APIs, exactly one succeeds."""
        fake, sender = pusher(self)
        first = yield serve(self, push=sender)
        second = yield serve(self, beside=first)
        yield first.json("POST", "/tokens", sip=None, body=DEVICE)
        token = fake.pushed()[0][3]["token"]
        requests = [
            api.json("POST", "/accounts/with-token", sip=None, body={
                "username": "racer%d" % (n,), "password": "secret1", "algorithm": "MD5",
                "token": token})
            for n, api in enumerate([first, second] * 6)
        ]
        results = yield defer.gatherResults(requests)
        codes = sorted(code for code, _, _ in results)
        self.assertEqual(codes, [200] + [422] * 11)
        for code, body, _ in results:
            if code == 422:
                self.assertEqual(body["errors"], {"token": ["The selected token is invalid."]})
        count = yield first.storage.read(
            "probe", lambda txn: txn.scalar('SELECT count(*) FROM "accounts" WHERE "username" LIKE ?',
                                   ("racer%",)))
        self.assertEqual(count, 1)


globals().update(on_engines(TokenTests, TokenFailureTests, WithTokenTests, ConcurrentTokenTests))
