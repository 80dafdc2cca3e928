"""
famd's log observer (famd.logs): log_format text and json, access lines
published once a second as batches and written one line each, lines relayed
from elsewhere (write_batch, a batch event after a JSON round trip), and
the observer twistd uses instead of its own.
"""

import io
import json
import os
import tempfile

from twisted.application.service import Application, IService
from twisted.internet import task
from twisted.logger import (
    ILogObserver,
    LogLevel,
    LogPublisher,
    eventAsJSON,
    eventFromJSON,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
)
from twisted.python.failure import Failure
from twisted.trial import unittest

from famd import logs
from famd.accesslog import FileAccess, LogAccess
from famd.config import ConfigError, from_mapping
from famd.logs import LogObserver, ObservedService, observer_for_twistd

T0 = 1622541600.25  # 2021-06-01T10:00:00.250Z
PING = '127.0.0.1 "GET /api/ping" 200 4 "tester"'
SECRET = '10.0.0.2 "GET /provisioning/***" 404 - "Linphone/5.2 (\\"x\\")"'


def observer(log_format):
    """A L{LogObserver} writing into a string buffer, and that buffer."""
    out = io.StringIO()
    return LogObserver(out.write, out.flush, log_format), out


def batch_event(lines):
    """The event L{LogAccess} publishes for C{lines} when famd's observer writes the log."""
    return {
        "log_format": "{famd_access_count} access log lines",
        "famd_access_count": len(lines),
        logs.ACCESS_BATCH: lines,
        "log_level": LogLevel.info,
        "log_namespace": "famd.access",
        "log_source": None,
        "log_time": lines[-1][0],
    }


def one_line_event(when, line):
    return {"log_format": "{line}", "line": line, "log_level": LogLevel.info,
            "log_namespace": "famd.access", "log_source": None, "log_time": when}


class TextFormatTests(unittest.TestCase):
    """log_format: text keeps twistd's classic lines."""

    def test_batch_looks_like_one_event_per_line(self):
        """A batch is written exactly as twistd wrote one access event per line, each with its own time."""
        lines = [(T0, PING), (T0 + 0.5, SECRET), (T0 + 1.2, PING)]
        watcher, out = observer("text")
        watcher(batch_event(lines))
        expected = "".join(formatEventAsClassicLogText(one_line_event(when, line)) for when, line in lines)
        self.assertEqual(out.getvalue(), expected)
        self.assertEqual(out.getvalue().splitlines()[2],
                         formatTime(T0 + 1.2) + " [famd.access#info] " + PING)

    def test_other_events_as_twistd_writes_them(self):
        """Every other event, a failure's traceback included, is twistd's classic text."""
        try:
            1 / 0
        except ZeroDivisionError:
            failure = Failure()
        events = [
            {"log_format": "storage ready, schema version {v}", "v": 5, "log_time": T0,
             "log_level": LogLevel.info, "log_namespace": "famd.service"},
            {"log_format": "Site starting on {p}", "p": 8080, "log_time": T0, "log_system": "-"},
            {"log_format": "boom", "log_failure": failure, "log_time": T0,
             "log_level": LogLevel.critical, "log_namespace": "famd.web"},
        ]
        watcher, out = observer("text")
        for event in events:
            watcher(event)
        self.assertEqual(out.getvalue(), "".join(formatEventAsClassicLogText(e) for e in events))
        self.assertIn("ZeroDivisionError", out.getvalue())


class JsonFormatTests(unittest.TestCase):
    """log_format: json writes one JSON object per line."""

    def test_batch_one_object_per_access_line(self):
        """Each access line is an object with its own time and its parts."""
        watcher, out = observer("json")
        watcher(batch_event([(T0, PING), (T0 + 1.5, SECRET)]))
        records = [json.loads(line) for line in out.getvalue().splitlines()]
        self.assertEqual(records, [
            {"time": "2021-06-01T10:00:00.250Z", "level": "info", "namespace": "famd.access",
             "text": PING, "client": "127.0.0.1", "method": "GET", "path": "/api/ping",
             "status": 200, "bytes": 4, "user_agent": "tester"},
            {"time": "2021-06-01T10:00:01.750Z", "level": "info", "namespace": "famd.access",
             "text": SECRET, "client": "10.0.0.2", "method": "GET", "path": "/provisioning/***",
             "status": 404, "bytes": 0, "user_agent": 'Linphone/5.2 (\\"x\\")'},
        ])

    def test_line_of_another_shape(self):
        """A relayed line that is not an access line's shape keeps only its text."""
        watcher, out = observer("json")
        watcher(batch_event([(T0, "odd"), (T0, 'a "b c" x y "z"'), (T0, 'a "" 200 - ""')]))
        records = [json.loads(line) for line in out.getvalue().splitlines()]
        self.assertEqual([sorted(r) for r in records[:2]], [["level", "namespace", "text", "time"]] * 2)
        self.assertEqual([r["text"] for r in records], ["odd", 'a "b c" x y "z"', 'a "" 200 - ""'])

    def test_only_what_the_text_shows(self):
        """An event's fields that its text does not show (a secret passed along) stay out of the object."""
        watcher, out = observer("json")
        watcher({"log_format": "password changed for {user}", "user": "alice@sip.example.org",
                 "password": "s3cret-never-logged", "log_time": T0, "log_level": LogLevel.warn,
                 "log_namespace": "famd.flows"})
        self.assertNotIn("s3cret", out.getvalue())
        self.assertEqual(json.loads(out.getvalue()), {
            "time": "2021-06-01T10:00:00.250Z", "level": "warn", "namespace": "famd.flows",
            "text": "password changed for alice@sip.example.org"})

    def test_failure_and_legacy_system(self):
        """A failure adds its traceback; a legacy event keeps its system; a line break stays inside the string."""
        try:
            {}["missing"]
        except KeyError:
            failure = Failure()
        watcher, out = observer("json")
        watcher({"log_format": "Unhandled\nerror", "log_failure": failure, "log_time": T0,
                 "log_level": LogLevel.critical, "log_namespace": "log_legacy", "log_system": "-"})
        lines = out.getvalue().splitlines()
        self.assertEqual(len(lines), 1)
        record = json.loads(lines[0])
        self.assertEqual((record["text"], record["system"], record["level"]), ("Unhandled\nerror", "-", "critical"))
        self.assertIn("KeyError", record["traceback"])

    def test_event_without_text_skipped(self):
        """An event with nothing to show writes nothing, as in the text format."""
        watcher, out = observer("json")
        watcher({"log_time": T0, "some": "field"})
        self.assertEqual(out.getvalue(), "")


class RelayedBatchTests(unittest.TestCase):
    """Access lines made in another process reach the log like local ones."""

    def test_batch_after_a_json_round_trip(self):
        """A batch event serialised with eventAsJSON and read back with eventFromJSON is written as the original, in both formats."""
        lines = [(T0, PING), (T0 + 0.1, SECRET)]
        original = dict(batch_event(lines), log_logger=object())
        relayed = eventFromJSON(eventAsJSON(original))
        for log_format in ("text", "json"):
            first, first_out = observer(log_format)
            second, second_out = observer(log_format)
            first(original)
            second(relayed)
            self.assertEqual(second_out.getvalue(), first_out.getvalue())
            self.assertEqual(len(second_out.getvalue().splitlines()), 2)

    def test_log_access_write_batch(self):
        """LogAccess.write_batch adds relayed lines, with their own times, to its next batch."""
        clock = task.Clock()
        clock.advance(T0 + 3)
        published = []
        access = LogAccess(clock, published.append)
        self.patch(logs, "_expanded", [True])
        access(PING)
        access.write_batch([[T0, SECRET], [T0 + 1, PING]])
        clock.advance(1)
        self.assertEqual(len(published), 1)
        self.assertEqual(published[0][logs.ACCESS_BATCH], [(T0 + 3, PING), [T0, SECRET], [T0 + 1, PING]])
        for log_format in ("text", "json"):
            watcher, out = observer(log_format)
            watcher(published[0])
            self.assertEqual(len(out.getvalue().splitlines()), 3)
            self.assertIn(SECRET.split(" ")[0], out.getvalue().splitlines()[1])

    def test_worker_relay_round_trip(self):
        """A writer told to batch (a worker's) publishes batches a parent can read back from JSON and write, in both formats."""
        self.patch(logs, "_expanded", [False])
        clock = task.Clock()
        clock.advance(T0)
        sent = []
        access = LogAccess(clock, lambda event: sent.append(eventAsJSON(event)), batches=True)
        access(PING)
        clock.advance(0.5)
        access(SECRET)
        clock.advance(0.5)
        self.assertEqual(len(sent), 1)
        for log_format, first in (("text", formatTime(T0) + " [famd.access#info] " + PING),
                                  ("json", '{"time":"2021-06-01T10:00:00.250Z"')):
            watcher, out = observer(log_format)
            watcher(eventFromJSON(sent[0]))
            lines = out.getvalue().splitlines()
            self.assertEqual(len(lines), 2)
            self.assertTrue(lines[0].startswith(first), lines[0])

    def test_file_access_write_batch(self):
        """FileAccess.write_batch writes relayed lines with their own times, on the next flush."""
        clock = task.Clock()
        clock.advance(T0 + 60)
        path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "access.log")
        access = FileAccess(path, clock)
        access.write_batch([(T0, PING), (T0 + 1, SECRET)])
        access(PING)
        clock.advance(1)
        with open(path) as f:
            self.assertEqual(f.read(),
                             "2021-06-01T10:00:00+0000 " + PING + "\n"
                             "2021-06-01T10:00:01+0000 " + SECRET + "\n"
                             "2021-06-01T10:01:00+0000 " + PING + "\n")


class BufferedAccessTests(unittest.TestCase):
    """The default access log publishes its lines at most once a second."""

    def setUp(self):
        self.clock = task.Clock()
        self.clock.advance(T0)
        self.published = []
        self.access = LogAccess(self.clock, self.published.append)

    def test_one_batch_a_second(self):
        """Lines wait a second and go out as one batch event, each with the time it was made."""
        self.patch(logs, "_expanded", [True])
        self.access("a")
        self.clock.advance(0.4)
        self.access("b")
        self.assertEqual(self.published, [])
        self.clock.advance(0.6)
        self.assertEqual(len(self.published), 1)
        self.assertEqual(self.published[0][logs.ACCESS_BATCH], [(T0, "a"), (T0 + 0.4, "b")])
        self.assertEqual(self.published[0]["log_namespace"], "famd.access")
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.access("c")
        self.clock.advance(1)
        self.assertEqual(self.published[1][logs.ACCESS_BATCH], [(T0 + 1, "c")])

    def test_one_event_per_line_for_other_observers(self):
        """Without famd's observer in charge (tests, twistd --logger), each line is its own classic event, still once a second."""
        self.patch(logs, "_expanded", [False])
        self.access("a")
        self.clock.advance(0.5)
        self.access("b")
        self.clock.advance(0.5)
        self.assertEqual([(e["log_time"], e["line"]) for e in self.published], [(T0, "a"), (T0 + 0.5, "b")])
        self.assertNotIn(logs.ACCESS_BATCH, self.published[0])

    def test_close_publishes_what_is_left(self):
        """Closing publishes the kept lines at once; a line after that goes out at once too."""
        self.patch(logs, "_expanded", [True])
        self.access("a")
        self.access.close()
        self.assertEqual(self.published[0][logs.ACCESS_BATCH], [(T0, "a")])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.access("late")
        self.assertEqual(self.published[1][logs.ACCESS_BATCH], [(T0, "late")])

    def test_through_famds_observer(self):
        """Through a publisher to famd's observer, a second of requests becomes that many lines in one write."""
        self.patch(logs, "_expanded", [True])
        writes = []
        publisher = LogPublisher(LogObserver(writes.append, lambda: None, "text"))
        access = LogAccess(self.clock, publisher)
        for _ in range(50):
            access(PING)
        self.clock.advance(1)
        self.assertEqual(len(writes), 1)
        self.assertEqual(writes[0].count("[famd.access#info] " + PING + "\n"), 50)


class TwistdHookTests(unittest.TestCase):
    """The observer twistd gets and where it writes."""

    def test_component_set_on_the_application(self):
        """Added to twistd's application, the service hands it its observer, which twistd uses instead of its own."""
        watcher, _ = observer("text")
        application = Application("famd")
        ObservedService(IService(Application("inner")), watcher).setServiceParent(application)
        self.assertIs(application.getComponent(ILogObserver), watcher)
        self.assertTrue(ILogObserver.providedBy(watcher))

    def test_logfile(self):
        """--logfile FILE: famd's observer appends to that file."""
        path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "famd.log")
        self.patch(logs, "_expanded", [False])
        watcher = observer_for_twistd("json", {"logfile": path, "nodaemon": True})
        watcher({"log_format": "hello", "log_time": T0, "log_namespace": "x", "log_level": LogLevel.info})
        self.assertTrue(logs.batches_expanded())  # it writes the log: batches welcome
        with open(path) as f:
            self.assertEqual(json.loads(f.read())["text"], "hello")

    def test_syslog_gets_one_event_per_access_line(self):
        """--syslog: twistd's syslog observer is handed each access line of a batch as an event of its own."""
        self.patch(logs, "_expanded", [False])
        self.assertIsInstance(observer_for_twistd("json", {"syslog": True, "prefix": "famd"}),
                              logs.ExpandingObserver)
        seen = []
        expanding = logs.ExpandingObserver(seen.append)
        other = {"log_format": "hello", "log_time": T0}
        expanding(batch_event([(T0, PING), (T0 + 2, SECRET)]))
        expanding(other)
        self.assertEqual([(e["log_time"], formatEvent(e), e["log_namespace"]) for e in seen[:2]],
                         [(T0, PING, "famd.access"), (T0 + 2, SECRET, "famd.access")])
        self.assertIs(seen[2], other)

    def test_stdout_only_in_the_foreground(self):
        """--logfile - without -n stops twistd, as twistd itself does."""
        self.assertRaises(SystemExit, observer_for_twistd, "text", {"logfile": "-", "nodaemon": False})

    def test_setting(self):
        """log_format is text by default, json when asked, and anything else is an error naming the key."""
        def config(**settings):
            return from_mapping(dict({"sip_domain": "sip.example.org"}, **settings), "/etc/famd")

        self.assertEqual(config().log_format, "text")
        self.assertEqual(config(log_format="json").log_format, "json")
        for value in ("xml", "", 1, None):
            error = self.assertRaises(ConfigError, config, log_format=value)
            self.assertTrue(any(e.startswith("log_format: ") for e in error.errors), error.errors)
