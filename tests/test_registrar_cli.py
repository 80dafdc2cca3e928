"""
Tests for the ``flexisip-cli`` registrar backend, run against the fake
Flexisip CLI server of L{famd.testing.flexisip_cli}, and for that fake.
"""

import os
import random
import shutil
import socket
import tempfile

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import UNIXClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from famd import backends
from famd.backends import BackendContext
from famd.interfaces import IRegistrar, RegistrarUnavailable
from famd.registrar.flexisip_cli import FlexisipCLIRegistrar, socket_path
from famd.testing.flexisip_cli import (
    GARBAGE,
    HANG,
    NEW_JSON,
    NOT_FOUND,
    OLD_JSON,
    SILENT,
    FakeFlexisipCLI,
    Registration,
)
from famd.testing.registrar_contract import (
    RegistrarContractMixin,
    device,
    registration,
)

DOMAIN = "sip.example.org"


def short_directory(testcase):
    """A fresh folder with a short path (unix socket paths are ~107 bytes at most)."""
    path = tempfile.mkdtemp(prefix="famd-")
    testcase.addCleanup(shutil.rmtree, path, True)
    return path


class _RawReply(Protocol):
    """Sends bytes exactly as given and collects the reply until EOF."""

    def __init__(self, data):
        self._data = data
        self._chunks = []
        self.reply = Deferred()

    def connectionMade(self):
        self.transport.write(self._data)

    def dataReceived(self, data):
        self._chunks.append(data)

    def connectionLost(self, reason):
        self.reply.callback(b"".join(self._chunks))


def send_raw(path, data):
    """Connect to the unix socket C{path}, send C{data}, return the reply."""
    protocol = _RawReply(data)
    connecting = connectProtocol(UNIXClientEndpoint(reactor, path), protocol)
    return connecting.addCallback(lambda _: protocol.reply)


class _FakeCLIMixin:
    """Runs a fake Flexisip CLI on a short socket path for each test."""

    generation = NEW_JSON

    def setUp(self):
        self.path = os.path.join(short_directory(self), "cli")
        self.fake = FakeFlexisipCLI(reactor, generation=self.generation)
        self.addCleanup(self.fake.stop)
        return self.fake.listen(self.path)

    def make_registrar(self, **options):
        options.setdefault("socket", self.path)
        return FlexisipCLIRegistrar(reactor, **options)

    def seed(self, username, domain, registrations):
        for stored in registrations:
            self.fake.records.register("%s@%s" % (username, domain), stored)


class NewGenerationContractTests(_FakeCLIMixin, RegistrarContractMixin, TestCase):
    """The IRegistrar contract over a Flexisip 2.1+ CLI."""


class OldGenerationContractTests(_FakeCLIMixin, RegistrarContractMixin, TestCase):
    """The IRegistrar contract over a CLI answering in the 2021 JSON shape."""

    generation = OLD_JSON


class CommandTests(_FakeCLIMixin, TestCase):
    """The bytes the backend sends, and what it makes of the answers."""

    @inlineCallbacks
    def test_get_command(self):
        """Listing sends one REGISTRAR_GET with the sip: address and no newline."""
        yield self.make_registrar().list_devices("alice", DOMAIN)
        self.assertEqual(
            self.fake.commands, [b"REGISTRAR_GET sip:alice@sip.example.org"]
        )

    @inlineCallbacks
    def test_delete_sends_stored_id(self):
        """REGISTRAR_DELETE carries the unique id exactly as stored, quotes included."""
        self.seed("alice", DOMAIN, [registration("aaaa-1111")])
        yield self.make_registrar().remove_device("alice", DOMAIN, "urn:uuid:aaaa-1111")
        self.assertEqual(
            self.fake.commands,
            [
                b"REGISTRAR_GET sip:alice@sip.example.org",
                b'REGISTRAR_DELETE sip:alice@sip.example.org "<urn:uuid:aaaa-1111>"',
            ],
        )

    @inlineCallbacks
    def test_delete_sends_unquoted_id(self):
        """A unique id stored without quotes is sent without quotes."""
        self.seed("alice", DOMAIN, [registration("aaaa-1111", quoted=False)])
        yield self.make_registrar().remove_device("alice", DOMAIN, "urn:uuid:aaaa-1111")
        self.assertEqual(
            self.fake.commands[-1],
            b"REGISTRAR_DELETE sip:alice@sip.example.org <urn:uuid:aaaa-1111>",
        )

    @inlineCallbacks
    def test_unknown_device_sends_no_delete(self):
        """Removing a device the user lacks sends no REGISTRAR_DELETE."""
        self.seed("alice", DOMAIN, [registration("aaaa-1111")])
        yield self.make_registrar().remove_device("alice", DOMAIN, "urn:uuid:ffff")
        self.assertEqual(len(self.fake.commands), 1)

    @inlineCallbacks
    def test_username_escaped(self):
        """A username with a space or '@' is escaped and cannot add a word."""
        yield self.make_registrar().list_devices("a b@c", DOMAIN)
        self.assertEqual(
            self.fake.commands, [b"REGISTRAR_GET sip:a%20b%40c@sip.example.org"]
        )

    @inlineCallbacks
    def test_bad_domain(self):
        """A domain that is not a host name fails without sending anything."""
        yield self.assertFailure(
            self.make_registrar().list_devices("alice", "example.org extra"),
            RegistrarUnavailable,
        )
        self.assertEqual(self.fake.commands, [])

    @inlineCallbacks
    def test_command_too_long(self):
        """A command Flexisip would cut at 511 bytes is refused before sending."""
        yield self.assertFailure(
            self.make_registrar().list_devices("u" * 500, DOMAIN), RegistrarUnavailable
        )
        self.assertEqual(self.fake.commands, [])

    @inlineCallbacks
    def test_garbage_reply(self):
        """A reply that is not a record makes the registrar unavailable."""
        self.fake.mode = GARBAGE
        yield self.assertFailure(
            self.make_registrar().list_devices("alice", DOMAIN), RegistrarUnavailable
        )

    @inlineCallbacks
    def test_error_reply(self):
        """Flexisip's error line is reported as unavailable, with its text."""
        self.fake.mode = GARBAGE
        self.fake.garbage = b"Error - Failed to connect to the registrar database"
        error = yield self.assertFailure(
            self.make_registrar().list_devices("alice", DOMAIN), RegistrarUnavailable
        )
        self.assertIn("Failed to connect to the registrar database", str(error))

    @inlineCallbacks
    def test_closed_without_reply(self):
        """A connection closed without a byte makes the registrar unavailable."""
        self.fake.mode = SILENT
        yield self.assertFailure(
            self.make_registrar().list_devices("alice", DOMAIN), RegistrarUnavailable
        )

    @inlineCallbacks
    def test_hanging_server_times_out(self):
        """A server that never answers fails after the timeout, connection dropped."""
        self.fake.mode = HANG
        error = yield self.assertFailure(
            self.make_registrar(timeout=0.2).list_devices("alice", DOMAIN),
            RegistrarUnavailable,
        )
        self.assertIn("did not answer within 0.2 s", str(error))

    @inlineCallbacks
    def test_binding_kept_after_delete(self):
        """A binding still listed after REGISTRAR_DELETE is a failure, not a success."""
        self.seed("alice", DOMAIN, [registration("aaaa-1111")])
        self.fake.records.unregister = lambda aor, unique_id: None
        yield self.assertFailure(
            self.make_registrar().remove_device("alice", DOMAIN, "urn:uuid:aaaa-1111"),
            RegistrarUnavailable,
        )


class SocketTests(TestCase):
    """Finding the socket: explicit path, pid file, and their failures."""

    def setUp(self):
        self.directory = short_directory(self)

    @inlineCallbacks
    def test_no_socket(self):
        """A socket path where nothing exists makes the registrar unavailable."""
        registrar = FlexisipCLIRegistrar(
            reactor, socket=os.path.join(self.directory, "none")
        )
        error = yield self.assertFailure(
            registrar.list_devices("alice", DOMAIN), RegistrarUnavailable
        )
        self.assertIn("cannot connect", str(error))

    @inlineCallbacks
    def test_refused(self):
        """A stale socket file nobody listens on makes the registrar unavailable."""
        path = os.path.join(self.directory, "stale")
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)
        stale.close()
        registrar = FlexisipCLIRegistrar(reactor, socket=path)
        yield self.assertFailure(
            registrar.list_devices("alice", DOMAIN), RegistrarUnavailable
        )

    @inlineCallbacks
    def test_missing_pid_file(self):
        """A missing pid file makes the registrar unavailable and is named."""
        pid_file = os.path.join(self.directory, "flexisip-proxy.pid")
        registrar = FlexisipCLIRegistrar(reactor, pid_file=pid_file)
        error = yield self.assertFailure(
            registrar.list_devices("alice", DOMAIN), RegistrarUnavailable
        )
        self.assertIn(pid_file, str(error))

    @inlineCallbacks
    def test_bad_pid_file(self):
        """A pid file without a pid makes the registrar unavailable."""
        pid_file = os.path.join(self.directory, "flexisip-proxy.pid")
        with open(pid_file, "w") as stream:
            stream.write("not a pid\n")
        registrar = FlexisipCLIRegistrar(reactor, pid_file=pid_file)
        yield self.assertFailure(
            registrar.list_devices("alice", DOMAIN), RegistrarUnavailable
        )

    @inlineCallbacks
    def _fake_at_pid(self, pid):
        fake = FakeFlexisipCLI(reactor)
        fake.records.register("alice@" + DOMAIN, registration("p%d" % (pid,)))
        yield fake.listen(socket_path(pid))
        self.addCleanup(fake.stop)
        return fake

    @inlineCallbacks
    def test_pid_file(self):
        """The socket is /tmp/flexisip-proxy-<pid>, the pid read at each command."""
        # Above the largest pid Linux hands out, so no real Flexisip is hit.
        first = 5000000 + random.randrange(1000000)
        pid_file = os.path.join(self.directory, "flexisip-proxy.pid")
        with open(pid_file, "w") as stream:
            stream.write("%d\n" % (first,))
        yield self._fake_at_pid(first)
        registrar = FlexisipCLIRegistrar(reactor, pid_file=pid_file)
        devices = yield registrar.list_devices("alice", DOMAIN)
        self.assertEqual(devices, [device("p%d" % (first,))])

        second = first + 1
        yield self._fake_at_pid(second)
        with open(pid_file, "w") as stream:
            stream.write("%d" % (second,))
        devices = yield registrar.list_devices("alice", DOMAIN)
        self.assertEqual(devices, [device("p%d" % (second,))])


class PluginTests(TestCase):
    """The flexisip-cli and none backends as declared plugins."""

    def test_declared(self):
        """The registrar kind offers flexisip-cli, redis and none."""
        self.assertTrue(
            {"flexisip-cli", "redis", "none"} <= set(backends.available("registrar"))
        )

    def test_options(self):
        """flexisip-cli declares pid_file, socket and timeout with their defaults."""
        backend = backends.find("registrar", "flexisip-cli")
        defaults = {option.key: option.default for option in backend.options}
        self.assertEqual(
            defaults,
            {"pid_file": "/var/run/flexisip-proxy.pid", "socket": None, "timeout": 5.0},
        )

    def test_build(self):
        """The flexisip-cli backend builds an IRegistrar provider."""
        backend = backends.find("registrar", "flexisip-cli")
        provider = backend.build(
            {"pid_file": "/nonexistent/flexisip.pid", "socket": None, "timeout": 5.0},
            BackendContext(reactor=reactor, config=None),
        )
        self.assertTrue(verifyObject(IRegistrar, provider))

    def test_none(self):
        """The none backend builds no provider at all."""
        backend = backends.find("registrar", "none")
        self.assertIsNone(
            backend.build({}, BackendContext(reactor=reactor, config=None))
        )


class FakeServerTests(_FakeCLIMixin, TestCase):
    """The fake answers like Flexisip, byte for byte."""

    def _command(self, *words):
        return self.make_registrar().command(*words)

    @inlineCallbacks
    def test_new_generation_bytes(self):
        """Flexisip 2.1+ prints one compact JSON object with sorted keys."""
        self.seed("alice", DOMAIN, [Registration('"<urn:uuid:a>"', "UA/1", 200, 100)])
        reply = yield self._command("REGISTRAR_GET", "sip:alice@sip.example.org")
        self.assertEqual(
            reply,
            b'{"contacts":[{"accept":[],"alias":false,"call-id":"fake-call-id",'
            b'"contact":"sip:device@192.0.2.10:5060;transport=tcp","cseq":20,'
            b'"expires-at":200,"path":["sip:192.0.2.1:5060;transport=tcp;lr"],'
            b'"q":1.0,"unique-id":"\\"<urn:uuid:a>\\"","update-time":100,'
            b'"user-agent":"UA/1"}]}',
        )

    @inlineCallbacks
    def test_old_generation_bytes(self):
        """The 2021 shape prints cJSON's field order and integral numbers."""
        self.fake.generation = OLD_JSON
        self.seed(
            "alice",
            DOMAIN,
            [Registration('"<urn:uuid:a>"', "UA/1", 200, 100, contact_id="c1")],
        )
        reply = yield self._command("REGISTRAR_GET", "sip:alice@sip.example.org")
        self.assertEqual(
            reply,
            b'{"contacts":[{"path":["sip:192.0.2.1:5060;transport=tcp;lr"],'
            b'"acceptHeaders":[],"uri":"sip:device@192.0.2.10:5060;transport=tcp",'
            b'"expires_at":200,"q":1,"line_value_copy":"\\"<urn:uuid:a>\\"",'
            b'"contact_id":"c1","user_agent":"UA/1","update_time":100,'
            b'"call_id":"fake-call-id","cseq":20,"alias":0}]}',
        )

    @inlineCallbacks
    def test_not_found(self):
        """A GET for an address without bindings answers Flexisip's 404 line."""
        reply = yield self._command("REGISTRAR_GET", "sip:nobody@sip.example.org")
        self.assertEqual(reply, NOT_FOUND.encode("ascii"))

    @inlineCallbacks
    def test_delete_answers_remaining_record(self):
        """A DELETE answers the record left, even when it is empty."""
        self.seed("alice", DOMAIN, [registration("a")])
        reply = yield self._command(
            "REGISTRAR_DELETE", "sip:alice@sip.example.org", '"<urn:uuid:a>"'
        )
        self.assertEqual(reply, b'{"contacts":[]}')

    @inlineCallbacks
    def test_trailing_newline_does_not_match(self):
        """A unique id followed by a newline matches nothing, as in Flexisip."""
        self.seed("alice", DOMAIN, [registration("a")])
        yield self._command(
            "REGISTRAR_DELETE", "sip:alice@sip.example.org", '"<urn:uuid:a>"\n'
        )
        self.assertEqual(len(self.fake.records.bindings("alice@" + DOMAIN)), 1)

    @inlineCallbacks
    def test_double_space_is_an_empty_word(self):
        """Words split on every single space: two spaces give an empty AOR."""
        reply = yield send_raw(self.path, b"REGISTRAR_GET  sip:alice@sip.example.org")
        self.assertEqual(reply, b"Error - ")

    @inlineCallbacks
    def test_reads_511_bytes_once(self):
        """Only the first 511 bytes of a command are read."""
        yield send_raw(self.path, b"REGISTRAR_GET sip:" + b"x" * 600)
        self.assertEqual(len(self.fake.commands[0]), 511)

    @inlineCallbacks
    def test_nul_ends_the_command(self):
        """The command ends at the first NUL byte, like a C string."""
        yield send_raw(self.path, b"REGISTRAR_GET sip:alice@sip.example.org\0junk")
        self.assertEqual(
            self.fake.commands, [b"REGISTRAR_GET sip:alice@sip.example.org"]
        )

    @inlineCallbacks
    def test_unknown_command(self):
        """An unknown command answers Flexisip's error line."""
        reply = yield self._command("REGISTRAR_FROB", "x")
        self.assertEqual(reply, b"Error - Unknown command: REGISTRAR_FROB")

    @inlineCallbacks
    def test_missing_arguments(self):
        """GET and DELETE without their arguments answer Flexisip's usage lines."""
        get = yield self._command("REGISTRAR_GET")
        delete = yield self._command("REGISTRAR_DELETE", "sip:alice@sip.example.org")
        self.assertEqual(
            get, b"Error - 'REGISTRAR_GET' command expects 1 argument: <aor>"
        )
        self.assertEqual(
            delete,
            b"Error - 'REGISTRAR_DELETE' command expects 2 arguments: <uri> <uuid>.",
        )

    @inlineCallbacks
    def test_invalid_uri(self):
        """An argument that is not a SIP URI answers an error naming it."""
        get = yield self._command("REGISTRAR_GET", "alice")
        delete = yield self._command("REGISTRAR_DELETE", "alice", "x")
        self.assertEqual(get, b"Error - alice")
        self.assertEqual(delete, b"Error - Invalid SIP URI: alice")
