"""
famd on several processes (``workers: 2``), the installed ``twistd -n famd``
on real ports: both processes serve the one socket, everything shared goes
through the database (DIGEST nonces, throttle counts) on SQLite, MariaDB
and PostgreSQL, a worker killed under load costs only its requests in
flight and is replaced at once, SIGTERM lets the requests in flight finish
before famd exits 0, and systemd hears READY=1 once every process serves.
"""

import json
import os
import re
import signal
import socket
import tempfile
import time

from twisted.internet import defer, reactor, task, threads
from twisted.trial import unittest

from famd.testing.daemon import Daemon, free_port, installed, run_famd, write_config
from famd.testing.databases import SERVERS, fresh_database
from tests.api_helpers import answer, call, challenges

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
public_url: "http://famd.example.org"
sip_domain: sip.example.org
storage: %(storage)s
workers: 2
"""
ADMIN = "sip:admin1@sip.example.org"
ME = "/api/accounts/me"
SERVING = re.compile(r"worker (\d+) serving, pid (\d+)")
SPARE = re.compile(r"spare worker ready, pid (\d+)")


class WorkersDaemon(Daemon):
    """The installed daemon, with extra environment variables (systemd's NOTIFY_SOCKET)."""

    def __init__(self, reactor, config_path, port, env=None):
        super().__init__(reactor, config_path, port)
        self.port = port
        self.env = dict(os.environ, **(env or {}))

    def start(self):
        self.process = self.reactor.spawnProcess(
            self.collector, installed("twistd"),
            [installed("twistd"), "-n", "--pidfile=", "famd", "--config", self.config_path],
            env=self.env, path=os.path.dirname(self.config_path))
        return self.wait_ready(timeout=60.0)  # a loaded machine takes long to start Python

    def workers(self):
        """{worker number: pid} of the workers that said they serve, the latest of each."""
        return {int(number): int(pid) for number, pid in SERVING.findall(self.log())}

    @defer.inlineCallbacks
    def wait_for_workers(self, timeout=60.0, other_than=()):
        """Fire with {number: pid} once worker 1 serves (with a pid not in C{other_than})."""
        deadline = self.reactor.seconds() + timeout
        while self.reactor.seconds() < deadline:
            found = self.workers()
            if found.get(1) is not None and found[1] not in other_than:
                return found
            yield task.deferLater(self.reactor, 0.02, lambda: None)
        raise RuntimeError("no worker serves:\n" + self.log())


@defer.inlineCallbacks
def start_workers(test_case, storage, env=None, extra=""):
    """Start the installed daemon with ``workers: 2`` on C{storage}; wait until its worker serves."""
    port = free_port()
    config = (CONFIG % {"storage": json.dumps(storage)}).replace("{port}", str(port)) + extra
    daemon = WorkersDaemon(reactor, write_config(config), port, env)
    test_case.addCleanup(daemon.stop)
    yield daemon.start()
    yield daemon.wait_for_workers()
    return daemon


def sqlite_storage():
    """A storage mapping for a new SQLite file."""
    folder = tempfile.mkdtemp(prefix="famd-workers-")
    return {"backend": "sqlite", "path": os.path.join(folder, "famd.sqlite")}


def connections_by_pid(port, pids):
    """{pid: established TCP connections on local C{port}} read from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    counts = {}
    for pid in pids:
        folder = "/proc/%d/fd" % (pid,)
        links = [os.readlink(os.path.join(folder, fd)) for fd in os.listdir(folder)]
        counts[pid] = sum(1 for link in links if link[8:-1] in inodes and link.startswith("socket:"))
    return counts


def open_connections(port, count):
    """C{count} keep-alive connections that each had one answer to /api/ping (blocking)."""
    held = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(b"GET /api/ping HTTP/1.1\r\nHost: famd\r\n\r\n")
        answer = b""
        while not (b"pong" in answer and answer.endswith((b"pong", b"\r\n0\r\n\r\n"))):
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
        held.append(connection)
    return held


class SharedThroughTheDatabase:
    """Two processes of one famd on one database of C{engine} behave as one service."""

    engine = None

    @defer.inlineCallbacks
    def setUp(self):
        if self.engine == "sqlite":
            storage = sqlite_storage()
        else:
            server = SERVERS[self.engine]
            storage = {"backend": self.engine,
                       "url": server.database_url((yield fresh_database(self, server)))}
        self.daemon = yield start_workers(self, storage)
        out, err, code = yield run_famd(self.daemon.config_path, "create-admin", "admin1",
                                        "--password", "adminpass", "--algorithm", "MD5")
        self.assertEqual(code, 0, err)
        self.key = out.decode().strip().splitlines()[-1]

    def call(self, method, path, **kwargs):
        """One request to the daemon's /api, on a new connection."""
        return call(self.daemon.url + "/api", method, path, **kwargs)

    @defer.inlineCallbacks
    def test_both_processes_serve(self):
        """Of 40 connections opened one after the other, the parent and the worker each hold some."""
        held = yield threads.deferToThread(open_connections, self.daemon.port, 40)
        try:
            pids = [self.daemon.process.pid, self.daemon.workers()[1]]
            counts = connections_by_pid(self.daemon.port, pids)
        finally:
            for connection in held:
                connection.close()
        self.assertEqual(sum(counts.values()), 40, counts)
        self.assertTrue(all(counts.values()), counts)

    @defer.inlineCallbacks
    def test_digest_nonces_shared(self):
        """Challenges answered on fresh connections succeed once each; every replay is refused."""
        for _ in range(12):
            code, headers, _ = yield self.call("GET", "/accounts/me", sip=ADMIN)
            self.assertEqual(code, 401)
            authorization = answer(challenges(headers)[0], "admin1", "adminpass", "GET", ME)
            code, _, body = yield self.call("GET", "/accounts/me", sip=ADMIN,
                                            authorization=authorization)
            self.assertEqual((code, json.loads(body)["username"]), (200, "admin1"))
            code, _, body = yield self.call("GET", "/accounts/me", sip=ADMIN,
                                            authorization=authorization)
            self.assertEqual((code, json.loads(body)), (401, {"message": "Nonce replayed"}))
            code, _, _ = yield self.call("GET", "/accounts/me", sip=ADMIN,
                                         authorization=authorization)
            self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_throttle_counts_shared(self):
        """Twenty wrong activation codes on fresh connections block the address on every connection."""
        code, _, body = yield self.call("POST", "/accounts", sip=ADMIN, key=self.key, body={
            "username": "guessed", "password": "secret1", "algorithm": "MD5"})
        self.assertEqual(code, 200)
        right = json.loads(body)["confirmation_key"]
        path = "/accounts/guessed@sip.example.org/activate/email"
        for _ in range(20):
            code, _, _ = yield self.call("POST", path, sip=None, body={"code": "abcdefghijklm"})
            self.assertEqual(code, 404)
        for _ in range(6):
            code, headers, _ = yield self.call("POST", path, sip=None, body={"code": right})
            self.assertEqual(code, 429)
            self.assertTrue(headers.getRawHeaders(b"retry-after"))


class SQLiteWorkersTests(SharedThroughTheDatabase, unittest.TestCase):
    """Two processes on one SQLite file."""

    engine = "sqlite"


class MySQLWorkersTests(SharedThroughTheDatabase, unittest.TestCase):
    """Two processes on one fresh MariaDB database."""

    engine = "mysql"


class PostgreSQLWorkersTests(SharedThroughTheDatabase, unittest.TestCase):
    """Two processes on one fresh PostgreSQL database."""

    engine = "postgresql"


class NotifySocket:
    """systemd's side of Type=notify: an abstract datagram socket that keeps what it receives."""

    def __init__(self):
        self.name = "@famd-test-%d-%d" % (os.getpid(), free_port())
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind("\0" + self.name[1:])
        self.socket.setblocking(False)
        self.messages = []

    def received(self):
        """Every datagram received so far, as text."""
        while True:
            try:
                self.messages.append(self.socket.recv(4096).decode())
            except BlockingIOError:
                return self.messages

    @defer.inlineCallbacks
    def wait_for(self, key, timeout=60.0):
        """Fire with the first message holding line C{key} (e.g. READY=1)."""
        deadline = reactor.seconds() + timeout
        while reactor.seconds() < deadline:
            for message in self.received():
                if key in message.splitlines():
                    return message
            yield task.deferLater(reactor, 0.02, lambda: None)
        raise AssertionError("no %s among %r" % (key, self.messages))


class LifecycleTests(unittest.TestCase):
    """A famd of two processes under systemd's eyes, a killed worker, and a stop."""

    @defer.inlineCallbacks
    def test_ready_after_every_process_serves_and_stopping_on_sigterm(self):
        """READY=1 comes once the worker serves too; SIGTERM sends STOPPING=1 and exits 0."""
        notify = NotifySocket()
        self.addCleanup(notify.socket.close)
        port = free_port()
        config = (CONFIG % {"storage": json.dumps(sqlite_storage())}).replace("{port}", str(port))
        daemon = WorkersDaemon(reactor, write_config(config), port, {"NOTIFY_SOCKET": notify.name})
        self.addCleanup(daemon.stop)
        daemon.start()
        ready = yield notify.wait_for("READY=1")
        self.assertIn(1, daemon.workers())  # logged before READY=1 was sent
        self.assertIn("MAINPID=%d" % (daemon.process.pid,), ready.splitlines())
        self.assertIn("STATUS=serving tcp:%d:interface=127.0.0.1 with 2 processes" % (port,),
                      ready.splitlines())
        self.assertEqual([m for m in notify.received() if "STOPPING=1" in m], [])
        code = yield daemon.stop()
        self.assertEqual(code, 0)
        self.assertTrue(any("STOPPING=1" in m.splitlines() for m in notify.received()))

    @defer.inlineCallbacks
    def test_sigkill_under_load(self):
        """A worker killed under load fails at most its requests in flight; a new one serves within 2 s."""
        daemon = yield start_workers(self, sqlite_storage())
        while "spare worker ready" not in daemon.log():
            yield task.deferLater(reactor, 0.05, lambda: None)
        old = daemon.workers()[1]
        clients, results = 6, []
        ending = reactor.seconds() + 4.0

        @defer.inlineCallbacks
        def client():
            while reactor.seconds() < ending:
                try:
                    code, _, body = yield call(daemon.url + "/api", "GET", "/ping", sip=None)
                    results.append((code, body))
                except Exception as error:
                    results.append(error)

        load = defer.gatherResults([client() for _ in range(clients)])
        yield task.deferLater(reactor, 1.5, lambda: None)
        killed_at = reactor.seconds()
        os.kill(old, signal.SIGKILL)
        new = yield daemon.wait_for_workers(timeout=2.0, other_than=(old,))
        self.assertLess(reactor.seconds() - killed_at, 2.0)
        yield load
        failures = [r for r in results if not isinstance(r, tuple)]
        succeeded = [r for r in results if r == (200, b"pong")]
        self.assertLessEqual(len(failures), clients, failures)
        self.assertEqual(len(succeeded) + len(failures), len(results))
        self.assertGreater(len(succeeded), 100)
        self.assertNotEqual(new[1], old)
        self.assertIn("worker 1 (pid %d) exited (killed by signal 9)" % (old,), daemon.log())
        self.assertIn("the spare worker (pid %d) serves as worker 1" % (new[1],), daemon.log())
        held = yield threads.deferToThread(open_connections, daemon.port, 40)
        try:
            counts = connections_by_pid(daemon.port, [daemon.process.pid, new[1]])
        finally:
            for connection in held:
                connection.close()
        self.assertTrue(all(counts.values()), counts)

    @defer.inlineCallbacks
    def test_worker_exits_when_parent_dies(self):
        """A worker and the spare whose parent is killed (SIGKILL) exit on their own, their stdin closed."""
        daemon = yield start_workers(self, sqlite_storage())
        while not SPARE.search(daemon.log()):
            yield task.deferLater(reactor, 0.05, lambda: None)
        children = [daemon.workers()[1], int(SPARE.search(daemon.log()).group(1))]
        self.assertTrue(all(_alive(pid) for pid in children))
        os.kill(daemon.process.pid, signal.SIGKILL)
        yield daemon.collector.ended
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            yield task.deferLater(reactor, 0.05, lambda: None)
        self.assertEqual([pid for pid in children if _alive(pid)], [])


def _alive(pid):
    """Whether process C{pid} exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % (pid,)) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class DrainTests(unittest.TestCase):
    """SIGTERM with requests in flight: they are answered, then famd exits 0."""

    @defer.inlineCallbacks
    def test_sigterm_drains_requests_in_flight(self):
        """Requests held by a table lock when SIGTERM comes are answered once it is released, then exit 0."""
        server = SERVERS["postgresql"]
        name = yield fresh_database(self, server)
        daemon = yield start_workers(self, {"backend": "postgresql", "url": server.database_url(name)})
        locker = yield threads.deferToThread(server.connect, name)
        self.addCleanup(locker.close)
        yield threads.deferToThread(locker.execute, "BEGIN")
        yield threads.deferToThread(locker.execute, "LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
        slow = [call(daemon.url + "/api", "GET", "/accounts/user%d@sip.example.org/info" % (n,),
                     sip=None) for n in range(6)]
        yield task.deferLater(reactor, 1.0, lambda: None)
        self.assertFalse(any(d.called for d in slow))
        daemon.process.signalProcess(signal.SIGTERM)
        yield task.deferLater(reactor, 1.0, lambda: None)
        self.assertFalse(daemon.collector.ended.called)
        with self.assertRaises(ConnectionRefusedError):  # no longer accepting
            socket.create_connection(("127.0.0.1", daemon.port), timeout=2).close()
        yield threads.deferToThread(locker.execute, "ROLLBACK")
        answers = yield defer.gatherResults(slow)
        self.assertEqual([code for code, _, _ in answers], [404] * 6)
        code = yield daemon.collector.ended
        self.assertEqual(code, 0)


def unix_pings(path, count):
    """C{count} GET /api/ping on new connections to the unix socket C{path}; their answers (blocking)."""
    answers = []
    for _ in range(count):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(10)
            connection.connect(path)
            connection.sendall(b"GET /api/ping HTTP/1.1\r\nHost: famd\r\nConnection: close\r\n\r\n")
            answer = b""
            while True:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                answer += chunk
            answers.append(answer)
    return answers


class UnixSocketTests(unittest.TestCase):
    """``workers: 2`` on a unix: listen string."""

    @defer.inlineCallbacks
    def test_workers_serve_a_unix_socket(self):
        """The worker adopts the parent's unix socket (it says it serves), and 20 requests over it are answered."""
        folder = tempfile.mkdtemp(prefix="famd-unix-")
        path = os.path.join(folder, "famd.sock")
        config = (CONFIG % {"storage": json.dumps(sqlite_storage())}).replace(
            '"tcp:{port}:interface=127.0.0.1"', '"unix:%s"' % (path,))
        daemon = WorkersDaemon(reactor, write_config(config, folder), 0)
        daemon.wait_ready = lambda timeout: daemon.wait_for_workers(timeout)
        self.addCleanup(daemon.stop)
        yield daemon.start()
        answers = yield threads.deferToThread(unix_pings, path, 20)
        self.assertEqual([answer.startswith(b"HTTP/1.1 200 ") and b"pong" in answer.split(b"\r\n\r\n")[1]
                          for answer in answers], [True] * 20)
        self.assertEqual((yield daemon.stop()), 0)
