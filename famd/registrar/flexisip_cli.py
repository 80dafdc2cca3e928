"""
The ``flexisip-cli`` registrar backend: devices through the proxy's CLI
socket.

Flexisip listens on ``/tmp/flexisip-proxy-<pid>`` and takes one command per
connection: it reads once (at most 511 bytes), splits the words on single
spaces, answers raw text and closes.  So every command here is one new
connection, one write without newline, and a read up to EOF, all under one
timeout (flexisip.md section 2).

The pid file is read again for every command, so a restarted Flexisip (new
pid, new socket) is found without restarting famd.  It is read on the
reactor thread: a pid file is a few bytes on a local disk, cheaper than a
thread hand-off; an explicit C{socket} skips it.
"""

from twisted.internet.defer import Deferred, TimeoutError, inlineCallbacks
from twisted.internet.endpoints import UNIXClientEndpoint, connectProtocol
from twisted.internet.error import ConnectError
from twisted.internet.protocol import Protocol
from zope.interface import implementer

from famd.interfaces import IRegistrar, RegistrarUnavailable
from famd.registrar import address_of_record
from famd.registrar.cli_reply import parse_reply

MAX_COMMAND = 511
"""Flexisip reads a command with one recv() into a 512-byte, NUL-ended buffer."""


def socket_path(pid):
    """The CLI socket of the Flexisip proxy running as C{pid}."""
    return "/tmp/flexisip-proxy-%d" % (pid,)


def read_pid(pid_file):
    """
    The pid written in C{pid_file}.

    @raise RegistrarUnavailable: the file is missing, unreadable or holds
        no positive integer.
    """
    try:
        with open(pid_file, "rb") as stream:
            text = stream.read(64)
    except OSError as error:
        raise RegistrarUnavailable(
            "cannot read Flexisip's pid file %s: %s" % (pid_file, error.strerror)
        ) from None
    try:
        pid = int(text.strip())
    except ValueError:
        pid = 0
    if pid <= 0:
        raise RegistrarUnavailable("Flexisip's pid file %s holds no pid" % (pid_file,))
    return pid


class _OneCommand(Protocol):
    """Send one command in one write, collect the reply until the server closes."""

    def __init__(self, command):
        self._command = command
        self._chunks = []
        self.reply = Deferred(self._abort)

    def connectionMade(self):
        self.transport.write(self._command)

    def dataReceived(self, data):
        self._chunks.append(data)

    def connectionLost(self, reason):
        if not self.reply.called:
            self.reply.callback(b"".join(self._chunks))

    def _abort(self, reply):
        if self.transport is not None:
            self.transport.abortConnection()


@implementer(IRegistrar)
class FlexisipCLIRegistrar:
    """
    Reads and removes bindings with REGISTRAR_GET and REGISTRAR_DELETE.

    @param reactor: the reactor to connect and time out with.
    @param pid_file: where Flexisip writes its pid (ignored with C{socket}).
    @param socket: the CLI socket path, or None to derive it from the pid.
    @param timeout: seconds allowed for one command, connection included.
    """

    def __init__(
        self,
        reactor,
        pid_file="/var/run/flexisip-proxy.pid",
        socket=None,
        timeout=5.0,
    ):
        self._reactor = reactor
        self._pid_file = pid_file
        self._socket = socket
        self._timeout = timeout

    def _socket_path(self):
        if self._socket is not None:
            return self._socket
        return socket_path(read_pid(self._pid_file))

    @inlineCallbacks
    def command(self, *words):
        """
        Run one CLI command.

        @param words: the command and its arguments; none may hold a space.
        @return: a Deferred firing with the raw reply (bytes, maybe empty),
            or failing with L{RegistrarUnavailable}.
        """
        if any(not word or " " in word or "\0" in word for word in words):
            raise RegistrarUnavailable("cannot send an empty or spaced word to the CLI")
        line = " ".join(words).encode("utf-8")
        if len(line) > MAX_COMMAND:
            raise RegistrarUnavailable(
                "a CLI command longer than %d bytes would be cut" % (MAX_COMMAND,)
            )
        path = self._socket_path()
        endpoint = UNIXClientEndpoint(self._reactor, path, timeout=self._timeout)
        protocol = _OneCommand(line)
        reply = connectProtocol(endpoint, protocol)
        reply.addCallback(lambda _: protocol.reply)
        reply.addTimeout(self._timeout, self._reactor)
        try:
            result = yield reply
        except TimeoutError:
            raise RegistrarUnavailable(
                "the Flexisip CLI at %s did not answer within %g s"
                % (path, self._timeout)
            ) from None
        except (ConnectError, OSError) as error:
            raise RegistrarUnavailable(
                "cannot connect to the Flexisip CLI at %s: %s" % (path, error)
            ) from None
        return result

    @inlineCallbacks
    def _bindings(self, aor):
        reply = yield self.command("REGISTRAR_GET", aor)
        return parse_reply(reply)

    @inlineCallbacks
    def list_devices(self, username, domain):
        """See L{IRegistrar.list_devices}."""
        aor = "sip:" + address_of_record(username, domain)
        bindings = yield self._bindings(aor)
        return [binding.device for binding in bindings]

    @inlineCallbacks
    def remove_device(self, username, domain, uuid):
        """
        See L{IRegistrar.remove_device}.  Flexisip deletes by unique id as it
        stored it, so the binding is looked up first and its id sent back
        verbatim; a binding still listed in the answer is a failure.
        """
        aor = "sip:" + address_of_record(username, domain)
        bindings = yield self._bindings(aor)
        matching = [binding for binding in bindings if binding.device.uuid == uuid]
        for binding in matching:
            reply = yield self.command("REGISTRAR_DELETE", aor, binding.unique_id)
            if any(kept.unique_id == binding.unique_id for kept in parse_reply(reply)):
                raise RegistrarUnavailable(
                    "Flexisip still holds the binding after REGISTRAR_DELETE"
                )
        return bool(matching)


def build(options, context):
    """The ``flexisip-cli`` backend's factory."""
    return FlexisipCLIRegistrar(
        context.reactor,
        pid_file=options["pid_file"],
        socket=options["socket"],
        timeout=options["timeout"],
    )
