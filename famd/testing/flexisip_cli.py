"""
A fake Flexisip proxy CLI socket, for tests of anything that talks to it.

It behaves like Flexisip's C{CommandLineInterface} byte for byte where a
client can tell: one C{recv} of at most 511 bytes per connection, the text
cut at the first NUL, words split on every single space (so two spaces make
an empty word and a trailing newline stays in the last word), a raw reply
with no newline, then the connection closed.  REGISTRAR_GET and
REGISTRAR_DELETE answer from an in-memory L{RegistrarRecords} in either JSON
generation, with Flexisip's error texts; REGISTRAR_DELETE removes the
bindings whose unique id equals the argument exactly.

It can also misbehave: answer garbage, close without answering, or hang
with the connection open until L{FakeFlexisipCLI.stop}.
"""

import json
import re
import zlib
from dataclasses import dataclass
from typing import Optional, Tuple

from twisted.internet.defer import maybeDeferred, succeed
from twisted.internet.endpoints import UNIXServerEndpoint
from twisted.internet.protocol import Factory, Protocol

NEW_JSON = "2.1"
"""Flexisip 2.1.0 and later: C{unique-id}, C{expires-at}... sorted keys."""

OLD_JSON = "2021"
"""Until August 2021: C{line_value_copy}, C{expires_at}... in cJSON order."""

ANSWER, GARBAGE, SILENT, HANG = "answer", "garbage", "silent", "hang"
"""The behaviours of L{FakeFlexisipCLI}: see its C{mode}."""

RECV_SIZE = 511
"""Flexisip's recv() into a 512-byte buffer that stays NUL-terminated."""

NOT_FOUND = (
    "Error - 404 Not Found: the registrar database does not contain the requested AOR"
)

_AOR = re.compile(r"sips?:([^@\s;?>]+@[^@\s;?>]+)(;[^\s]*)?")


@dataclass(frozen=True)
class Registration:
    """
    One binding as Flexisip holds it.

    @ivar unique_id: the key, as registered (C{"<urn:uuid:...>"} with its
        quotes, or a generated C{fs-gen-...} for a contact without
        +sip.instance).
    @ivar user_agent: the User-Agent header ('' when the device sent none).
    @ivar expires_at: epoch seconds the binding expires at.
    @ivar update_time: epoch seconds of the last REGISTER.
    """

    unique_id: str
    user_agent: str = ""
    expires_at: int = 0
    update_time: int = 0
    contact: str = "sip:device@192.0.2.10:5060;transport=tcp"
    call_id: str = "fake-call-id"
    cseq: int = 20
    path: Tuple[str, ...] = ("sip:192.0.2.1:5060;transport=tcp;lr",)
    accept: Tuple[str, ...] = ()
    q: float = 1.0
    alias: bool = False
    contact_id: Optional[str] = None

    def generated_contact_id(self):
        """Flexisip's internal contact id (stable, derived from the key)."""
        if self.contact_id is not None:
            return self.contact_id
        return "%08x" % (zlib.crc32(self.unique_id.encode("utf-8")),)


class RegistrarRecords:
    """The registrar database: address of record (C{user@domain}) -> bindings."""

    def __init__(self):
        self._records = {}

    def register(self, aor, registration):
        """Add C{registration} to C{aor} (C{user@domain}), replacing its key."""
        bindings = self._records.setdefault(aor, [])
        bindings[:] = [b for b in bindings if b.unique_id != registration.unique_id]
        bindings.append(registration)

    def bindings(self, aor):
        """The bindings of C{aor}, a list (empty when none)."""
        return list(self._records.get(aor, ()))

    def unregister(self, aor, unique_id):
        """Remove the bindings whose key equals C{unique_id} exactly."""
        bindings = self._records.get(aor, [])
        bindings[:] = [b for b in bindings if b.unique_id != unique_id]


def _number(value):
    """A number as cJSON prints it: integral values without a fraction."""
    return int(value) if float(value).is_integer() else value


def _new_contact(registration):
    contact = {
        "accept": list(registration.accept),
        "alias": registration.alias,
        "call-id": registration.call_id,
        "contact": registration.contact,
        "cseq": registration.cseq,
        "expires-at": registration.expires_at,
        "path": list(registration.path),
        "q": registration.q,
        "unique-id": registration.unique_id,
        "update-time": registration.update_time,
        "user-agent": registration.user_agent,
    }
    if registration.contact_id is not None:
        contact["contact-id"] = registration.contact_id
    return contact


def _old_contact(registration):
    return {
        "path": list(registration.path),
        "acceptHeaders": list(registration.accept),
        "uri": registration.contact,
        "expires_at": registration.expires_at,
        "q": _number(registration.q),
        "line_value_copy": registration.unique_id,
        "contact_id": registration.generated_contact_id(),
        "user_agent": registration.user_agent,
        "update_time": registration.update_time,
        "call_id": registration.call_id,
        "cseq": registration.cseq,
        "alias": 1 if registration.alias else 0,
    }


def serialize(bindings, generation=NEW_JSON):
    """A record as Flexisip's CLI prints it, in C{generation}'s shape (str)."""
    if generation == NEW_JSON:
        record = {"contacts": [_new_contact(b) for b in bindings]}
        return json.dumps(
            record, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    record = {"contacts": [_old_contact(b) for b in bindings]}
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


class _CLIConnection(Protocol):
    """One accepted connection: one read, one answer, closed."""

    def __init__(self, server):
        self._server = server
        self._read = False

    def connectionMade(self):
        self._server.connections.add(self)

    def connectionLost(self, reason):
        self._server.connections.discard(self)

    def dataReceived(self, data):
        if self._read:
            return
        self._read = True
        query = data[:RECV_SIZE].split(b"\0", 1)[0]
        self._server.commands.append(query)
        mode = self._server.mode
        if mode == HANG:
            return
        if mode == GARBAGE:
            self.transport.write(self._server.garbage)
        elif mode == ANSWER and query:
            self.transport.write(
                self._server.answer(query).encode("utf-8", "surrogateescape")
            )
        self.transport.loseConnection()


class FakeFlexisipCLI:
    """
    The proxy CLI over a L{RegistrarRecords}.

    @ivar records: the L{RegistrarRecords} answered from.
    @ivar generation: L{NEW_JSON} or L{OLD_JSON}.
    @ivar mode: L{ANSWER} (like Flexisip), L{GARBAGE} (write C{garbage},
        close), L{SILENT} (close without a byte) or L{HANG} (read, then
        neither answer nor close).  May be changed at any time.
    @ivar garbage: the bytes L{GARBAGE} writes.
    @ivar commands: every command read, as the raw bytes Flexisip would
        have seen, in order.
    @ivar connections: the connections still open.
    """

    def __init__(self, reactor, records=None, generation=NEW_JSON, mode=ANSWER):
        if generation not in (NEW_JSON, OLD_JSON):
            raise ValueError("generation must be NEW_JSON or OLD_JSON")
        self._reactor = reactor
        self.records = records if records is not None else RegistrarRecords()
        self.generation = generation
        self.mode = mode
        self.garbage = b"\x00\xff not a record {"
        self.commands = []
        self.connections = set()
        self._port = None

    def listen(self, path):
        """
        Listen on the unix socket C{path} (keep it under ~100 bytes).

        @return: a Deferred firing with the listening port.
        """
        factory = Factory.forProtocol(lambda: _CLIConnection(self))
        factory.noisy = False
        listening = UNIXServerEndpoint(self._reactor, path).listen(factory)

        def listened(port):
            self._port = port
            return port

        return listening.addCallback(listened)

    def stop(self):
        """
        Stop listening and drop the open (hanging) connections.

        @return: a Deferred firing once the socket is closed.
        """
        for connection in list(self.connections):
            connection.transport.abortConnection()
        port, self._port = self._port, None
        return maybeDeferred(port.stopListening) if port else succeed(None)

    def answer(self, query):
        """What Flexisip answers to the raw command C{query} (bytes), as str."""
        words = query.decode("utf-8", "surrogateescape").split(" ")
        command, args = words[0], words[1:]
        if command == "REGISTRAR_GET":
            return self._get(args)
        if command == "REGISTRAR_DELETE":
            return self._delete(args)
        return "Error - Unknown command: " + command

    def _get(self, args):
        if not args:
            return "Error - 'REGISTRAR_GET' command expects 1 argument: <aor>"
        aor = _AOR.fullmatch(args[0])
        if aor is None:
            return "Error - " + args[0]
        bindings = self.records.bindings(aor.group(1))
        if not bindings:
            return NOT_FOUND
        return serialize(bindings, self.generation)

    def _delete(self, args):
        if len(args) < 2:
            return (
                "Error - 'REGISTRAR_DELETE' command expects 2 arguments: <uri> <uuid>."
            )
        aor = _AOR.fullmatch(args[0])
        if aor is None:
            return "Error - Invalid SIP URI: " + args[0]
        self.records.unregister(aor.group(1), args[1])
        return serialize(self.records.bindings(aor.group(1)), self.generation)
