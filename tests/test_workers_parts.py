"""
The parts of famd's worker processes, each on its own: the ``workers`` key,
the service trees of the parent and of a worker (timers in the parent
only), the supervisor's restarts with back-off and its exit callbacks (real
child processes), a worker's log and access lines relayed into the
parent's log, and systemd's readiness datagram on a real socket.
"""

import json
import os
import socket
import sys
import tempfile

from twisted.application.internet import TimerService
from twisted.internet import defer, protocol, reactor, task
from twisted.internet.endpoints import serverFromString
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import Logger, eventAsJSON
from twisted.trial import unittest
from twisted.web import resource, server

from famd import sdnotify, workers as worker_processes, workers_setting
from famd.config import ConfigError, from_mapping
from famd.listener import Listener, accept_in_turns
from famd.service import build_components, build_service
from famd.logs import ACCESS_BATCH
from famd.worker import AccessRelay, Role, portable


def config(**settings):
    """A checked Config of C{settings} over a SQLite file in a new folder."""
    folder = tempfile.mkdtemp(prefix="famd-workers-")
    raw = {"sip_domain": "sip.example.org",
           "storage": {"backend": "sqlite", "path": os.path.join(folder, "famd.sqlite")}}
    raw.update(settings)
    return from_mapping(raw, folder)


class WorkersSettingTests(unittest.TestCase):
    """famd.yaml's ``workers``."""

    def test_default_and_number(self):
        """Without the key famd runs one process; a number is taken as it is."""
        self.assertEqual(config().workers, 1)
        self.assertEqual(config(workers=3).workers, 3)

    def test_auto(self):
        """``auto`` is the number of cores."""
        self.assertEqual(config(workers="auto").workers, os.cpu_count())
        self.assertEqual(workers_setting.count("auto", lambda: None), 1)

    def test_bad_values(self):
        """Zero, negatives, booleans, text other than auto and huge numbers are errors naming the key."""
        for value in (0, -1, True, "two", "", 1.5, 257, None):
            with self.assertRaises(ConfigError) as caught:
                config(workers=value)
            self.assertTrue(caught.exception.errors[0].startswith("workers: "), caught.exception.errors)

    def test_listen_must_be_shareable(self):
        """More than one process with an ssl: or systemd: listen string is an error naming workers."""
        for listen in ("ssl:8443:privateKey=k.pem", "systemd:domain=INET:index=0"):
            with self.assertRaises(ConfigError) as caught:
                config(workers=2, listen=listen)
            self.assertEqual(len(caught.exception.errors), 1)
            self.assertTrue(caught.exception.errors[0].startswith("workers: more than one process"))
        self.assertEqual(config(workers=1, listen="ssl:8443:privateKey=k.pem").workers, 1)
        self.assertEqual(config(workers=2, listen="unix:/run/famd/famd.sock").workers, 2)
        self.assertEqual(config(workers=2, listen="tcp6:8080").workers, 2)


class ServiceTreeTests(unittest.TestCase):
    """The parent's tree runs the timers; a worker's tree does not."""

    def tree(self, worker=None):
        settings = config()
        clock = MemoryReactorClock()
        return build_service(settings, clock, build_components(settings, clock), worker=worker)

    def test_timers_in_the_parent_only(self):
        """The parent has the four purge timers (nonces, counts, auth tokens, panel sessions), a worker none; both have the listener first to stop."""
        parent = self.tree()
        worker = self.tree(Role(3, MemoryReactorClock()))
        self.assertEqual(len([s for s in parent if isinstance(s, TimerService)]), 4)
        self.assertEqual([s for s in worker if isinstance(s, TimerService)], [])
        for tree in (parent, worker):
            self.assertEqual(tree.first, [tree.getServiceNamed("http")])

    def test_worker_access_lines_go_to_the_parent(self):
        """A worker's access log writer is the relay to its parent; off stays off."""
        access = self.tree(Role(3, MemoryReactorClock())).getServiceNamed("access-log").access
        self.assertIsInstance(access, AccessRelay)
        self.assertIsNone(Role(3, MemoryReactorClock()).access(False))


class AcceptInTurnsTests(unittest.TestCase):
    """A port shared by several processes accepts one waiting connection at a time."""

    def port_with_waiting(self, clients):
        """A real listening port (not read by the reactor) with C{clients} connections waiting."""
        site = protocol.Factory.forProtocol(protocol.Protocol)
        built = []
        build = site.buildProtocol

        def counted(address):
            protocol = build(address)
            built.append(protocol)
            return protocol

        site.buildProtocol = counted
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        port.stopReading()  # this test, not the reactor, calls doRead
        self.addCleanup(task.deferLater, reactor, 0.05, lambda: None)  # the aborts complete
        self.addCleanup(lambda: [p.transport.abortConnection() for p in built])
        self.addCleanup(port.stopListening)
        for _ in range(clients):
            client = socket.create_connection(("127.0.0.1", port.getHost().port))
            self.addCleanup(client.close)
        return port, built

    def test_one_at_a_time(self):
        """Five connections wait: each read of the port takes one, however many came before."""
        port, built = self.port_with_waiting(5)
        accept_in_turns(port)
        for taken in range(1, 6):
            port.doRead()
            self.assertEqual(len(built), taken)
        port.doRead()  # nothing waits: nothing is taken, nothing breaks
        self.assertEqual(len(built), 5)

    def test_twisted_takes_them_all(self):
        """Without it, one read takes every waiting connection (what split bursts 64/0 between processes)."""
        port, built = self.port_with_waiting(5)
        port.doRead()
        self.assertEqual(len(built), 5)

    @defer.inlineCallbacks
    def test_shared_listener(self):
        """A shared Listener's port takes turns; with one process it keeps Twisted's accept loop."""
        for shared, expected in ((True, "read_one"), (False, "doRead")):
            listener = Listener(serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen,
                                server.Site(resource.Resource()), reactor, shared=shared)
            listener.startService()
            port = yield listener.when_listening()
            yield listener.stopService()
            self.assertEqual(port.doRead.__name__, expected)

    def test_workers_share(self):
        """build_service shares the listener when famd.yaml asks for more than one process."""
        for workers, shared in ((1, False), (2, True)):
            settings = config(workers=workers)
            clock = MemoryReactorClock()
            tree = build_service(settings, clock, build_components(settings, clock))
            self.assertEqual(tree.getServiceNamed("http").shared, shared)


class Captured:
    """A log publisher standing for globalLogPublisher: keeps the events."""

    def __init__(self):
        self.events = []

    def __call__(self, event):
        self.events.append(event)


class BatchWriter:
    """An access log writer with write_batch, as famd.accesslog's writers have."""

    def __init__(self):
        self.batches = []

    def write_batch(self, lines):
        self.batches.append(lines)

    def __call__(self, line):
        raise AssertionError("write_batch should have been used")


class RelayTests(unittest.TestCase):
    """A worker's JSON lines become the parent's events."""

    def supervisor(self, access=None):
        self.published = Captured()
        return worker_processes.Supervisor("famd.yaml", 1, None, access, reactor,
                                           publish=self.published)

    def test_event_marked_with_its_worker(self):
        """A worker's event is published with famd_worker and its system naming the worker."""
        supervisor = self.supervisor()
        lines = []
        Logger(namespace="famd.web", observer=portable(lambda e: lines.append(eventAsJSON(e)))).warn(
            "storage unavailable: {reason}", reason="gone")
        supervisor.relay_json(2, lines[0])
        event = self.published.events[0]
        self.assertEqual((event["famd_worker"], event["reason"]), (2, "gone"))
        self.assertEqual(event["log_system"], "famd.web#warn worker 2")

    def test_failure_keeps_its_message(self):
        """A worker's logged failure reaches the parent with its traceback and message as text."""
        supervisor = self.supervisor()
        lines = []
        log = Logger(namespace="famd.web", observer=portable(lambda e: lines.append(eventAsJSON(e))))
        try:
            raise ValueError("the message")
        except ValueError:
            log.failure("it failed")
        supervisor.relay_json(1, lines[0])
        event = self.published.events[0]
        self.assertIn("ValueError: the message", event["famd_traceback"])
        self.assertTrue(event["log_format"].startswith("it failed\n"))

    def test_access_batch_to_write_batch(self):
        """A batch of access lines goes to the writer's write_batch, and is not published."""
        writer = BatchWriter()
        supervisor = self.supervisor(writer)
        supervisor.relay_json(1, json.dumps({ACCESS_BATCH: [[1.5, "a"], [2.5, "b"]]}))
        self.assertEqual(writer.batches, [[[1.5, "a"], [2.5, "b"]]])
        self.assertEqual(self.published.events, [])

    def test_access_batch_line_by_line(self):
        """A writer without write_batch is called with each line."""
        lines = []
        supervisor = self.supervisor(lines.append)
        supervisor.relay_json(1, json.dumps({ACCESS_BATCH: [[1.5, "a"], [2.5, "b"]]}))
        self.assertEqual(lines, ["a", "b"])

    def test_not_json(self):
        """A line that is not JSON is logged as text of that worker."""
        supervisor = self.supervisor()
        observed = []
        from twisted.logger import globalLogPublisher
        globalLogPublisher.addObserver(observed.append)
        self.addCleanup(globalLogPublisher.removeObserver, observed.append)
        supervisor.relay_json(1, "Traceback (most recent call last):")
        self.assertEqual([e.get("line") for e in observed if e.get("famd_worker") == 1],
                         ["Traceback (most recent call last):"])


class AccessRelayTests(unittest.TestCase):
    """A worker's access lines leave at most once a second, as one event."""

    def test_once_a_second(self):
        """Lines of one second go as one batch when the second is over; close sends the rest at once."""
        clock = task.Clock()
        relay = AccessRelay(clock)
        events = []
        from twisted.logger import globalLogPublisher
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        relay("one")
        clock.advance(0.5)
        relay("two")
        self.assertEqual([e for e in events if ACCESS_BATCH in e], [])
        clock.advance(0.5)
        batches = [e[ACCESS_BATCH] for e in events if ACCESS_BATCH in e]
        self.assertEqual(batches, [[[0.0, "one"], [0.5, "two"]]])
        relay("three")
        relay.close()
        batches = [e[ACCESS_BATCH] for e in events if ACCESS_BATCH in e]
        self.assertEqual(batches[1:], [[[1.0, "three"]]])


class DyingSupervisor(worker_processes.Supervisor):
    """A supervisor whose workers are real processes running C{code} instead of famd."""

    code = "import sys; sys.exit(3)"

    def argv(self, number):
        return [sys.executable, "-c", self.code]


class SupervisorTests(unittest.TestCase):
    """Restarts, back-off, exit callbacks and stopping, with real child processes."""

    @defer.inlineCallbacks
    def listener(self):
        site = server.Site(resource.Resource())
        listener = Listener(serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen, site, reactor)
        listener.startService()
        self.addCleanup(listener.stopService)
        yield listener.when_listening()
        return listener

    @defer.inlineCallbacks
    def test_back_off_when_dying_at_once(self):
        """A worker (and a spare) that exit at once are started again after 0.5 s, then 1 s, then 2 s; callbacks get each pid."""
        supervisor = DyingSupervisor("famd.yaml", 1, (yield self.listener()), None, reactor)
        exited, starts = [], []
        supervisor.on_exit(exited.append)
        original = supervisor._start

        def start(number):
            if number == 1:
                starts.append(reactor.seconds())
            original(number)

        supervisor._start = start
        supervisor.startService()
        while len(starts) < 4:
            yield task.deferLater(reactor, 0.05, lambda: None)
        yield supervisor.stopService()
        gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
        for gap, delay in zip(gaps, (0.5, 1.0, 2.0)):
            self.assertGreaterEqual(gap, delay)
        self.assertLess(gaps[0], gaps[1])
        self.assertLess(gaps[1], gaps[2])
        self.assertGreaterEqual(len(exited), 3)
        self.assertTrue(all(isinstance(pid, int) and pid > 0 for pid in exited))
        self.assertEqual(len(set(exited)), len(exited))

    @defer.inlineCallbacks
    def test_stop_terminates_workers(self):
        """Stopping sends SIGTERM to the workers and the spare, waits for them and starts none again."""
        supervisor = DyingSupervisor("famd.yaml", 2, (yield self.listener()), None, reactor)
        supervisor.code = "import time; time.sleep(60)"
        exited = []
        supervisor.on_exit(exited.append)
        supervisor.startService()
        while len(supervisor.workers) < 2 or supervisor.spare is None:
            yield task.deferLater(reactor, 0.05, lambda: None)
        pids = sorted([w.pid for w in supervisor.workers.values()] + [supervisor.spare.pid])
        self.assertEqual(len(set(pids)), 3)
        began = reactor.seconds()
        yield supervisor.stopService()
        self.assertLess(reactor.seconds() - began, worker_processes.KILL_AFTER)
        self.assertEqual(sorted(exited), pids)
        self.assertEqual((supervisor.workers, supervisor.spare), ({}, None))


class NotifyTests(unittest.TestCase):
    """The readiness datagram, received by a real AF_UNIX datagram socket."""

    def receiver(self, abstract):
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(receiver.close)
        if abstract:
            name = "@famd-notify-test-%d" % (os.getpid(),)
            receiver.bind("\0" + name[1:])
        else:
            name = os.path.join(tempfile.mkdtemp(prefix="famd-notify-"), "notify")
            receiver.bind(name)
        receiver.settimeout(5)
        return receiver, name

    def test_path_and_abstract_sockets(self):
        """A message reaches a socket named by a path and one named @abstract."""
        for abstract in (False, True):
            receiver, name = self.receiver(abstract)
            self.assertTrue(sdnotify.notify("READY=1\nSTATUS=ok", {"NOTIFY_SOCKET": name}))
            self.assertEqual(receiver.recv(4096), b"READY=1\nSTATUS=ok")

    def test_nothing_to_send_to(self):
        """Without NOTIFY_SOCKET, or with one nobody listens on, nothing is sent and nothing raises."""
        self.assertFalse(sdnotify.notify("READY=1", {}))
        self.assertFalse(sdnotify.notify("READY=1", {"NOTIFY_SOCKET": "vsock:2:1234"}))
        missing = os.path.join(tempfile.mkdtemp(prefix="famd-notify-"), "absent")
        self.assertFalse(sdnotify.notify("READY=1", {"NOTIFY_SOCKET": missing}))

    def test_full_socket_does_not_block(self):
        """When the receiver's queue is full, sending gives up at once instead of waiting."""
        receiver, name = self.receiver(False)
        sent = 0
        while sdnotify.notify("X" * 4000, {"NOTIFY_SOCKET": name}):
            sent += 1
            self.assertLess(sent, 100000)
        self.assertGreater(sent, 0)

    @defer.inlineCallbacks
    def test_service_ready_then_stopping(self):
        """The service sends READY=1 (with its status and pid) once ready fires, and STOPPING=1 on stop."""
        receiver, name = self.receiver(True)
        ready = defer.Deferred()
        service = sdnotify.NotifyService(reactor, lambda: ready, "serving here",
                                         {"NOTIFY_SOCKET": name})
        service.startService()
        yield task.deferLater(reactor, 0.05, lambda: None)
        receiver.setblocking(False)
        with self.assertRaises(BlockingIOError):
            receiver.recv(4096)
        ready.callback(None)
        receiver.settimeout(5)
        self.assertEqual(receiver.recv(4096).decode(),
                         "READY=1\nSTATUS=serving here\nMAINPID=%d" % (os.getpid(),))
        yield service.stopService()
        self.assertTrue(receiver.recv(4096).startswith(b"STOPPING=1\n"))
