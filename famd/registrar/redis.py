"""
The ``redis`` registrar backend: devices read from Flexisip's Redis
registrar database (``db-implementation=redis``).

Each operation opens its own connection, runs its commands and closes, all
under one timeout: the devices endpoints are rare, and a connection that is
never kept cannot go stale or outlive the service.  The Redis protocol is
txredisapi's C{RedisProtocol}, connected through a Twisted endpoint built
on the injected reactor; AUTH and SELECT are sent here rather than by
txredisapi's connection factory, which would use the global reactor.
Values travel as bytes, so a HASH field is deleted exactly as it is stored.

Listing: C{HGETALL fs:user@domain}; each field is a binding's unique id
(its public id is the field without quotes and angle brackets, whether or
not the value carries a +sip.instance), each value a contact read by
L{famd.registrar.redis_contact}.  A binding whose expiry has passed is not
listed: Flexisip no longer routes to it.  Removing: C{HKEYS}, C{HDEL} of the
matching field, then C{PUBLISH user@domain ""} so that every Flexisip
instance reloads the record.
"""

from dataclasses import dataclass
from typing import Optional
from urllib.parse import parse_qs, unquote, urlsplit

from twisted.internet.defer import TimeoutError, inlineCallbacks
from twisted.internet.endpoints import (
    HostnameEndpoint,
    UNIXClientEndpoint,
    connectProtocol,
)
from twisted.internet.error import ConnectError, ConnectionClosed
from twisted.python.failure import Failure
from txredisapi import RedisError, RedisProtocol
from zope.interface import implementer

from famd.interfaces import IRegistrar, RegistrarUnavailable
from famd.registrar import Device, address_of_record, iso_time, public_id
from famd.registrar.redis_contact import parse_contact


@dataclass(frozen=True)
class RedisTarget:
    """
    Where the Redis server is, read from the backend's C{url}.

    @ivar host: the TCP host, or None for a unix socket.
    @ivar port: the TCP port.
    @ivar path: the unix socket path, or None for TCP.
    @ivar db: the database number.
    @ivar username: the ACL user, or None.
    @ivar password: the password, or None (never put it in a message).
    """

    host: Optional[str]
    port: int
    path: Optional[str]
    db: int
    username: Optional[str]
    password: Optional[str]

    def __str__(self):
        if self.path is not None:
            return "unix:%s (db %d)" % (self.path, self.db)
        return "%s:%d (db %d)" % (self.host, self.port, self.db)


def parse_url(url):
    """
    Read C{redis://[[user]:password@]host[:port][/db]} or
    C{unix:///path/to/socket[?db=N]}.

    @return: a L{RedisTarget}.
    @raise ValueError: the URL is of neither form; the message says why,
        without the password.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    try:
        if parts.scheme == "redis":
            db_text = parts.path.strip("/") or query.get("db", ["0"])[0]
            host, port, path = parts.hostname or "127.0.0.1", parts.port or 6379, None
        elif parts.scheme == "unix":
            db_text = query.get("db", ["0"])[0]
            host, port, path = None, 0, parts.path
            if not path:
                raise ValueError("a unix:// URL needs the socket path")
        else:
            raise ValueError("must start with redis:// or unix://")
        db = int(db_text)
    except ValueError as error:
        problem = str(error)
        if "invalid literal" in problem:
            problem = "the database must be a number"
        elif "Port" in problem:
            problem = "the port must be a number from 0 to 65535"
        raise ValueError(problem) from None
    if db < 0:
        raise ValueError("the database must not be negative")
    return RedisTarget(
        host=host,
        port=port,
        path=path,
        db=db,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def url_problem(url):
    """An L{famd.options.Option} check: why C{url} is unusable, or None."""
    try:
        parse_url(url)
    except ValueError as error:
        return str(error)
    return None


@implementer(IRegistrar)
class RedisRegistrar:
    """
    Reads and removes bindings in Flexisip's Redis registrar database.

    @param reactor: the reactor to connect and time out with.
    @param url: see L{parse_url}.
    @param timeout: seconds allowed for one operation, connection included.
    """

    def __init__(self, reactor, url="redis://127.0.0.1:6379/0", timeout=5.0):
        self._reactor = reactor
        self._target = parse_url(url)
        self._timeout = timeout

    def _endpoint(self):
        target = self._target
        if target.path is not None:
            return UNIXClientEndpoint(self._reactor, target.path, timeout=self._timeout)
        return HostnameEndpoint(
            self._reactor, target.host, target.port, timeout=self._timeout
        )

    def _protocol(self):
        protocol = RedisProtocol(charset=None, convertNumbers=False)
        protocol.callLater = self._reactor.callLater
        return protocol

    @inlineCallbacks
    def _prepare(self, protocol):
        target = self._target
        if target.password is not None:
            yield protocol.auth(target.password, target.username)
        if target.db:
            yield protocol.select(target.db)

    def _run(self, work):
        """
        Connect, run C{work(protocol)}, disconnect.

        @return: a Deferred firing with what C{work}'s Deferred fired with,
            once the connection is closed, or failing with
            L{RegistrarUnavailable}.
        """
        connected = []

        def ready(protocol):
            connected.append(protocol)
            prepared = self._prepare(protocol)
            return prepared.addCallback(lambda _: work(protocol))

        def close(result):
            if not connected or not connected[0].connected:
                return result
            protocol = connected[0]
            gone = protocol.whenDisconnected()
            if isinstance(result, Failure):
                protocol.transport.abortConnection()
            else:
                protocol.transport.loseConnection()
            return gone.addCallback(lambda _: result)

        operation = connectProtocol(self._endpoint(), self._protocol())
        operation.addCallback(ready)
        operation.addTimeout(self._timeout, self._reactor)
        operation.addBoth(close)
        operation.addErrback(self._unavailable)
        return operation

    def _unavailable(self, failure):
        failure.trap(TimeoutError, RedisError, ConnectError, ConnectionClosed, OSError)
        if failure.check(TimeoutError):
            message = "Redis at %s did not answer within %g s" % (
                self._target,
                self._timeout,
            )
        else:
            message = "Redis at %s failed: %s" % (self._target, failure.value)
        if self._target.password:
            message = message.replace(self._target.password, "***")
        raise RegistrarUnavailable(message)

    def _device(self, field, value, now):
        contact = parse_contact(value.decode("utf-8", "replace"))
        expires_at = contact.expires_at
        if expires_at is not None and expires_at < now:
            return None
        unique_id = field.decode("utf-8", "replace") or contact.instance or ""
        return Device(
            uuid=public_id(unique_id),
            user_agent=contact.user_agent,
            expires_at=iso_time(expires_at),
            update_time=iso_time(contact.updated_at),
        )

    @inlineCallbacks
    def list_devices(self, username, domain):
        """See L{IRegistrar.list_devices}."""
        key = "fs:" + address_of_record(username, domain)
        record = yield self._run(lambda protocol: protocol.hgetall(key))
        now = self._reactor.seconds()
        devices = (self._device(field, record[field], now) for field in sorted(record))
        return [device for device in devices if device is not None]

    @inlineCallbacks
    def remove_device(self, username, domain, uuid):
        """See L{IRegistrar.remove_device}."""
        channel = address_of_record(username, domain)
        key = "fs:" + channel

        @inlineCallbacks
        def remove(protocol):
            fields = yield protocol.hkeys(key)
            matching = [
                field
                for field in fields
                if public_id(field.decode("utf-8", "replace")) == uuid
            ]
            if not matching:
                return False
            removed = yield protocol.hdel(key, matching)
            if removed:
                yield protocol.publish(channel, "")
            return removed > 0

        removed = yield self._run(remove)
        return removed


def build(options, context):
    """The ``redis`` backend's factory."""
    return RedisRegistrar(
        context.reactor, url=options["url"], timeout=options["timeout"]
    )
