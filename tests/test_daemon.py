"""
The installed daemon, started as an operator starts it: ``twistd -n famd``.
"""

import os
import re
import sqlite3

import treq
from twisted.internet import defer, reactor, utils
from twisted.trial import unittest

from famd.testing.daemon import installed, start_daemon, write_config

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
sip_domain: sip.example.org
storage: {backend: sqlite, path: daemon.sqlite}
"""


class DaemonTests(unittest.TestCase):
    """twistd famd on a real port."""

    @defer.inlineCallbacks
    def test_serves_ping_and_stops_cleanly(self):
        """The daemon answers /api/ping with pong and exits 0 on SIGTERM."""
        daemon = yield start_daemon(self, CONFIG)
        response = yield treq.get(daemon.url + "/api/ping", persistent=False)
        self.assertEqual((yield response.content()), b"pong")
        response = yield treq.get(daemon.url + "/api/nope", persistent=False)
        self.assertEqual(response.code, 404)
        yield response.content()
        started = reactor.seconds()
        code = yield daemon.stop()
        self.assertEqual(code, 0, daemon.log())
        self.assertLess(reactor.seconds() - started, 10)

    @defer.inlineCallbacks
    def test_serves_the_panel(self):
        """The daemon serves the account panel at / beside the API: a page with its cookie, and a form posted back with it."""
        daemon = yield start_daemon(self, CONFIG)
        response = yield treq.get(daemon.url + "/login", persistent=False)
        page = (yield response.content()).decode("utf-8")
        self.assertEqual(response.code, 200)
        self.assertEqual(response.headers.getRawHeaders(b"content-type"), [b"text/html; charset=utf-8"])
        cookie = response.headers.getRawHeaders(b"set-cookie")[0].split(b";")[0]
        token = re.search(r'name="__csrf_protection__" value="([0-9a-f]+)"', page).group(1)
        response = yield treq.post(
            daemon.url + "/login", data={"identifier": "nobody", "password": "wrong",
                                         "__csrf_protection__": token},
            headers={b"Cookie": [cookie]}, persistent=False)
        self.assertEqual(response.code, 403)
        self.assertIn(b"Wrong username or password.", (yield response.content()))
        yield daemon.stop()

    @defer.inlineCallbacks
    def test_sample_configuration_runs(self):
        """The repository's famd.yaml starts as it is (on another port) and creates its SQLite file."""
        with open(os.path.join(os.path.dirname(__file__), "..", "famd.yaml")) as f:
            sample = f.read()
        sample = sample.replace('listen: "tcp:8080:interface=127.0.0.1"',
                                'listen: "tcp:{port}:interface=127.0.0.1"')
        daemon = yield start_daemon(self, sample)
        database = os.path.join(os.path.dirname(daemon.config_path), "famd.sqlite")
        self.assertTrue(os.path.exists(database))
        yield daemon.stop()

    @defer.inlineCallbacks
    def test_bad_config_refused_before_binding(self):
        """A typo in a key or a backend name stops twistd with exit 1 and the dotted key."""
        path = write_config(CONFIG.replace("{port}", "1") + "sip_domian: x\nsms: {backend: carrier-pigeon}\n")
        out, err, code = yield utils.getProcessOutputAndValue(
            installed("twistd"), ["-n", "--pidfile=", "famd", "--config", path],
            env=dict(os.environ), path=os.path.dirname(path))
        self.assertEqual(code, 1)
        output = (out + err).decode()
        self.assertIn("sip_domian: unknown key", output)
        self.assertIn("sms.backend: unknown backend 'carrier-pigeon'; available:", output)

    @defer.inlineCallbacks
    def test_newer_schema_refused(self):
        """A database migrated by a newer famd stops twistd with exit 1 and says why."""
        path = write_config(CONFIG.replace("{port}", "1"))
        database = os.path.join(os.path.dirname(path), "daemon.sqlite")
        connection = sqlite3.connect(database)
        connection.execute("CREATE TABLE famd_schema (version integer primary key, applied_at varchar)")
        connection.execute("INSERT INTO famd_schema VALUES (99, '2030-01-01 00:00:00')")
        connection.commit()
        connection.close()
        out, err, code = yield utils.getProcessOutputAndValue(
            installed("twistd"), ["-n", "--pidfile=", "famd", "--config", path],
            env=dict(os.environ), path=os.path.dirname(path))
        self.assertEqual(code, 1)
        self.assertIn("newer than this famd", (out + err).decode())

    @defer.inlineCallbacks
    def test_help_lists_config(self):
        """twistd famd --help from the installed copy lists --config."""
        out, err, code = yield utils.getProcessOutputAndValue(
            installed("twistd"), ["famd", "--help"], env=dict(os.environ), path="/")
        self.assertEqual(code, 0, err)
        self.assertIn(b"--config", out)
