"""
The access log setting (``access_log`` in famd.yaml) and where its lines go:
famd's log, a file of their own written once a second, or nowhere.
"""

import os
import tempfile

from twisted.internet import defer, task
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest

from famd.accesslog import AccessLogService, FileAccess, LogAccess, from_setting
from famd.config import ConfigError, from_mapping
from famd.service import build_resources, build_service
from famd.testing.storage import open_sqlite
from tests.serving import InMemoryClient, clock_at, components


def config(**settings):
    return from_mapping(dict({"sip_domain": "sip.example.org"}, **settings), "/etc/famd")


class SettingTests(unittest.TestCase):
    """The access_log key."""

    def test_default_is_famds_log(self):
        """Without the key, access lines go to famd's log."""
        self.assertIs(config().access_log, True)
        self.assertIsInstance(from_setting(True, task.Clock()), LogAccess)

    def test_off(self):
        """false (or null) turns the access log off."""
        self.assertIs(config(access_log=False).access_log, False)
        self.assertIsNone(config(access_log=None).access_log)
        self.assertIsNone(from_setting(False, task.Clock()))
        self.assertIsNone(from_setting(None, task.Clock()))

    def test_file_relative_to_the_config(self):
        """A path is a file of its own, relative to the config file's folder."""
        self.assertEqual(config(access_log="log/access.log").access_log, "/etc/famd/log/access.log")
        self.assertEqual(config(access_log="/var/log/famd.access").access_log, "/var/log/famd.access")
        self.assertIsInstance(from_setting("/tmp/x.log", task.Clock()), FileAccess)

    def test_wrong_values(self):
        """Anything but true, false or a non-empty path is an error naming the key."""
        for value in (5, "", "  ", [], {"path": "x"}):
            error = self.assertRaises(ConfigError, config, access_log=value)
            self.assertTrue(any(e.startswith("access_log: ") for e in error.errors), error.errors)


class FileAccessTests(unittest.TestCase):
    """Lines kept in memory and appended to their file once a second."""

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(1622541600)  # 2021-06-01T10:00:00Z
        self.path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "access.log")
        self.access = FileAccess(self.path, self.clock)

    def content(self):
        if not os.path.exists(self.path):
            return ""
        with open(self.path, encoding="utf-8") as f:
            return f.read()

    def test_written_once_a_second_with_a_timestamp(self):
        """Lines reach the file a second later, each prefixed with its UTC time."""
        self.access('127.0.0.1 "GET /api/ping" 200 4 "-"')
        self.clock.advance(0.5)
        self.access('127.0.0.1 "GET /api/ping" 200 4 "é"')
        self.assertEqual(self.content(), "")
        self.clock.advance(0.5)
        self.assertEqual(self.content(),
                         '2021-06-01T10:00:00+0000 127.0.0.1 "GET /api/ping" 200 4 "-"\n'
                         '2021-06-01T10:00:00+0000 127.0.0.1 "GET /api/ping" 200 4 "é"\n')
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_close_writes_what_is_left(self):
        """Closing writes the kept lines at once; a line after that is written at once too."""
        self.access("first")
        self.access.close()
        self.assertEqual(self.content(), "2021-06-01T10:00:00+0000 first\n")
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.access("late")
        self.assertTrue(self.content().endswith("2021-06-01T10:00:00+0000 late\n"))

    def test_service_closes_it(self):
        """The service tree's access log writer flushes when famd stops."""
        service = AccessLogService(self.access)
        service.startService()
        self.access("line")
        service.stopService()
        self.assertEqual(self.content(), "2021-06-01T10:00:00+0000 line\n")

    def test_service_in_the_tree(self):
        """A configured file gets its writer in the service tree, after the listener."""
        tree = list(build_service(config(access_log=self.path, listen="tcp:0"), self.clock))
        self.assertIsInstance(tree[-1], AccessLogService)
        self.assertIsInstance(tree[-1].access, FileAccess)
        self.assertEqual(tree[-1].access.path, self.path)


class SiteTests(unittest.TestCase):
    """The site writes one line per request where it is told, secrets masked."""

    @defer.inlineCallbacks
    def serve(self, access):
        storage = yield open_sqlite(self)
        built = components(storage, clock_at())
        self.client = InMemoryClient(build_resources(config(), built), 1024, access=access)
        return "http://famd.test"

    def get(self, url):
        return self.client.request("GET", url, headers={b"User-Agent": [b"tester"]})

    @defer.inlineCallbacks
    def test_lines_to_a_callable(self):
        """Each request hands one line to the access writer."""
        lines = []
        base = yield self.serve(lines.append)
        yield self.get(base + "/api/ping")
        yield self.get(base + "/provisioning/SECRETKEY1234?x=1")
        self.assertEqual(len(lines), 2)
        self.assertRegex(lines[0], r'^127\.0\.0\.1 "GET /api/ping" 200 4 "tester"$')
        self.assertIn('"GET /provisioning/***"', lines[1])
        self.assertNotIn("SECRETKEY1234", "".join(lines))

    @defer.inlineCallbacks
    def test_lines_to_famds_log(self):
        """The default writer makes one famd.access event per request."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        base = yield self.serve(LogAccess())
        yield self.get(base + "/api/ping")
        access = [e for e in events if e.get("log_namespace") == "famd.access"]
        self.assertEqual(len(access), 1)
        self.assertEqual(formatEvent(access[0]), '127.0.0.1 "GET /api/ping" 200 4 "tester"')

    @defer.inlineCallbacks
    def test_no_lines_when_off(self):
        """With the access log off, requests log nothing."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        base = yield self.serve(None)
        yield self.get(base + "/api/ping")
        self.assertEqual([e for e in events if e.get("log_namespace") == "famd.access"], [])
