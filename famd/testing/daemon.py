"""
Running the installed famd in tests: the ``twistd famd`` daemon on a real
port, and the ``famd`` admin command, as child processes.

They run from a temporary folder, so they import the installed package, not
the checkout: what an operator gets from ``pip install``.
"""

import os
import signal
import socket
import sys
import tempfile

import treq
from twisted.internet import defer, protocol, task, utils


def installed(command):
    """The path of a console command installed beside this Python."""
    path = os.path.join(os.path.dirname(sys.executable), command)
    if not os.path.exists(path):
        raise RuntimeError("%s is not installed beside %s: pip install . first" % (command, sys.executable))
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(text, folder=None):
    """Write a famd.yaml into C{folder} (a new temporary one by default); return its path."""
    folder = folder or tempfile.mkdtemp(prefix="famd-daemon-")
    path = os.path.join(folder, "famd.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def run_famd(config_path, *arguments):
    """Run ``famd --config PATH ARGUMENTS``; fire with (stdout, stderr, exit code)."""
    return utils.getProcessOutputAndValue(
        installed("famd"), ["--config", config_path] + list(arguments),
        env=dict(os.environ), path=os.path.dirname(config_path))


class _Collector(protocol.ProcessProtocol):
    def __init__(self):
        self.output = []
        self.ended = defer.Deferred()

    def outReceived(self, data):
        self.output.append(data)

    errReceived = outReceived

    def processEnded(self, reason):
        self.ended.callback(reason.value.exitCode)


class Daemon:
    """A running ``twistd -n famd`` child process."""

    def __init__(self, reactor, config_path, port):
        self.reactor = reactor
        self.config_path = config_path
        self.url = "http://127.0.0.1:%d" % (port,)
        self.collector = _Collector()
        self.process = None

    def start(self):
        folder = os.path.dirname(self.config_path)
        self.process = self.reactor.spawnProcess(
            self.collector, installed("twistd"),
            [installed("twistd"), "-n", "--pidfile=", "famd", "--config", self.config_path],
            env=dict(os.environ), path=folder)
        return self.wait_ready()

    @defer.inlineCallbacks
    def wait_ready(self, timeout=20.0):
        """Poll /api/ping until it answers pong; fail if the process dies or time runs out."""
        deadline = self.reactor.seconds() + timeout
        while self.reactor.seconds() < deadline:
            if self.collector.ended.called:
                raise RuntimeError("famd exited early:\n" + self.log())
            try:
                response = yield treq.get(self.url + "/api/ping", persistent=False)
                if (yield response.content()) == b"pong":
                    return self
            except Exception:
                pass
            yield task.deferLater(self.reactor, 0.1, lambda: None)
        raise RuntimeError("famd did not answer within %s s:\n%s" % (timeout, self.log()))

    def log(self):
        return b"".join(self.collector.output).decode("utf-8", "replace")

    def stop(self):
        """SIGTERM; fire with the exit code."""
        if not self.collector.ended.called:
            self.process.signalProcess(signal.SIGTERM)
        return self.collector.ended


@defer.inlineCallbacks
def start_daemon(test_case, config_text, reactor=None, before=None):
    """
    Start the installed daemon with C{config_text} (``{port}`` is replaced by
    a free port) in a temporary folder; stopped at the end of the test.
    C{before}, if given, is called with the folder before the daemon starts
    (to write files the configuration names).
    """
    if reactor is None:
        from twisted.internet import reactor
    port = free_port()
    path = write_config(config_text.replace("{port}", str(port)))
    if before is not None:
        before(os.path.dirname(path))
    daemon = Daemon(reactor, path, port)
    test_case.addCleanup(daemon.stop)
    yield daemon.start()
    return daemon
