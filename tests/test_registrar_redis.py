"""
Tests for the ``redis`` registrar backend, against the real Redis at
127.0.0.1:6379 (or C{FAMD_TEST_REDIS_URL}), with values written in
Flexisip's exact format.

Each test uses fresh usernames and deletes the keys it wrote.  When Redis
cannot be reached the tests are skipped, unless
C{FAMD_TEST_REQUIRE_SERVICES=1}, in which case they fail.
"""

import os
import uuid
from urllib.parse import quote

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.endpoints import (
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
    connectProtocol,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.trial.unittest import SkipTest, TestCase
from txredisapi import RedisProtocol, SubscriberProtocol
from zope.interface.verify import verifyObject

from famd import backends
from famd.backends import BackendContext
from famd.interfaces import IRegistrar, RegistrarUnavailable
from famd.registrar import Device
from famd.registrar.redis import RedisRegistrar, parse_url
from famd.testing.registrar_contract import (
    UPDATED,
    RegistrarContractMixin,
    registration,
)

REDIS_URL = os.environ.get("FAMD_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
DOMAIN = "sip.example.org"


def flexisip_value(stored):
    """
    A L{famd.testing.flexisip_cli.Registration} as Flexisip's Redis
    registrar writes it: the contact re-serialized with URI-escaped
    parameters and URL-escaped headers, +sip.instance only for a device
    that sent one.
    """
    params = "callid=%s;expires=%d;cseq=%d;updatedAt=%d;alias=no;usedAsRoute=no" % (
        quote(stored.call_id, safe="-_.!~*'()[]/:&+$"),
        stored.expires_at - stored.update_time,
        stored.cseq,
        stored.update_time,
    )
    headers = []
    if stored.path:
        headers.append(
            "path=" + quote(",".join("<%s>" % p for p in stored.path), safe="-_.")
        )
    if stored.accept:
        headers.append("accept=" + quote(",".join(stored.accept), safe="-_."))
    if stored.user_agent:
        headers.append("user-agent=" + quote(stored.user_agent, safe="-_."))
    value = "<%s;%s?%s>" % (stored.contact, params, "&".join(headers))
    if stored.unique_id.startswith(('"<', "<")):
        value += ';+sip.instance=%s;+org.linphone.specs="groupchat/1.1,lime"' % (
            stored.unique_id,
        )
    return value


class _Silent(Protocol):
    """Accepts a connection and never answers."""


class _Listener(SubscriberProtocol):
    """Collects the messages of the channels it subscribed to."""

    def __init__(self, *args, **kwargs):
        SubscriberProtocol.__init__(self, *args, **kwargs)
        self.message = Deferred()

    def messageReceived(self, pattern, channel, message):
        if not self.message.called:
            self.message.callback((channel, message))


class _RedisMixin:
    """Connects an admin client to the test Redis, or skips."""

    @inlineCallbacks
    def setUp(self):
        self.target = parse_url(REDIS_URL)
        self.keys = set()
        try:
            self.admin = yield self._client(RedisProtocol)
        except Exception as error:
            if os.environ.get("FAMD_TEST_REQUIRE_SERVICES") == "1":
                raise
            raise SkipTest("Redis at %s unreachable: %s" % (self.target, error))
        self.addCleanup(self._disconnect, self.admin)
        self.addCleanup(self._forget)

    @inlineCallbacks
    def _client(self, protocol_class):
        endpoint = TCP4ClientEndpoint(reactor, self.target.host, self.target.port, 2)
        client = protocol_class(charset=None, convertNumbers=False)
        client.callLater = reactor.callLater
        yield connectProtocol(endpoint, client)
        if self.target.password is not None:
            yield client.auth(self.target.password, self.target.username)
        if self.target.db and protocol_class is RedisProtocol:
            yield client.select(self.target.db)
        return client

    def _disconnect(self, client):
        if not client.connected:
            return None
        gone = client.whenDisconnected()
        client.transport.loseConnection()
        return gone

    def _forget(self):
        if self.keys:
            return self.admin.delete(*sorted(self.keys))
        return None

    def username(self):
        """A username no other test uses."""
        return "redis" + uuid.uuid4().hex[:12]

    def hset(self, key, field, value):
        """Write one HASH field of the test database, deleted after the test."""
        self.keys.add(key)
        return self.admin.hset(key, field, value)

    def make_registrar(self, **options):
        options.setdefault("url", REDIS_URL)
        return RedisRegistrar(reactor, **options)

    @inlineCallbacks
    def seed(self, username, domain, registrations):
        for stored in registrations:
            yield self.hset(
                "fs:%s@%s" % (username, domain),
                stored.unique_id,
                flexisip_value(stored),
            )


class RedisContractTests(_RedisMixin, RegistrarContractMixin, TestCase):
    """The IRegistrar contract over a real Redis holding Flexisip's records."""


class RedisTests(_RedisMixin, TestCase):
    """What is particular to Redis: the stored format, publishing, failures."""

    @inlineCallbacks
    def test_exact_flexisip_value(self):
        """A value exactly as Flexisip writes it is read, user agent unescaped."""
        user = self.username()
        yield self.hset(
            "fs:%s@%s" % (user, DOMAIN),
            '"<urn:uuid:0d2e6f3a-5b1c-4c8e-9f7a-1b2c3d4e5f60>"',
            "<sip:%s@192.0.2.33:41234;transport=tls;pn-provider=fcm"
            ";pn-prid=abc%%3Adef;pn-param=linphone-12345"
            ";callid=2jDKWQbNxA;expires=3600;cseq=21;updatedAt=%d;alias=no"
            ";usedAsRoute=no"
            "?path=%%3Csip%%3A192.0.2.1%%3A5061%%3Btransport%%3Dtls%%3Blr%%3E"
            "&accept=application%%2Fsdp%%2Capplication%%2Fpidf%%2Bxml"
            "&user-agent=LinphoneAndroid%%2F5.0%%20%%28belle-sip%%2F4.5%%29>"
            ';+sip.instance="<urn:uuid:0d2e6f3a-5b1c-4c8e-9f7a-1b2c3d4e5f60>"'
            ';+org.linphone.specs="conference/1.0,ephemeral,groupchat/1.1,lime"'
            % (user, UPDATED),
        )
        devices = yield self.make_registrar().list_devices(user, DOMAIN)
        self.assertEqual(
            devices,
            [
                Device(
                    uuid="urn:uuid:0d2e6f3a-5b1c-4c8e-9f7a-1b2c3d4e5f60",
                    user_agent="LinphoneAndroid/5.0 (belle-sip/4.5)",
                    expires_at="2100-01-01T00:00:00Z",
                    update_time="2099-12-31T23:00:00Z",
                )
            ],
        )

    @inlineCallbacks
    def test_expired_not_listed(self):
        """A binding whose expiry has passed is not listed but can be removed."""
        user = self.username()
        key = "fs:%s@%s" % (user, DOMAIN)
        yield self.hset(
            key,
            '"<urn:uuid:old>"',
            "<sip:%s@192.0.2.3;callid=x;expires=3600;cseq=1;updatedAt=1600000000"
            ';alias=no;usedAsRoute=no>;+sip.instance="<urn:uuid:old>"' % (user,),
        )
        registrar = self.make_registrar()
        self.assertEqual((yield registrar.list_devices(user, DOMAIN)), [])
        self.assertIs(
            (yield registrar.remove_device(user, DOMAIN, "urn:uuid:old")), True
        )

    @inlineCallbacks
    def test_publishes_after_delete(self):
        """Removing a device publishes an empty message on user@domain."""
        user = yield self._seeded_user()
        listener = yield self._client(_Listener)
        self.addCleanup(self._disconnect, listener)
        yield listener.subscribe("%s@%s" % (user, DOMAIN))
        yield self.make_registrar().remove_device(user, DOMAIN, "urn:uuid:aaaa-1111")
        channel, message = yield listener.message.addTimeout(5, reactor)
        self.assertEqual((channel, message), (("%s@%s" % (user, DOMAIN)).encode(), b""))

    @inlineCallbacks
    def _seeded_user(self):
        user = self.username()
        yield self.seed(user, DOMAIN, [registration("aaaa-1111")])
        return user

    @inlineCallbacks
    def test_database_selected(self):
        """The database number of the URL is the one read."""
        user = yield self._seeded_user()
        other = "redis://%s:%d/%d" % (
            self.target.host,
            self.target.port,
            (self.target.db + 1) % 16,
        )
        self.assertEqual(
            len((yield self.make_registrar().list_devices(user, DOMAIN))), 1
        )
        self.assertEqual(
            (yield self.make_registrar(url=other).list_devices(user, DOMAIN)), []
        )

    @inlineCallbacks
    def test_wrong_type(self):
        """A key that is not a HASH makes the registrar unavailable."""
        user = self.username()
        key = "fs:%s@%s" % (user, DOMAIN)
        self.keys.add(key)
        yield self.admin.set(key, "not a hash")
        yield self.assertFailure(
            self.make_registrar().list_devices(user, DOMAIN), RegistrarUnavailable
        )
        yield self.assertFailure(
            self.make_registrar().remove_device(user, DOMAIN, "urn:uuid:x"),
            RegistrarUnavailable,
        )

    @inlineCallbacks
    def test_redis_down(self):
        """Nothing listening at the URL makes the registrar unavailable."""
        registrar = self.make_registrar(url="redis://127.0.0.1:1/0")
        yield self.assertFailure(
            registrar.list_devices("alice", DOMAIN), RegistrarUnavailable
        )
        yield self.assertFailure(
            registrar.remove_device("alice", DOMAIN, "urn:uuid:x"), RegistrarUnavailable
        )

    @inlineCallbacks
    def test_silent_server_times_out(self):
        """A server that never answers fails after the timeout."""
        port = yield TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
            Factory.forProtocol(_Silent)
        )
        self.addCleanup(port.stopListening)
        registrar = self.make_registrar(
            url="redis://127.0.0.1:%d/0" % (port.getHost().port,), timeout=0.2
        )
        error = yield self.assertFailure(
            registrar.list_devices("alice", DOMAIN), RegistrarUnavailable
        )
        self.assertIn("did not answer within 0.2 s", str(error))

    @inlineCallbacks
    def test_password_never_shown(self):
        """A refused password fails without the password in the message."""
        if self.target.password is not None:
            raise SkipTest("the test Redis needs a password")
        url = "redis://:s3cret-Pa55@%s:%d/0" % (self.target.host, self.target.port)
        error = yield self.assertFailure(
            self.make_registrar(url=url).list_devices("alice", DOMAIN),
            RegistrarUnavailable,
        )
        self.assertNotIn("s3cret-Pa55", str(error))


class PluginTests(TestCase):
    """The redis backend as a declared plugin."""

    def test_options(self):
        """redis declares url and timeout with their defaults."""
        backend = backends.find("registrar", "redis")
        defaults = {option.key: option.default for option in backend.options}
        self.assertEqual(defaults, {"url": "redis://127.0.0.1:6379/0", "timeout": 5.0})

    def test_url_checked(self):
        """A URL the backend cannot use is refused when the config is read."""
        backend = backends.find("registrar", "redis")
        (url,) = [option for option in backend.options if option.key == "url"]
        self.assertIsNone(url.check("redis://localhost:6380/2"))
        self.assertEqual(
            url.check("http://localhost"), "must start with redis:// or unix://"
        )

    def test_build(self):
        """The redis backend builds an IRegistrar provider without connecting."""
        provider = backends.find("registrar", "redis").build(
            {"url": "redis://127.0.0.1:6379/0", "timeout": 5.0},
            BackendContext(reactor=reactor, config=None),
        )
        self.assertTrue(verifyObject(IRegistrar, provider))
