"""
FAM 2.x sign-up and recovery routes end to end, on every storage engine:
send-by-push (a real ``flexisip_pusher`` stand-in), creation with a token of
either generation, consume, the administrator's tokens, the desktop's
request tokens, and the recovery push.
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from famd.flows import recovery
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY
from tests.engines import on_engines
from tests.flows_fixtures import pusher
from tests.serving import serve

DEVICE = {"pn_provider": "fcm", "pn_param": "ABCD1234", "pn_prid": "device-token-1"}
AGENT = {b"User-Agent": [b"LinphoneAndroid/6.0.5 (Pixel 7) LinphoneSDK/5.4.0"]}
RECENT = {"message": "Last token requested too recently"}
NOT_SENT = {"message": "Token not sent"}


def tokens_txn(txn):
    return txn.all('SELECT "token", "pn_prid", "used", "account_id", "ip", "user_agent" '
                   'FROM "tokens" ORDER BY "id"')


class SendByPushTests(unittest.TestCase):
    """POST /api/account_creation_tokens/send-by-push."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, sender = pusher(self)
        self.served = yield serve(self, push=sender)

    def post(self, body=DEVICE):
        return self.served.json("POST", "/account_creation_tokens/send-by-push", sip=None,
                                body=body, headers=AGENT)

    def create(self, token, username="newuser2x"):
        return self.served.json("POST", "/accounts/with-account-creation-token", sip=None, body={
            "username": username, "password": "secret1", "algorithm": "SHA-256",
            "account_creation_token": token})

    @defer.inlineCallbacks
    def test_pushed_then_stored(self):
        """The token is pushed as {"token": ...} and stored unused with the client's address and agent."""
        code, body, headers = yield self.post()
        self.assertEqual((code, body), (200, {}))
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        [(provider, param, prid, payload)] = self.fake.pushed()
        self.assertEqual((provider, param, prid, list(payload)), ("fcm", "ABCD1234", "device-token-1", ["token"]))
        rows = yield self.served.storage.read("tokens", tokens_txn)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0][:4], (payload["token"], "device-token-1", 0, None))
        self.assertEqual(rows[0][5], AGENT[b"User-Agent"][0].decode())
        self.assertTrue(rows[0][4])

    @defer.inlineCallbacks
    def test_device_fields(self):
        """FAM 2.x's device rules: a known provider, pn_param and pn_prid of their characters."""
        code, body, _ = yield self.post({"pn_provider": "sms", "pn_param": "a b", "pn_prid": "x/y"})
        self.assertEqual(code, 422)
        self.assertEqual(body["errors"], {
            "pn_provider": ["The selected pn provider is invalid."],
            "pn_param": ["The pn param format is invalid."],
            "pn_prid": ["The pn prid format is invalid."]})
        code, body, _ = yield self.post({})
        self.assertEqual((code, sorted(body["errors"])), (422, ["pn_param", "pn_prid", "pn_provider"]))
        self.assertEqual(self.fake.pushed(), [])

    @defer.inlineCallbacks
    def test_retry_after_lost_push_replaces_token(self):
        """A retry while the earlier token is unused is pushed; the new token replaces the old one."""
        yield self.post()
        code, _, _ = yield self.post()
        self.assertEqual(code, 200)
        first, second = [each[3]["token"] for each in self.fake.pushed()]
        code, body, _ = yield self.create(first)
        self.assertEqual((code, body["errors"]["account_creation_token"]),
                         (422, ["Please provide a valid account_creation_token"]))
        code, _, _ = yield self.create(second)
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_used_token_throttles_device(self):
        """Once a token of the device was used, the device waits the retry window (429 with Retry-After)."""
        yield self.post()
        yield self.create(self.fake.pushed()[0][3]["token"])
        self.served.clock.advance(600)
        code, body, headers = yield self.post()
        self.assertEqual((code, body), (429, RECENT))
        self.assertEqual(headers.getRawHeaders(b"retry-after"), [b"3000"])
        self.assertEqual(len(self.fake.pushed()), 1)
        self.served.clock.advance(3001)
        code, _, _ = yield self.post()
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_pushes_per_device_bounded(self):
        """A device gets at most throttle.pushes_per_device tokens an hour, retries included."""
        for _ in range(5):
            code, _, _ = yield self.post()
            self.assertEqual(code, 200)
        code, _, headers = yield self.post()
        self.assertEqual(code, 429)
        self.assertTrue(headers.getRawHeaders(b"retry-after"))
        self.assertEqual(len(self.fake.pushed()), 5)
        code, _, _ = yield self.post(dict(DEVICE, pn_prid="another-device"))
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_push_fails(self):
        """A failed push is 503 'Token not sent' and stores nothing; without push too."""
        _, sender = pusher(self, status=1)
        failing = yield serve(self, push=sender)
        code, body, _ = yield failing.json("POST", "/account_creation_tokens/send-by-push",
                                           sip=None, body=DEVICE)
        self.assertEqual((code, body), (503, NOT_SENT))
        self.assertEqual((yield failing.storage.read("tokens", tokens_txn)), [])
        off = yield serve(self)
        code, body, _ = yield off.json("POST", "/account_creation_tokens/send-by-push",
                                       sip=None, body=DEVICE)
        self.assertEqual((code, body), (503, NOT_SENT))


class CreationTests(unittest.TestCase):
    """POST /api/accounts/with-account-creation-token, with tokens of either generation."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, sender = pusher(self)
        self.served = yield serve(self, push=sender, signup={"creation_token_expiration": 10})

    @defer.inlineCallbacks
    def token(self, path="/account_creation_tokens/send-by-push", prid="device-token-1"):
        code, _, _ = yield self.served.json("POST", path, sip=None, body=dict(DEVICE, pn_prid=prid))
        self.assertEqual(code, 200)
        return self.fake.pushed()[-1][3]["token"]

    def create(self, **fields):
        body = {"username": "newuser2x", "password": "secret1"}
        body.update(fields)
        return self.served.json("POST", "/accounts/with-account-creation-token", sip=None, body=body)

    @defer.inlineCallbacks
    def test_2021_token_creates_2x_account(self):
        """A token pushed by 2021's /tokens creates a not activated account, answered as FAM 2.x's account."""
        token = yield self.token("/tokens")
        code, body, headers = yield self.create(account_creation_token=token)
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        self.assertEqual((body["username"], body["domain"], body["activated"], body["sip_uri"]),
                         ("newuser2x", "sip.example.org", False, "sip:newuser2x@sip.example.org"))
        self.assertEqual(body["passwords"], [{"algorithm": "SHA-256"}])
        # The account has its provisioning token (FAM: on every creation), but the anonymous answer
        # does not show it: serving it would activate the account without any code.
        current = yield self.served.storage.current_provisioning_token(body["id"])
        self.assertRegex(current.token, r"^[A-Za-z0-9]{13}$")
        self.assertEqual((body["provisioning_token"], body["provisioning_token_expire_at"]), (None, None))
        self.assertNotIn(current.token, json.dumps(body))
        rows = yield self.served.storage.read("tokens", tokens_txn)
        self.assertEqual(rows[0][2:4], (1, body["id"]))

    @defer.inlineCallbacks
    def test_2x_token_creates_2021_account(self):
        """A token pushed by send-by-push works with 2021's /accounts/with-token."""
        token = yield self.token()
        code, body, _ = yield self.served.json("POST", "/accounts/with-token", sip=None, body={
            "username": "olduser21", "password": "secret1", "algorithm": "MD5", "token": token})
        self.assertEqual((code, body["username"]), (200, "olduser21"))
        self.assertIn("creation_time", body)

    @defer.inlineCallbacks
    def test_invalid_and_used_tokens(self):
        """An unknown, short or used token is FAM 2.x's 422."""
        token = yield self.token()
        for wrong in ("nope", "X" * 13):
            code, body, _ = yield self.create(account_creation_token=wrong)
            self.assertEqual((code, body["errors"]),
                             (422, {"account_creation_token": ["Please provide a valid account_creation_token"]}))
        code, _, _ = yield self.create(account_creation_token=token)
        self.assertEqual(code, 200)
        code, body, _ = yield self.create(account_creation_token=token, username="another2x")
        self.assertEqual((code, list(body["errors"])), (422, ["account_creation_token"]))

    @defer.inlineCallbacks
    def test_expired_token(self):
        """Past signup.creation_token_expiration minutes, the token is refused as expired."""
        token = yield self.token()
        self.served.clock.advance(11 * 60)
        code, body, _ = yield self.create(account_creation_token=token)
        self.assertEqual((code, body["errors"]),
                         (422, {"account_creation_token": ["The provided token is expired"]}))

    @defer.inlineCallbacks
    def test_field_rules(self):
        """admin and activated are prohibited; the username rules and famd's 6-character password hold."""
        token = yield self.token()
        code, body, _ = yield self.create(account_creation_token=token, username="bob", password="abc",
                                          admin=True, activated=True, algorithm="SHA-1",
                                          dtmf_protocol="morse")
        self.assertEqual(code, 422)
        self.assertEqual(list(body["errors"]),
                         ["username", "password", "algorithm", "admin", "activated", "dtmf_protocol"])
        self.assertIn("The username has already been taken.", body["errors"]["username"])
        code, body, _ = yield self.create(account_creation_token=token, dtmf_protocol="rfc2833")
        self.assertEqual((code, body["dtmf_protocol"]), (200, "rfc2833"))
        stored = yield self.served.storage.get_account(body["id"])
        self.assertEqual(stored.dtmf_protocol, "rfc2833")


class ConsumeAndAdminTests(unittest.TestCase):
    """POST /api/account_creation_tokens (admin) and POST /api/account_creation_tokens/consume."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    @defer.inlineCallbacks
    def test_admin_token_then_consume_once(self):
        """An admin's token is 201 {token, ip, user_agent, expire_at}; an account consumes it once (200, then 404)."""
        code, made, _ = yield self.served.json("POST", "/account_creation_tokens", key=ADMIN_KEY,
                                               headers=AGENT)
        self.assertEqual(code, 201)
        self.assertEqual(sorted(made), ["expire_at", "ip", "token", "user_agent"])
        self.assertRegex(made["token"], r"^[A-Za-z0-9]{13}$")
        self.assertIsNone(made["expire_at"])
        code, body, _ = yield self.served.json("POST", "/account_creation_tokens/consume", sip=BOB,
                                               key=BOB_KEY, body={"account_creation_token": made["token"]})
        self.assertEqual(code, 200)
        self.assertEqual(body, {"token": made["token"], "pn_provider": None, "pn_param": None,
                                "pn_prid": None, "used": 1, "account_id": 2, "ip": body["ip"],
                                "user_agent": None, "expire_at": None})
        code, body, _ = yield self.served.json("POST", "/account_creation_tokens/consume", sip=BOB,
                                               key=BOB_KEY, body={"account_creation_token": made["token"]})
        self.assertEqual(code, 404)
        self.assertNotIn("errors", body)

    @defer.inlineCallbacks
    def test_refusals(self):
        """A non-admin cannot make tokens (403); consume needs an account (401)."""
        code, _, _ = yield self.served.json("POST", "/account_creation_tokens", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 403)
        code, _, _ = yield self.served.json("POST", "/account_creation_tokens/consume", sip=BOB,
                                            body={"account_creation_token": "X" * 13})
        self.assertEqual(code, 401)


class RequestTokenTests(unittest.TestCase):
    """The desktop's request tokens: creation and polling (the page is in test_creation_page)."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    def poll(self, token):
        return self.served.json(
            "POST", "/account_creation_tokens/using-account-creation-request-token", sip=None,
            body={"account_creation_request_token": token})

    @defer.inlineCallbacks
    def test_pending_then_validated(self):
        """201 {token, validation_url}; 404 without errors while pending; 201 once validated, then 422."""
        code, body, _ = yield self.served.json("POST", "/account_creation_request_tokens", sip=None)
        self.assertEqual(code, 201)
        token = body["token"]
        self.assertEqual(body["validation_url"],
                         "http://127.0.0.1:8091/creation_token/check/" + token)
        code, pending, _ = yield self.poll(token)
        self.assertEqual(code, 404)
        self.assertEqual(list(pending), ["message"])
        yield self.served.storage.validate_request_token(token, None, None, self.served.now())
        code, made, _ = yield self.poll(token)
        self.assertEqual(code, 201)
        self.assertEqual(sorted(made), ["expire_at", "ip", "token", "user_agent"])
        code, body, _ = yield self.poll(token)
        self.assertEqual((code, body["errors"]), (422, {"account_creation_request_token": [
            "Please provide a valid account_creation_request_token"]}))
        code, account, _ = yield self.served.json(
            "POST", "/accounts/with-account-creation-token", sip=None,
            body={"username": "desktop1", "password": "secret1", "account_creation_token": made["token"]})
        self.assertEqual((code, account["username"]), (200, "desktop1"))

    @defer.inlineCallbacks
    def test_unknown_tokens(self):
        """An unknown or malformed request token is 422 with errors (the app stops polling)."""
        for wrong in ("X" * 13, "short", None):
            code, body, _ = yield self.poll(wrong)
            self.assertEqual(code, 422)
            self.assertIn("account_creation_request_token", body["errors"])

    @defer.inlineCallbacks
    def test_polling_every_two_seconds_is_not_throttled(self):
        """Five minutes of one poll every 2 seconds stay 404, never 429."""
        _, body, _ = yield self.served.json("POST", "/account_creation_request_tokens", sip=None)
        for _ in range(150):
            code, _, _ = yield self.poll(body["token"])
            self.assertEqual(code, 404)
            self.served.clock.advance(2)

    @defer.inlineCallbacks
    def test_polling_flood_is_throttled(self):
        """Beyond throttle.request_token_polls a minute, polls from one address are 429."""
        _, body, _ = yield self.served.json("POST", "/account_creation_request_tokens", sip=None)
        codes = []
        for _ in range(61):
            code, _, _ = yield self.poll(body["token"])
            codes.append(code)
        self.assertEqual(codes, [404] * 60 + [429])


class RecoveryTests(unittest.TestCase):
    """POST /api/account_recovery_tokens/send-by-push and the recovery token's single use."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, sender = pusher(self)
        self.served = yield serve(self, push=sender)

    def post(self, body=DEVICE):
        return self.served.json("POST", "/account_recovery_tokens/send-by-push", sip=None, body=body)

    @defer.inlineCallbacks
    def test_pushed_used_once_then_recent(self):
        """A pushed token is usable once within its lifetime; once used, the device waits (429)."""
        code, body, _ = yield self.post()
        self.assertEqual((code, body), (200, {}))
        token = self.fake.pushed()[0][3]["token"]
        context = _Context(self.served)
        found = yield recovery.usable_token(context, token)
        self.assertEqual(found.pn_prid, "device-token-1")
        used = yield recovery.use_token(context, token, 2)
        self.assertEqual(used.token, token)
        self.assertIsNone((yield recovery.use_token(context, token, 2)))
        code, body, headers = yield self.post()
        self.assertEqual((code, body), (429, RECENT))
        self.assertEqual(headers.getRawHeaders(b"retry-after"), [b"60"])
        self.served.clock.advance(61)
        code, _, _ = yield self.post()
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_token_expires(self):
        """A recovery token is no longer usable after signup.recovery_token_expiration minutes."""
        yield self.post()
        token = self.fake.pushed()[0][3]["token"]
        self.served.clock.advance(61 * 60)
        self.assertIsNone((yield recovery.use_token(_Context(self.served), token, 2)))

    @defer.inlineCallbacks
    def test_refusals(self):
        """Bad fields are 422; a failed push is 503 and stores nothing."""
        code, _, _ = yield self.post({"pn_provider": "fcm"})
        self.assertEqual(code, 422)
        off = yield serve(self)
        code, body, _ = yield off.json("POST", "/account_recovery_tokens/send-by-push", sip=None,
                                       body=DEVICE)
        self.assertEqual((code, body), (503, NOT_SENT))
        rows = yield off.storage.read(
            "probe", lambda txn: txn.all('SELECT "id" FROM "account_recovery_tokens"'))
        self.assertEqual(rows, [])


class _Context:
    """What L{famd.flows.recovery}'s lookups use of a served famd."""

    def __init__(self, served):
        self.config = served.config
        self.storage = served.storage
        self.now = served.now


globals().update(on_engines(SendByPushTests, CreationTests, ConsumeAndAdminTests,
                            RequestTokenTests, RecoveryTests))
