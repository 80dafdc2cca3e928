"""
The account API of the installed daemon on a real port: ``twistd -n famd``
and the ``famd`` command, as an operator runs them.
"""

import json

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.daemon import run_famd, start_daemon
from tests.api_helpers import answer, call, challenges

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
public_url: "http://famd.example.org"
sip_domain: sip.example.org
max_body_size: 4096
storage: {backend: sqlite, path: api.sqlite}
"""
ADMIN = "sip:admin1@sip.example.org"
ME = "/api/accounts/me"
PATH = "/accounts/me"


class DaemonAccountTests(unittest.TestCase):
    """Accounts and authentication on the installed daemon."""

    @defer.inlineCallbacks
    def setUp(self):
        self.daemon = yield start_daemon(self, CONFIG)
        out, err, code = yield run_famd(self.daemon.config_path, "create-admin", "admin1",
                                        "--password", "adminpass", "--algorithm", "MD5")
        self.assertEqual(code, 0, err)
        self.key = out.decode().strip().splitlines()[-1]
        self.url = self.daemon.url + "/api"

    @defer.inlineCallbacks
    def create(self, body):
        code, _, content = yield call(self.url, "POST", "/accounts", sip=ADMIN, key=self.key,
                                      body=body)
        return code, json.loads(content)

    @defer.inlineCallbacks
    def test_create_show_list(self):
        """An admin key creates an account, which info, show and the listing then report."""
        code, created = yield self.create({"username": "daemonuser", "password": "secret1",
                                           "algorithm": "SHA-256"})
        self.assertEqual((code, created["activated"], len(created["confirmation_key"])),
                         (200, False, 13))
        code, _, content = yield call(self.url, "GET", "/accounts/daemonuser@sip.example.org/info",
                                      sip=None)
        self.assertEqual((code, json.loads(content)), (200, {"activated": False, "realm": None}))
        code, _, content = yield call(self.url, "GET", "/accounts?page=1", sip=ADMIN, key=self.key)
        listing = json.loads(content)
        self.assertEqual((code, listing["total"], listing["path"]),
                         (200, 2, "http://famd.example.org/api/accounts"))
        code, _, content = yield call(self.url, "GET", "/accounts/%d" % (created["id"],),
                                      sip=ADMIN, key=self.key)
        self.assertEqual(json.loads(content)["confirmation_key"], created["confirmation_key"])

    @defer.inlineCallbacks
    def test_concurrent_replays(self):
        """16 simultaneous identical DIGEST requests to the daemon: exactly one 200."""
        code, headers, content = yield call(self.url, "GET", PATH, sip=ADMIN)
        self.assertEqual((code, json.loads(content)), (401, {"message": "Unauthenticated request"}))
        offered = challenges(headers)
        self.assertEqual([c["algorithm"] for c in offered], ["MD5"])
        authorization = answer(offered[0], "admin1", "adminpass", "GET", ME)
        results = yield defer.gatherResults([
            call(self.url, "GET", PATH, sip=ADMIN, authorization=authorization) for _ in range(16)])
        codes = sorted(code for code, _, _ in results)
        self.assertEqual(codes, [200] + [401] * 15)
        bodies = {json.loads(body)["message"] for code, _, body in results if code == 401}
        # the first replay burns the nonce (as in 2021): later ones find it gone
        self.assertIn("Nonce replayed", bodies)
        self.assertLessEqual(bodies, {"Nonce replayed", "Nonce invalid"})

    @defer.inlineCallbacks
    def test_digest_continues_and_deletes(self):
        """A created, activated account logs in by DIGEST, continues with nc=2 and deletes itself."""
        code, _ = yield self.create({"username": "digester", "password": "secret1",
                                     "algorithm": "SHA-256", "activated": True})
        self.assertEqual(code, 200)
        sip = "sip:digester@sip.example.org"
        _, headers, _ = yield call(self.url, "GET", PATH, sip=sip)
        offered = challenges(headers)[0]
        self.assertEqual(offered["algorithm"], "SHA-256")
        code, headers, _ = yield call(self.url, "GET", PATH, sip=sip,
                                      authorization=answer(offered, "digester", "secret1", "GET", ME))
        self.assertEqual(code, 200)
        again = challenges(headers)[0]
        self.assertEqual(again["nonce"], offered["nonce"])
        code, _, content = yield call(self.url, "DELETE", PATH, sip=sip, authorization=answer(
            again, "digester", "secret1", "DELETE", ME, nc=2))
        self.assertEqual((code, content), (200, b"1"))
        code, _, _ = yield call(self.url, "GET", PATH, sip=sip)
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_errors_are_never_500(self):
        """Malformed From, bad JSON and an oversized body get 4xx answers from the daemon."""
        code, _, _ = yield call(self.url, "GET", PATH, sip="sip:", key=self.key)
        self.assertEqual(code, 422)
        code, _, _ = yield call(self.url, "POST", "/accounts", sip=ADMIN, key=self.key,
                                body=b"[" * 3000)
        self.assertEqual(code, 400)
        code, _, content = yield call(self.url, "POST", "/accounts", sip=ADMIN, key=self.key,
                                      body={"username": "toolarge", "pad": "x" * 5000})
        self.assertEqual(code, 413)
        self.assertIn("message", json.loads(content))
