"""
DIGEST across passwords, realms, processes and time, through the real /api
resource tree on every storage engine: challenges per stored password,
nonces and the opaque shared by every famd on a database, expiry and
purging.
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from famd.accounts import new_account
from famd.auth import Authenticator
from famd.model import Password
from famd.service import purge_nonces
from famd.testing.storage_contract import NOW
from tests.api_helpers import answer, challenge_for, challenges
from tests.engines import on_engines
from tests.serving import serve

ME = "/api/accounts/me"
ANNE = "sip:annette@sip.example.org"


class ChallengeTests(unittest.TestCase):
    """What a 401 offers."""

    @defer.inlineCallbacks
    def test_one_challenge_per_password(self):
        """Passwords in row order give SHA-256 then MD5; each algorithm logs in."""
        api = yield serve(self)
        yield api.storage.create_account(new_account(
            api.config, NOW, "annette", "annepass", "SHA-256", activated=True))
        account = yield api.storage.find_account("annette", "sip.example.org")
        md5 = new_account(api.config, NOW, "annette", "annepass", "MD5").passwords[0]
        yield api.storage.replace_passwords(account.id, list(account.passwords) + [md5])
        code, headers, _ = yield api.request("GET", "/accounts/me", sip=ANNE)
        self.assertEqual([c["algorithm"] for c in challenges(headers)], ["SHA-256", "MD5"])
        self.assertEqual(len({c["nonce"] for c in challenges(headers)}), 1)
        for algorithm in ("SHA-256", "MD5"):
            offered = yield challenge_for(api, sip=ANNE, algorithm=algorithm)
            code, _, body = yield api.request(
                "GET", "/accounts/me", sip=ANNE,
                authorization=answer(offered, "annette", "annepass", "GET", ME))
            self.assertEqual((code, json.loads(body)["username"]), (200, "annette"), algorithm)

    @defer.inlineCallbacks
    def test_clear_text_offers_both(self):
        """A CLRTXT row offers MD5 and SHA-256, and both verify."""
        api = yield serve(self)
        yield api.storage.create_account(new_account(
            api.config, NOW, "annette", "x", "MD5", activated=True))
        account = yield api.storage.find_account("annette", "sip.example.org")
        yield api.storage.replace_passwords(account.id, [Password("annepass", "CLRTXT")])
        for algorithm in ("MD5", "SHA-256"):
            offered = yield challenge_for(api, sip=ANNE, algorithm=algorithm)
            code, _, _ = yield api.request(
                "GET", "/accounts/me", sip=ANNE,
                authorization=answer(offered, "annette", "annepass", "GET", ME))
            self.assertEqual(code, 200, algorithm)

    @defer.inlineCallbacks
    def test_configured_realm(self):
        """With a configured realm, challenges carry it and HA1s are computed with it."""
        api = yield serve(self, realm="famd.example.org")
        yield api.storage.create_account(new_account(
            api.config, NOW, "annette", "annepass", "MD5", activated=True))
        offered = yield challenge_for(api, sip=ANNE)
        self.assertEqual(offered["realm"], "famd.example.org")
        code, _, _ = yield api.request("GET", "/accounts/me", sip=ANNE,
                                       authorization=answer(offered, "annette", "annepass", "GET", ME))
        self.assertEqual(code, 200)


class SharedTests(unittest.TestCase):
    """Several famd processes on one database."""

    @defer.inlineCallbacks
    def test_nonce_accepted_by_another_process(self):
        """A nonce issued by one famd is accepted by another on the same database, once."""
        first = yield serve(self)
        second = yield serve(self, beside=first)
        self.assertIsNot(first.storage, second.storage)
        offered = yield challenge_for(first)
        code, headers, _ = yield second.request(
            "GET", "/accounts/me", authorization=answer(offered, "user", "secret", "GET", ME))
        self.assertEqual(code, 200)
        self.assertEqual(challenges(headers), [offered])
        code, _, body = yield first.request(
            "GET", "/accounts/me", authorization=answer(offered, "user", "secret", "GET", ME))
        self.assertEqual((code, json.loads(body)), (401, {"message": "Nonce replayed"}))

    @defer.inlineCallbacks
    def test_opaque_shared_and_secret_free(self):
        """Every Authenticator on a database gets the same random opaque, stored once."""
        first = yield serve(self)
        second = yield serve(self, beside=first)
        opaques = yield defer.gatherResults([
            Authenticator.from_config(first.config, first.storage, first.now).opaque(),
            Authenticator.from_config(second.config, second.storage, second.now).opaque(),
            challenge_for(first)])
        opaques[2] = opaques[2]["opaque"]
        self.assertEqual(len(set(opaques)), 1)
        self.assertEqual(len(opaques[0]), 32)
        stored = yield second.storage.read("probe", lambda txn: txn.all(
            'SELECT "value" FROM "famd_settings" WHERE "name" = ?', ("digest_opaque",)))
        self.assertEqual([tuple(row) for row in stored], [(opaques[0],)])


class LifetimeTests(unittest.TestCase):
    """Nonces expire and are purged."""

    @defer.inlineCallbacks
    def test_expired_nonce_invalid(self):
        """A nonce older than nonce_lifetime is invalid; a younger one works."""
        api = yield serve(self, nonce_lifetime=600, nonce_first_use_window=600)
        offered = yield challenge_for(api)
        api.clock.advance(599)
        code, _, _ = yield api.request("GET", "/accounts/me",
                                       authorization=answer(offered, "user", "secret", "GET", ME))
        self.assertEqual(code, 200)
        api.clock.advance(2)
        code, _, body = yield api.request(
            "GET", "/accounts/me", authorization=answer(offered, "user", "secret", "GET", ME, nc=2))
        self.assertEqual((code, json.loads(body)), (401, {"message": "Nonce invalid"}))

    @defer.inlineCallbacks
    def test_purged(self):
        """The timer's purge deletes the nonces of past answers, not fresh ones."""
        api = yield serve(self)
        for _ in range(3):
            offered = yield challenge_for(api)
            code, _, _ = yield api.request("GET", "/accounts/me",
                                           authorization=answer(offered, "user", "secret", "GET", ME))
            self.assertEqual(code, 200)
        api.clock.advance(3601)
        fresh = yield challenge_for(api)
        deleted = yield purge_nonces(api.storage, api.now, api.config.nonce_lifetime)
        self.assertEqual(deleted, 3)
        code, _, _ = yield api.request("GET", "/accounts/me",
                                       authorization=answer(fresh, "user", "secret", "GET", ME))
        self.assertEqual(code, 200)


globals().update(on_engines(ChallengeTests, SharedTests, LifetimeTests))
