"""
Run a real Linphone client (Debian's ``linphonec``, liblinphone 5.1) against
a provisioning URL and report what it applied.

liblinphone has no command-line option for remote provisioning: the URL goes
in the rc file as ``[misc] config-uri``.  It does not start its core unless
``$HOME/.local/share/linphone/`` exists, and it creates no account from a
document without ``reg_proxy`` unless the factory config (``-b``) supplies
``[proxy_default_values] reg_proxy``.  It reports parse failures only in its
log, so the result is read back from what it wrote: the rc file (rewritten at
exit) and the ``proxy list`` command's answer.

Everything stays on loopback: SIP ports are random, and the registrar of the
provisioned account is a closed TCP port on 127.0.0.1 so that REGISTER (and
the un-REGISTER at exit) fail at once.  The process runs with a temporary
HOME, through ``spawnProcess`` (no shell), and is killed on timeout.
"""

import os
import shutil
from dataclasses import dataclass
from typing import Tuple

from twisted.internet import defer, error
from twisted.internet.protocol import ProcessProtocol

from famd.provisioning import rcfile

EXECUTABLE = "linphonec"

READY = b"Sal::unlistenPorts(): done"
"""
liblinphone 5.1 logs this (at level 6) when the core starts its SIP
transports, which happens once remote provisioning has finished, whether it
succeeded or failed.
"""

CLOSED_REGISTRAR = "<sip:127.0.0.1:1;transport=tcp>"


class LinphoneFailed(Exception):
    """linphonec exited abnormally or timed out; the message ends with its output."""


@dataclass(frozen=True)
class LinphoneRun:
    """
    What one linphonec run applied.

    @ivar sections: the rc file linphonec wrote, as
        L{famd.provisioning.rcfile.parse} returns it.
    @ivar identities: the identities of the accounts it had (``proxy list``).
    @ivar output: everything it printed (its log at level 6), for diagnosis.
    """

    sections: Tuple
    identities: Tuple[str, ...]
    output: str

    def section(self, name):
        """The entries of section C{name} as a dict (empty if absent)."""
        for section, entries in self.sections:
            if section == name:
                return dict(entries)
        return {}


def executable():
    """The path of linphonec, or None when it is not installed."""
    return shutil.which(EXECUTABLE)


def write_rc(path, sections):
    """Write C{sections} (a sequence of (name, [(key, value)])) as a linphonerc."""
    with open(path, "w", encoding="utf-8") as rc:
        for name, entries in sections:
            rc.write("[%s]\n" % (name,))
            for key, value in entries:
                rc.write("%s=%s\n" % (key, value))
            rc.write("\n")


def identities(output):
    """The ``identity:`` lines of linphonec's ``proxy list`` answer."""
    found = []
    for line in output.splitlines():
        if line.startswith("identity: "):
            found.append(line[len("identity: "):].strip())
    return tuple(found)


class _Linphonec(ProcessProtocol):
    """Sends ``proxy list`` then ``quit`` once provisioning is over."""

    def __init__(self, done):
        self._done = done
        self._out = bytearray()
        self._err = bytearray()
        self._asked = False

    def outReceived(self, data):
        start = max(0, len(self._out) - len(READY))
        self._out += data
        if not self._asked and self._out.find(READY, start) >= 0:
            self._asked = True
            self.transport.write(b"proxy list\nquit\n")
            self.transport.closeStdin()

    def errReceived(self, data):
        self._err += data

    def output(self):
        """Everything printed so far: standard output, then standard error."""
        return (bytes(self._out) + bytes(self._err)).decode("utf-8", "replace")

    def processEnded(self, reason):
        if not self._done.called:  # not cancelled
            self._done.callback(reason)


def provision(reactor, config_uri, directory, local=(), factory=(), timeout=30.0):
    """
    Start linphonec with C{config_uri} as its provisioning URL, let it apply
    the document, make it quit and read back what it kept.

    @param reactor: an IReactorProcess and IReactorTime provider.
    @param config_uri: the provisioning URL (loopback).
    @param directory: an empty or missing folder for HOME and the rc files.
    @param local: sections the device already has, written to its rc file
        before it starts: (name, [(key, value)]).
    @param factory: extra factory sections (read-only defaults).
    @param timeout: seconds before linphonec is killed and the run fails.
    @return: a Deferred firing with a L{LinphoneRun}, or failing with
        L{LinphoneFailed}; cancelling it kills linphonec.
    """
    path = executable()
    if path is None:
        return defer.fail(LinphoneFailed("%s is not installed" % (EXECUTABLE,)))
    directory = os.path.abspath(directory)
    home = os.path.join(directory, "home")
    os.makedirs(os.path.join(home, ".local", "share", "linphone"))
    rc = os.path.join(directory, "linphonerc")
    factory_rc = os.path.join(directory, "factory")
    write_rc(
        rc,
        [
            ("misc", [("config-uri", config_uri)]),
            ("sip", [("sip_port", "-1"), ("sip_tcp_port", "-1"), ("sip_tls_port", "-1")]),
        ]
        + list(local),
    )
    write_rc(
        factory_rc,
        [("proxy_default_values", [("reg_proxy", CLOSED_REGISTRAR)])] + list(factory),
    )
    timed_out = []

    def kill(*ignored):
        try:
            process.signalProcess("KILL")
        except error.ProcessExitedAlready:
            pass

    def time_out():
        timed_out.append(True)
        kill()

    ended = defer.Deferred(kill)  # cancelling the run kills linphonec
    protocol = _Linphonec(ended)
    process = reactor.spawnProcess(
        protocol,
        path,
        [path, "-c", rc, "-b", factory_rc, "-d", "6"],
        env={
            "HOME": home,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
        },
        path=directory,
        childFDs={0: "w", 1: "r", 2: "r"},
    )
    timer = reactor.callLater(timeout, time_out)

    def finished(reason):
        if timer.active():
            timer.cancel()
        if reason.check(defer.CancelledError):
            return reason
        output = protocol.output()
        tail = output[-4000:]
        if timed_out:
            raise LinphoneFailed("linphonec timed out after %ss:\n%s" % (timeout, tail))
        if not reason.check(error.ProcessDone):
            raise LinphoneFailed("linphonec failed (%s):\n%s" % (reason.value, tail))
        # A few kilobytes read once the process is gone.
        return LinphoneRun(rcfile.load(rc), identities(output), output)

    return ended.addBoth(finished)
