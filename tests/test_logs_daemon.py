"""
famd's log as twistd writes it, from the installed daemon (``twistd -n
famd``): log_format json on stdout and in a --logfile file (every line one
JSON object, twistd's start-up lines included), text unchanged in shape,
and the buffered access log losing nothing when famd is stopped with SIGTERM.
"""

import json
import os
import re
import signal

import treq
from twisted.internet import defer, protocol, reactor, task
from twisted.trial import unittest

from famd.testing.daemon import free_port, installed, write_config

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
sip_domain: sip.example.org
storage: {{backend: sqlite, path: daemon.sqlite}}
{extra}
"""
SECRET_PATH = "/provisioning/SECRETKEY0123456789"
CLASSIC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} \[[^\]]+\] ")


class _Output(protocol.ProcessProtocol):
    def __init__(self):
        self.out, self.err = [], []
        self.ended = defer.Deferred()

    def outReceived(self, data):
        self.out.append(data)

    def errReceived(self, data):
        self.err.append(data)

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode)


class LoggedDaemon:
    """``twistd -n [ARGUMENTS] famd`` with stdout and stderr kept apart."""

    def __init__(self, test_case, extra, arguments=()):
        self.port = free_port()
        self.config_path = write_config(CONFIG.format(port=self.port, extra=extra))
        self.folder = os.path.dirname(self.config_path)
        self.url = "http://127.0.0.1:%d" % (self.port,)
        self.output = _Output()
        twistd = installed("twistd")
        self.process = reactor.spawnProcess(
            self.output, twistd,
            [twistd, "-n", "--pidfile="] + list(arguments) + ["famd", "--config", self.config_path],
            env=dict(os.environ), path=self.folder)
        test_case.addCleanup(self.stop)

    def stdout(self):
        return b"".join(self.output.out).decode("utf-8")

    def stderr(self):
        return b"".join(self.output.err).decode("utf-8", "replace")

    @defer.inlineCallbacks
    def get(self, path):
        """GET C{path}; fire with its status."""
        response = yield treq.get(self.url + path, persistent=False)
        yield response.content()
        return response.code

    @defer.inlineCallbacks
    def ready(self, timeout=20.0):
        """Wait until /api/ping answers; fire with the number of pings answered (each logs a line)."""
        deadline = reactor.seconds() + timeout
        while reactor.seconds() < deadline:
            if self.output.ended.called:
                raise RuntimeError("famd exited early:\n%s\n%s" % (self.stdout(), self.stderr()))
            try:
                if (yield self.get("/api/ping")) == 200:
                    return 1
            except Exception:
                pass
            yield task.deferLater(reactor, 0.1, lambda: None)
        raise RuntimeError("famd did not answer:\n%s\n%s" % (self.stdout(), self.stderr()))

    def stop(self):
        """SIGTERM; fire with the exit code."""
        if not self.output.ended.called:
            self.process.signalProcess(signal.SIGTERM)
        return self.output.ended

    @defer.inlineCallbacks
    def requests_then_stop(self):
        """
        Serve some requests (pings, a secret path, a 404) and SIGTERM right
        after the last answer, well within the access log's second; fire
        with the number of pings answered.
        """
        pings = yield self.ready()
        for _ in range(3):
            self.assertOk((yield self.get("/api/ping")))
            pings += 1
        yield self.get(SECRET_PATH)
        yield self.get("/api/nope")
        code = yield self.stop()
        if code != 0:
            raise RuntimeError("famd exited %s:\n%s" % (code, self.stderr()))
        return pings

    @staticmethod
    def assertOk(code):
        if code != 200:
            raise AssertionError(code)


class JsonLogTests(unittest.TestCase):
    """log_format: json from the real daemon."""

    def check_json_log(self, text, pings):
        lines = text.splitlines()
        records = [json.loads(line) for line in lines]  # every line parses
        for record in records:
            self.assertTrue({"time", "level", "namespace", "text"} <= set(record), record)
        texts = [record["text"] for record in records]
        self.assertTrue(any(t.startswith("twistd ") and "starting up" in t for t in texts), texts)
        self.assertTrue(any(t.startswith("reactor class: ") for t in texts), texts)
        self.assertTrue(any("starting on %s" % (self.daemon.port,) in t for t in texts), texts)
        self.assertIn("Server Shut Down.", texts)
        access = [r for r in records if r["namespace"] == "famd.access"]
        self.assertEqual(len([r for r in access if r.get("path") == "/api/ping"]), pings)
        self.assertEqual([r["status"] for r in access if r.get("path") == "/api/nope"], [404])
        masked = [r for r in access if r.get("path", "").startswith("/provisioning/")]
        self.assertEqual([r["path"] for r in masked], ["/provisioning/***"])
        self.assertEqual(masked[0]["method"], "GET")
        self.assertEqual(masked[0]["client"], "127.0.0.1")
        self.assertNotIn("SECRETKEY", text)

    @defer.inlineCallbacks
    def test_stdout(self):
        """With -n, every stdout line is one JSON object: twistd's start-up lines, one per request, secrets masked, none lost on SIGTERM."""
        self.daemon = LoggedDaemon(self, "log_format: json")
        pings = yield self.daemon.requests_then_stop()
        self.check_json_log(self.daemon.stdout(), pings)

    @defer.inlineCallbacks
    def test_logfile(self):
        """With --logfile, the file holds the same JSON lines and stdout nothing."""
        path = os.path.join(os.path.abspath(self.mktemp()), "famd.log")
        os.makedirs(os.path.dirname(path))
        self.daemon = LoggedDaemon(self, "log_format: json", ["--logfile", path])
        pings = yield self.daemon.requests_then_stop()
        with open(path, encoding="utf-8") as f:
            self.check_json_log(f.read(), pings)
        self.assertEqual(self.daemon.stdout(), "")


class TextLogTests(unittest.TestCase):
    """log_format: text (the default) from the real daemon."""

    @defer.inlineCallbacks
    def test_classic_lines(self):
        """Every line keeps twistd's classic shape; access lines are [famd.access#info] LINE, none lost on SIGTERM."""
        self.daemon = LoggedDaemon(self, "")
        pings = yield self.daemon.requests_then_stop()
        lines = self.daemon.stdout().splitlines()
        for line in lines:
            self.assertRegex(line, CLASSIC)
        self.assertIn("starting up.", lines[0])
        access = [line for line in lines if "[famd.access#info] " in line]
        self.assertEqual(len([line for line in access
                              if line.endswith('[famd.access#info] 127.0.0.1 "GET /api/ping" 200 4 "-"')]),
                         pings)
        self.assertEqual(len([line for line in access if '"GET /provisioning/***"' in line]), 1)
        self.assertEqual(len([line for line in access if '"GET /api/nope" 404' in line]), 1)
        self.assertNotIn("SECRETKEY", self.daemon.stdout())
        self.assertTrue(lines[-1].endswith("Server Shut Down."), lines[-1])
