"""
A worker process: ``python -m famd.worker --config FILE --number N --fd 3``.

Started by L{famd.workers.Supervisor} (never by hand), it reads the same
famd.yaml, builds the same service tree without the timers (they run in
the parent only) and serves the listening socket it inherited as file
descriptor C{--fd}.  With C{--standby} (the spare) it builds everything,
then waits for the line ``serve N`` on its stdin to serve as worker N: a
dead worker is replaced in milliseconds, not in the second or more that
starting Python and importing famd take.  Its log events go to its stdout as JSON lines, which
the parent reads and writes into famd's one log; its access log lines are
kept and sent to the parent at most once a second, as one event carrying
``famd_access_batch``.  It stops (after the requests in flight, as famd
does) on SIGTERM or SIGINT, and when its stdin closes: the parent is gone.
"""

import argparse
import gc
import os
import socket
import sys

from twisted.internet import defer
from twisted.internet.interfaces import IReadDescriptor
from twisted.logger import Logger, globalLogBeginner, jsonFileLogObserver
from twisted.python import failure
from zope.interface import implementer

from famd.accesslog import LogAccess

log = Logger(namespace="famd.worker")

READY = "famd_worker_ready"
"""The event key a worker sets once it serves the inherited socket."""
SPARE = "famd_worker_spare"
"""The event key a spare worker sets once it is built and waits for its turn."""


class AccessRelay(LogAccess):
    """
    A worker's access log writer: its lines, kept at most once a second, go
    to the parent as one event carrying L{famd.logs.ACCESS_BATCH}, whoever writes the
    worker's own log (the parent's observer writes them).
    """

    def __init__(self, clock):
        super().__init__(clock, batches=True)

    def __call__(self, line):
        self._lines.append([self._clock.seconds(), line])  # as JSON gives it back
        self._kept()


class Role:
    """What makes a worker's service tree differ (see L{famd.service.build_service})."""

    def __init__(self, fd, reactor):
        self.fd = fd
        self.reactor = reactor

    def listen(self, site):
        """Serve C{site} on the inherited socket; a Deferred firing with the port."""
        probe = socket.socket(fileno=self.fd)
        family = probe.family
        probe.detach()
        try:
            port = self.reactor.adoptStreamPort(self.fd, family, site)
        except Exception:
            return defer.fail()
        os.close(self.fd)  # the port holds its own copy
        return defer.succeed(port)

    def access(self, setting):
        """The access log writer for famd.yaml's C{access_log}: the parent writes the lines."""
        return None if setting is False or setting is None else AccessRelay(self.reactor)


@implementer(IReadDescriptor)
class ParentWatch:
    """
    Reads the parent's commands on our stdin, one a line (C{command(line)}),
    and calls C{gone} when the parent closes it (it stopped or died).
    """

    def __init__(self, gone, command, fd=0):
        self._gone = gone
        self._command = command
        self._fd = fd
        self._buffer = b""

    def fileno(self):
        return self._fd

    def doRead(self):
        try:
            data = os.read(self._fd, 4096)
        except OSError:
            data = b""
        if not data:
            return failure.Failure(EOFError("stdin closed"))
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        for line in lines:
            self._command(line.decode("ascii", "replace").strip())
        return None

    def connectionLost(self, reason):
        self._gone()

    def logPrefix(self):
        return "famd-parent-watch"


def portable(observer):
    """
    C{observer} behind a step that turns an event's failure into its
    traceback text (a field of the format), which JSON carries whole: the
    exception's message would not survive it.
    """

    def observe(event):
        caught = event.get("log_failure")
        if caught is not None:
            event = dict(event)
            del event["log_failure"]
            event["famd_traceback"] = caught.getTraceback().rstrip("\n")
            event["log_format"] = (event.get("log_format") or "") + "\n{famd_traceback}"
        observer(event)

    return observe


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m famd.worker", description=__doc__.strip().splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--number", type=int, required=True)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--standby", action="store_true",
                        help="build everything, then wait for 'serve NUMBER' on stdin")
    return parser.parse_args(argv)


def main(argv=None):
    args = arguments(sys.argv[1:] if argv is None else argv)
    out = sys.stdout
    globalLogBeginner.beginLoggingTo([portable(jsonFileLogObserver(out, recordSeparator=""))],
                                     redirectStandardIO=False)
    from twisted.internet import reactor

    from famd.config import load
    from famd.service import build_components, build_service

    config = load(args.config)
    service = build_service(config, reactor, build_components(config, reactor),
                            worker=Role(args.fd, reactor))
    stopping, status = [], []

    def stop():
        if not stopping and reactor.running:
            stopping.append(True)
            reactor.stop()

    def serve(number):
        if service.running or stopping:
            return
        try:
            service.startService()
        except Exception:  # the socket cannot be served: exit 1, the parent starts us again
            log.failure("worker {number} cannot start", number=number)
            status.append(1)
            stop()
            return
        listening = service.getServiceNamed("http").when_listening()
        listening.addCallback(lambda port: log.info(
            "worker {number} serving, pid {pid}", number=number, pid=os.getpid(), **{READY: True}))

    def command(line):
        verb, _, number = line.partition(" ")
        if verb == "serve" and number.isdigit():
            serve(int(number))

    def started():
        reactor.addReader(ParentWatch(stop, command))
        if args.standby:
            log.info("spare worker ready, pid {pid}", pid=os.getpid(), **{SPARE: True})
        else:
            serve(args.number)
        gc.freeze()

    def stopped():
        return service.stopService() if service.running else None

    reactor.addSystemEventTrigger("before", "shutdown", stopped)
    reactor.callWhenRunning(started)
    reactor.run()
    return status[0] if status else 0


if __name__ == "__main__":
    sys.exit(main())
