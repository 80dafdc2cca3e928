"""
famd on several cores: the parent's supervisor of its worker processes.

With ``workers: N`` (famd.yaml), ``twistd famd`` serves as before and starts
N-1 worker processes (L{famd.worker}) that inherit its listening socket and
accept connections from it too: the kernel hands each new connection to
whichever process accepts it first, each takes one per turn of its loop
(L{famd.listener.accept_in_turns}), so a busy process takes fewer.  Each
worker is started with an argument vector (``python -m famd.worker``) and
the parent's environment; its stdin is a pipe from the parent (closed when
the parent goes, which stops the worker), its stdout carries its log events
as JSON lines, which the L{Supervisor} turns back into events, marks with
``famd_worker`` and publishes in the parent's log (access lines go to the
parent's access log writer).  One more process, the spare (worker 0 in the
log), is started with them and waits, everything imported and built: when
a worker exits, the spare takes its number and serves at once, and a new
spare is started.  A worker that keeps dying as soon as it starts is
replaced after a growing delay (up to L{MOST_DELAY}).  When famd stops, each worker gets
SIGTERM, answers its requests in flight (L{famd.listener.DRAIN_SECONDS})
and exits; one that lingers is killed.
"""

import os
import signal
import sys

from twisted.application.service import Service
from twisted.internet import defer, error, protocol
from twisted.logger import Logger, eventFromJSON, globalLogPublisher

from famd.listener import DRAIN_SECONDS
from famd.logs import ACCESS_BATCH
from famd.worker import READY, SPARE

log = Logger(namespace="famd.workers")

QUICK_DEATH = 5.0
"""A worker that exits within this many seconds of its start died at once."""
FIRST_DELAY = 0.5
"""Seconds before restarting a worker that died at once; doubled each time it does again."""
MOST_DELAY = 30.0
"""The longest wait before restarting a worker."""
KILL_AFTER = DRAIN_SECONDS + 2.0
"""Seconds a stopping worker has to exit before it is killed."""
class WorkerProtocol(protocol.ProcessProtocol):
    """One worker process as its parent sees it: its output lines and its end."""

    def __init__(self, supervisor, number):
        self.supervisor = supervisor
        self.number = number
        self.pid = None
        self.started_at = None
        self.prepared = False
        self.ended = defer.Deferred()
        self._out = b""
        self._err = b""

    def connectionMade(self):
        self.pid = self.transport.pid

    def outReceived(self, data):
        self._out = self._lines(self._out + data, self.supervisor.relay_json)

    def errReceived(self, data):
        self._err = self._lines(self._err + data, self.supervisor.relay_text)

    def _lines(self, buffered, handle):
        *lines, rest = buffered.split(b"\n")
        for line in lines:
            if line.strip():
                handle(self.number, line.decode("utf-8", "replace"))
        return rest

    def processEnded(self, reason):
        for buffered, handle in ((self._out, self.supervisor.relay_json),
                                 (self._err, self.supervisor.relay_text)):
            if buffered.strip():
                handle(self.number, buffered.decode("utf-8", "replace"))
        self._out = self._err = b""
        self.supervisor.ended(self, reason.value)
        self.ended.callback(None)


class Supervisor(Service):
    """
    Starts, watches and stops C{count} worker processes serving C{listener}'s
    socket; their log events go to C{publish}, their access lines to
    C{access} (the parent's access log writer, or None).
    """

    name = "workers"

    def __init__(self, config_path, count, listener, access, reactor, publish=globalLogPublisher):
        self.config_path = os.path.abspath(config_path)
        self.count = count
        self.listener = listener
        self.access = access
        self.reactor = reactor
        self.publish = publish
        self.workers = {}
        self.spare = None
        self._fd = None
        self._exit_callbacks = []
        self._quick_deaths = {}
        self._restarts = {}
        self._ready = {}
        self._stopping = None

    def on_exit(self, callback):
        """Call C{callback(pid)} whenever a worker process (the spare included) has exited."""
        self._exit_callbacks.append(callback)

    def ready(self):
        """A Deferred firing once every worker number has been served (by any of its processes)."""
        waits = []
        for number in range(1, self.count + 1):
            waiting = self._ready.setdefault(number, [])
            if waiting is True:
                waits.append(defer.succeed(None))
            else:
                waits.append(defer.Deferred())
                waiting.append(waits[-1])
        return defer.gatherResults(waits)

    def startService(self):
        super().startService()
        d = self.listener.when_listening()
        d.addCallback(self._start_all)
        d.addErrback(lambda failure: log.failure("cannot start the workers", failure))

    def _start_all(self, port):
        self._fd = port.fileno()
        for number in range(1, self.count + 1):
            self._start(number)
        self._start(0)

    def argv(self, number):
        """The argument vector (no shell) of worker C{number}, or of the spare (0)."""
        return [sys.executable, "-P", "-m", "famd.worker", "--config", self.config_path,
                "--number", str(number), "--fd", "3"] + (["--standby"] if number == 0 else [])

    def _start(self, number):
        """Start worker C{number} (0: the spare) as a new process."""
        self._restarts.pop(number, None)
        if self._stopping is not None:
            return
        worker = WorkerProtocol(self, number)
        worker.started_at = self.reactor.seconds()
        if number:
            self.workers[number] = worker
        else:
            self.spare = worker
        self.reactor.spawnProcess(
            worker, sys.executable, self.argv(number), env=dict(os.environ),
            childFDs={0: "w", 1: "r", 2: "r", 3: self._fd})
        log.info("{what} started, pid {pid}", what="worker %d" % (number,) if number else "spare worker",
                 pid=worker.pid)

    def _replace(self, number):
        """Worker C{number} is gone: the spare serves as it (a new spare is started), or a new process."""
        spare = self.spare
        if spare is None or not spare.prepared or self._stopping is not None:
            self._start(number)
            return
        self._restarts.pop(number, None)
        self.spare = None
        spare.number = number
        spare.started_at = self.reactor.seconds()
        self.workers[number] = spare
        spare.transport.write(b"serve %d\n" % (number,))
        log.info("the spare worker (pid {pid}) serves as worker {number}", pid=spare.pid, number=number)
        self._start(0)

    def relay_json(self, number, line):
        """Publish one JSON log event of worker C{number} in the parent's log."""
        try:
            event = eventFromJSON(line)
        except ValueError:
            self.relay_text(number, line)
            return
        batch = event.get(ACCESS_BATCH)
        if batch is not None:
            self._write_access(batch)
            return
        if event.get(READY):
            self._is_ready(number)
        if event.get(SPARE) and self.spare is not None and self.spare.number == number:
            self.spare.prepared = True
        for key in ("log_logger", "log_source"):
            if isinstance(event.get(key), dict):  # unpersistable: stands for nothing here
                del event[key]
        event["famd_worker"] = number
        system = event.get("log_system") or "%s#%s" % (
            event.get("log_namespace", "-"), getattr(event.get("log_level"), "name", "-"))
        event["log_system"] = "%s worker %d" % (system, number)
        self.publish(event)

    def relay_text(self, number, line):
        """Publish a line worker C{number} wrote to stderr (or not as JSON)."""
        log.warn("worker {number}: {line}", number=number, line=line, famd_worker=number)

    def _write_access(self, batch):
        if self.access is None:
            return
        write_batch = getattr(self.access, "write_batch", None)
        if write_batch is not None:
            write_batch(batch)
        else:
            for _, line in batch:
                self.access(line)

    def _is_ready(self, number):
        waiting = self._ready.get(number)
        self._ready[number] = True
        if isinstance(waiting, list):
            for d in waiting:
                d.callback(None)

    def ended(self, worker, reason):
        """Worker C{worker} exited: tell the callbacks, replace it (unless famd stops)."""
        if self.workers.get(worker.number) is worker:
            del self.workers[worker.number]
        if self.spare is worker:
            self.spare = None
        for callback in self._exit_callbacks:
            try:
                callback(worker.pid)
            except Exception:
                log.failure("a worker exit callback failed")
        if self._stopping is not None:
            return
        lived = self.reactor.seconds() - worker.started_at
        if lived < QUICK_DEATH:
            quick = self._quick_deaths[worker.number] = self._quick_deaths.get(worker.number, 0) + 1
            delay = min(MOST_DELAY, FIRST_DELAY * 2 ** (quick - 1))
        else:
            self._quick_deaths[worker.number] = 0
            delay = 0
        log.warn("worker {number} (pid {pid}) exited ({reason}); replacing it in {delay} s",
                 number=worker.number, pid=worker.pid, reason=_exit_text(reason), delay=delay)
        if worker.number and delay == 0:
            self._replace(worker.number)
        else:
            self._restarts[worker.number] = self.reactor.callLater(
                delay, self._replace if worker.number else self._start, worker.number)

    def stopService(self):
        """SIGTERM to every worker; fire once all exited (killing those left after L{KILL_AFTER} s)."""
        if self._stopping is not None:
            return defer.succeed(None)
        super().stopService()
        for call in self._restarts.values():
            if call.active():
                call.cancel()
        self._restarts.clear()
        workers = list(self.workers.values()) + ([self.spare] if self.spare is not None else [])
        for worker in workers:
            _signal(worker, signal.SIGTERM)
        killer = self.reactor.callLater(KILL_AFTER, self._kill, workers)
        self._stopping = defer.DeferredList([worker.ended for worker in workers])
        self._stopping.addCallback(lambda _: killer.cancel() if killer.active() else None)
        return self._stopping

    def _kill(self, workers):
        for worker in workers:
            if not worker.ended.called:
                log.warn("worker {number} (pid {pid}) did not stop: killed", number=worker.number,
                         pid=worker.pid)
                _signal(worker, signal.SIGKILL)


def _signal(worker, number):
    try:
        worker.transport.signalProcess(number)
    except error.ProcessExitedAlready:
        pass


def _exit_text(reason):
    if getattr(reason, "signal", None):
        return "killed by signal %d" % (reason.signal,)
    return "exit status %s" % (getattr(reason, "exitCode", "?"),)
