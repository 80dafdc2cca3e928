"""
Rules the anonymous creation routes of both generations share, on every
storage engine: no phone-number-shaped username (it would squat the number),
and ``signup.creation_token_expiration`` on the 2021 ``with-token`` too;
the largest durations famd.yaml accepts serve these routes.
"""

from datetime import timedelta

from twisted.internet import defer
from twisted.trial import unittest

from famd.config import MOST_MINUTES, MOST_SECONDS
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY
from tests.engines import on_engines
from tests.flows_fixtures import pusher
from tests.serving import serve

PHONE_SHAPED = ("+33612345678", "+1555010999")
NOT_A_PHONE = ["The username should not be a phone number"]
TOKEN = "Tok3nTok3nTok"
DEVICE = {"pn_provider": "fcm", "pn_param": "ABCD1234", "pn_prid": "device-token-1"}


class AnonymousUsernameTests(unittest.TestCase):
    """A stranger may not take a phone number as a username; an administrator may."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    @defer.inlineCallbacks
    def add_token(self, text=TOKEN, age=timedelta(0)):
        yield self.served.storage.add_plain_token(text, None, None, self.served.now() - age)

    def create_2x(self, username, token=TOKEN):
        return self.served.json("POST", "/accounts/with-account-creation-token", sip=None, body={
            "username": username, "password": "secret1", "account_creation_token": token})

    def create_2021(self, username, token=TOKEN):
        return self.served.json("POST", "/accounts/with-token", sip=None, body={
            "username": username, "password": "secret1", "algorithm": "MD5", "token": token})

    @defer.inlineCallbacks
    def test_phone_shaped_usernames_refused(self):
        """Both anonymous creation routes answer 422 errors.username for an E.164-shaped name; the token stays unused."""
        yield self.add_token()
        for username in PHONE_SHAPED:
            for create in (self.create_2x, self.create_2021):
                code, body, _ = yield create(username)
                self.assertEqual((code, body["errors"]), (422, {"username": NOT_A_PHONE}), username)
        found = yield self.served.storage.creation_token(TOKEN)
        self.assertFalse(found.used)
        for number, username in enumerate(("33612345678", "bob+33612345678")):
            yield self.add_token("2021token%04d" % (number,))
            code, body, _ = yield self.create_2021(username, "2021token%04d" % (number,))
            self.assertEqual((code, body["username"]), (200, username))
            yield self.add_token("2x-token-%04d" % (number,))
            code, body, _ = yield self.create_2x(username + "x", "2x-token-%04d" % (number,))
            self.assertEqual((code, body["username"]), (200, username + "x"))

    @defer.inlineCallbacks
    def test_administrator_may(self):
        """Admin POST /api/accounts still creates a phone-number-shaped username."""
        code, body, _ = yield self.served.json("POST", "/accounts", key=ADMIN_KEY, body={
            "username": PHONE_SHAPED[0], "password": "secret1", "algorithm": "MD5"})
        self.assertEqual((code, body["username"]), (200, PHONE_SHAPED[0]))


class LegacyTokenExpiryTests(unittest.TestCase):
    """signup.creation_token_expiration holds on the 2021 POST /api/accounts/with-token."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self, signup={"creation_token_expiration": 10})

    def create(self, token, username="newuser21"):
        return self.served.json("POST", "/accounts/with-token", sip=None, body={
            "username": username, "password": "secret1", "algorithm": "MD5", "token": token})

    @defer.inlineCallbacks
    def test_expired_token_refused(self):
        """A token made more than 10 minutes ago is 422 errors.token and stays unused; a fresh one works."""
        now = self.served.now()
        yield self.served.storage.add_plain_token(TOKEN, None, None, now - timedelta(minutes=11))
        code, body, _ = yield self.create(TOKEN)
        self.assertEqual((code, body["errors"]), (422, {"token": ["The provided token is expired"]}))
        found = yield self.served.storage.creation_token(TOKEN)
        self.assertFalse(found.used)
        fresh = "Fr3shFr3shFr3"
        yield self.served.storage.add_plain_token(fresh, None, None, now - timedelta(minutes=9))
        code, body, _ = yield self.create(fresh)
        self.assertEqual((code, body["username"]), (200, "newuser21"))

    @defer.inlineCallbacks
    def test_never_when_zero(self):
        """With the default 0, a token of any age creates an account."""
        served = yield serve(self)
        yield served.storage.add_plain_token(TOKEN, None, None, served.now() - timedelta(days=400))
        code, body, _ = yield served.json("POST", "/accounts/with-token", sip=None, body={
            "username": "newuser21", "password": "secret1", "algorithm": "MD5", "token": TOKEN})
        self.assertEqual((code, body["username"]), (200, "newuser21"))


class LargestSettingsTests(unittest.TestCase):
    """The largest durations config.py accepts (ten years) serve sign-up and provisioning, never a 500."""

    @defer.inlineCallbacks
    def test_sign_up_and_provision(self):
        """send-by-push, both creation routes, consume and a provisioning token work at the bounds."""
        fake, sender = pusher(self)
        served = yield serve(
            self, push=sender,
            signup=dict.fromkeys(("creation_token_expiration", "creation_token_retry",
                                  "recovery_token_expiration", "recovery_token_retry"), MOST_MINUTES),
            provisioning={"token_lifetime": MOST_SECONDS}, reset_password_email_lifetime=MOST_SECONDS)
        code, _, _ = yield served.json("POST", "/account_creation_tokens/send-by-push", sip=None, body=DEVICE)
        self.assertEqual(code, 200)
        [(_, _, _, payload)] = fake.pushed()
        code, body, _ = yield served.json("POST", "/accounts/with-account-creation-token", sip=None, body={
            "username": "newuser2x", "password": "secret1", "account_creation_token": payload["token"]})
        self.assertEqual(code, 200)
        code, _, _ = yield served.json("POST", "/account_creation_tokens/send-by-push", sip=None, body=DEVICE)
        self.assertEqual(code, 429)
        yield served.storage.add_plain_token(TOKEN, None, None, served.now())
        code, _, _ = yield served.json("POST", "/accounts/with-token", sip=None, body={
            "username": "newuser21", "password": "secret1", "algorithm": "MD5", "token": TOKEN})
        self.assertEqual(code, 200)
        code, body, _ = yield served.json("GET", "/accounts/me/provision", sip=BOB, key=BOB_KEY)
        self.assertEqual(code, 200)
        code, _, _ = yield served.request("GET", "/" + body["provisioning_token"], sip=None, base="/provisioning")
        self.assertEqual(code, 200)


globals().update(on_engines(AnonymousUsernameTests, LegacyTokenExpiryTests, LargestSettingsTests))
