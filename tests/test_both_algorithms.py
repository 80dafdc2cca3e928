"""
``passwords.both_algorithms``: every path that creates an account or sets
a password stores an MD5 and a SHA-256 HA1, and DIGEST then offers and
accepts both, on every storage engine.  (Flexisip's own request returning
both rows is in L{tests.test_flexisip_request}.)
"""

import io
import json
from types import SimpleNamespace

from twisted.internet import defer
from twisted.trial import unittest

from famd import cli
from famd.accounts import new_account, password_rows
from famd.credentials import ha1
from famd.testing.storage_contract import NOW
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, answer, challenges, make_config
from tests.engines import on_engines
from tests.serving import serve

DOMAIN = "sip.example.org"
BOTH = {"both_algorithms": True}


def rows_of(account):
    return sorted((p.algorithm, p.password) for p in account.passwords)


def both(username, password):
    return [("MD5", ha1(username, DOMAIN, password, "MD5")),
            ("SHA-256", ha1(username, DOMAIN, password, "SHA-256"))]


class PasswordRowsTests(unittest.TestCase):
    """L{famd.accounts.password_rows}, the one place HA1 rows are made."""

    def test_one_or_both(self):
        """One row of the chosen algorithm by default; the chosen one first, then the other, when configured."""
        for algorithm in ("MD5", "SHA-256"):
            self.assertEqual([p.algorithm for p in password_rows(make_config(), "a", DOMAIN, "pw", algorithm)],
                             [algorithm])
        config = make_config(passwords=BOTH)
        self.assertEqual([p.algorithm for p in password_rows(config, "a", DOMAIN, "pw", "SHA-256")],
                         ["SHA-256", "MD5"])
        account = new_account(config, NOW, "a", "pw", "MD5")
        self.assertEqual(rows_of(account), both("a", "pw"))

    def test_config_checked(self):
        """passwords.both_algorithms must be a boolean, and nothing else is allowed in passwords."""
        from famd.config import ConfigError
        with self.assertRaises(ConfigError) as raised:
            make_config(passwords={"both_algorithms": "yes", "other": 1})
        self.assertEqual(len(raised.exception.errors), 2)
        self.assertTrue(all("passwords." in error for error in raised.exception.errors))


class BothAlgorithmsTests(unittest.TestCase):
    """An API served with passwords.both_algorithms: true."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self, passwords=BOTH)

    @defer.inlineCallbacks
    def test_admin_create_then_digest_with_either(self):
        """An admin-created account keeps both HA1s; its challenge offers both and either answer works."""
        code, _, _ = yield self.served.json(
            "POST", "/accounts", key=ADMIN_KEY,
            body={"username": "dualuser", "password": "dualpass", "algorithm": "SHA-256", "activated": True})
        self.assertEqual(code, 200)
        account = yield self.served.storage.find_account("dualuser", DOMAIN)
        self.assertEqual(rows_of(account), both("dualuser", "dualpass"))
        sip = "sip:dualuser@" + DOMAIN
        code, headers, _ = yield self.served.request("GET", "/accounts/me", sip=sip)
        offered = challenges(headers)
        self.assertEqual((code, [c["algorithm"] for c in offered]), (401, ["SHA-256", "MD5"]))
        # The challenges share one nonce: the second answer is its count 2.
        for count, challenge in enumerate(offered, 1):
            code, _, body = yield self.served.request(
                "GET", "/accounts/me", sip=sip,
                authorization=answer(challenge, "dualuser", "dualpass", "GET", "/api/accounts/me",
                                     nc=count))
            self.assertEqual((code, json.loads(body)["username"]), (200, "dualuser"), challenge["algorithm"])

    @defer.inlineCallbacks
    def test_password_change(self):
        """me/password replaces the HA1s by both HA1s of the new password."""
        code, _, _ = yield self.served.json("POST", "/accounts/me/password", sip=BOB, key=BOB_KEY,
                                            body={"algorithm": "MD5", "password": "bobnew",
                                                  "old_password": "bobpass"})
        self.assertEqual(code, 200)
        bob = yield self.served.storage.find_account("bob", DOMAIN)
        self.assertEqual(rows_of(bob), both("bob", "bobnew"))

    @defer.inlineCallbacks
    def test_create_admin_command(self):
        """The famd command's create-admin stores both HA1s."""
        args = SimpleNamespace(username="operator", password="0perator", algorithm="MD5", domain=None)
        yield cli.create_admin(self.served.config, self.served.storage, args, io.StringIO())
        account = yield self.served.storage.find_account("operator", DOMAIN)
        self.assertEqual(rows_of(account), both("operator", "0perator"))

    @defer.inlineCallbacks
    def test_admin_update(self):
        """An administrator's PUT with a password stores both HA1s of it."""
        bob = yield self.served.storage.find_account("bob", DOMAIN)
        code, _, _ = yield self.served.json("PUT", "/accounts/%d" % (bob.id,), key=ADMIN_KEY,
                                            body={"username": "bob", "password": "bobnewer",
                                                  "algorithm": "MD5"})
        self.assertEqual(code, 200)
        bob = yield self.served.storage.find_account("bob", DOMAIN)
        self.assertEqual(rows_of(bob), both("bob", "bobnewer"))

    @defer.inlineCallbacks
    def test_provisioning_reset(self):
        """A provisioning document with reset_password carries, and stores, both HA1s of the new password."""
        code, _, _ = yield self.served.request(
            "GET", "/me?reset_password", base="/provisioning", sip=BOB, key=BOB_KEY,
            headers={b"X-Linphone-Provisioning": [b"1"]})
        self.assertEqual(code, 200)
        bob = yield self.served.storage.find_account("bob", DOMAIN)
        self.assertEqual(sorted(p.algorithm for p in bob.passwords), ["MD5", "SHA-256"])


globals().update(on_engines(BothAlgorithmsTests))
