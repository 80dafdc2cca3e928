"""
Several processes, one service: three installed ``twistd famd`` daemons on
one database (a SQLite file, a fresh MariaDB database, a fresh PostgreSQL
database) share everything that must be shared, through that database:
DIGEST nonces and their counts, the opaque, single-use tokens and the
counters of wrong codes.
"""

import json
import os
import tempfile

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.daemon import run_famd, start_daemon
from famd.testing.databases import SERVERS, fresh_database
from famd.testing.pusher import FakePusher
from tests.api_helpers import answer, call, challenges

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
public_url: "http://famd.example.org"
sip_domain: sip.example.org
storage: %(storage)s
push: %(push)s
"""
ADMIN = "sip:admin1@sip.example.org"
ME = "/api/accounts/me"
DEVICE = {"pn_provider": "fcm", "pn_param": "ABCD1234", "pn_prid": "device-token-1"}


class SeveralProcesses:
    """Three daemons on one database of C{engine} behave as one service."""

    engine = None

    @defer.inlineCallbacks
    def storage_options(self):
        """The storage mapping of famd.yaml for a new database of this engine."""
        if self.engine == "sqlite":
            folder = tempfile.mkdtemp(prefix="famd-multi-")
            return {"backend": "sqlite", "path": os.path.join(folder, "famd.sqlite")}
        server = SERVERS[self.engine]
        name = yield fresh_database(self, server)
        return {"backend": self.engine, "url": server.database_url(name)}

    @defer.inlineCallbacks
    def setUp(self):
        self.pusher = FakePusher(os.path.abspath(self.mktemp()))
        config = CONFIG % {
            "storage": json.dumps((yield self.storage_options())),
            "push": json.dumps({"backend": "flexisip-pusher", "path": self.pusher.path}),
        }
        self.daemons = yield defer.gatherResults(
            [start_daemon(self, config) for _ in range(3)], consumeErrors=True)
        out, err, code = yield run_famd(self.daemons[0].config_path, "create-admin", "admin1",
                                        "--password", "adminpass", "--algorithm", "MD5")
        self.assertEqual(code, 0, err)
        self.key = out.decode().strip().splitlines()[-1]

    def call(self, daemon, method, path, **kwargs):
        """One request to C{daemon}'s /api."""
        return call(daemon.url + "/api", method, path, **kwargs)

    @defer.inlineCallbacks
    def test_digest_across_processes(self):
        """A challenge from one daemon is answered on a second, and the replay on a third is refused."""
        first, second, third = self.daemons
        offered = []
        for daemon in self.daemons:
            code, headers, _ = yield self.call(daemon, "GET", "/accounts/me", sip=ADMIN)
            self.assertEqual(code, 401)
            offered.append(challenges(headers)[0])
        self.assertEqual(len({challenge["opaque"] for challenge in offered}), 1)
        authorization = answer(offered[0], "admin1", "adminpass", "GET", ME)
        code, _, body = yield self.call(second, "GET", "/accounts/me", sip=ADMIN,
                                        authorization=authorization)
        self.assertEqual((code, json.loads(body)["username"]), (200, "admin1"))
        code, _, body = yield self.call(third, "GET", "/accounts/me", sip=ADMIN,
                                        authorization=authorization)
        self.assertEqual((code, json.loads(body)), (401, {"message": "Nonce replayed"}))
        code, _, _ = yield self.call(first, "GET", "/accounts/me", sip=ADMIN, authorization=answer(
            offered[0], "admin1", "adminpass", "GET", ME, nc=2))
        self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_token_used_once_across_processes(self):
        """One account-creation token used at once on all three daemons creates exactly one account."""
        code, _, _ = yield self.call(self.daemons[0], "POST", "/tokens", sip=None, body=DEVICE)
        self.assertEqual(code, 200)
        token = self.pusher.pushed()[0][3]["token"]
        results = yield defer.gatherResults([
            self.call(daemon, "POST", "/accounts/with-token", sip=None, body={
                "username": "racer%d" % (n,), "password": "secret1", "algorithm": "MD5",
                "token": token})
            for n, daemon in enumerate(self.daemons * 4)
        ])
        self.assertEqual(sorted(code for code, _, _ in results), [200] + [422] * 11)
        for code, _, body in results:
            if code == 422:
                self.assertEqual(json.loads(body)["errors"],
                                 {"token": ["The selected token is invalid."]})
        code, _, body = yield self.call(self.daemons[2], "GET", "/accounts", sip=ADMIN,
                                        key=self.key)
        usernames = [account["username"] for account in json.loads(body)["data"]]
        self.assertEqual(len([name for name in usernames if name.startswith("racer")]), 1)
        self.assertEqual(json.loads(body)["total"], 2)

    @defer.inlineCallbacks
    def test_wrong_codes_counted_across_processes(self):
        """Twenty wrong activation codes from one address, spread over the three daemons, block it on each."""
        code, _, body = yield self.call(self.daemons[0], "POST", "/accounts", sip=ADMIN,
                                        key=self.key, body={"username": "guessed",
                                                            "password": "secret1",
                                                            "algorithm": "MD5"})
        self.assertEqual(code, 200)
        right = json.loads(body)["confirmation_key"]
        path = "/accounts/guessed@sip.example.org/activate/email"
        for n in range(20):
            code, _, _ = yield self.call(self.daemons[n % 3], "POST", path, sip=None,
                                         body={"code": "abcdefghijklm"})
            self.assertEqual(code, 404)
        for daemon in self.daemons:
            code, headers, _ = yield self.call(daemon, "POST", path, sip=None,
                                               body={"code": right})
            self.assertEqual(code, 429)
            self.assertTrue(headers.getRawHeaders(b"retry-after"))


class SQLiteSeveralProcessesTests(SeveralProcesses, unittest.TestCase):
    """Three daemons on one SQLite file."""

    engine = "sqlite"


class MySQLSeveralProcessesTests(SeveralProcesses, unittest.TestCase):
    """Three daemons on one fresh MariaDB database."""

    engine = "mysql"


class PostgreSQLSeveralProcessesTests(SeveralProcesses, unittest.TestCase):
    """Three daemons on one fresh PostgreSQL database."""

    engine = "postgresql"
