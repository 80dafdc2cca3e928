"""
Slow and big clients on a real loopback port (issue 13, point 6): a
deadline for each request head, keep-alive included, and for each body; a cap on open
connections fitted to the open-file limit; a ``Content-Length`` over the
limit answered 413 at once; a chunked body cut off at the limit.
"""

import resource
import socket

from twisted.internet import defer, protocol, reactor, task, threads
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.trial import unittest

from famd.config import ConfigError, from_mapping
from famd.connections import RESERVED_DESCRIPTORS, descriptor_budget, fit_descriptors
from famd.service import build_resources, build_service
from famd.testing.storage import open_sqlite
from famd.web import make_site
from tests.serving import clock_at, components

PING = b"GET /api/ping HTTP/1.1\r\nHost: famd.test\r\n\r\n"
PING_AND_CLOSE = b"GET /api/ping HTTP/1.1\r\nHost: famd.test\r\nConnection: close\r\n\r\n"
SLOW_START = b"GET /api/ping HTTP/1.1\r\nHost: famd.test\r\nX-Slow: "
LIMIT = 65536
MiB = 1024 * 1024
PONG = b"\r\n4\r\npong\r\n0\r\n\r\n"
"""The end of ping's (chunked) answer."""


class Peer(protocol.Protocol):
    """A client connection that keeps what it receives; C{lost} fires with it when the connection ends."""

    def __init__(self):
        self.received = []
        self.lost = defer.Deferred()

    def dataReceived(self, data):
        self.received.append(data)

    def connectionLost(self, reason):
        self.lost.callback(b"".join(self.received))

    def answer(self):
        return b"".join(self.received)


def pause(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@defer.inlineCallbacks
def eventually(condition, seconds=5.0):
    """Wait until C{condition()} is true (fail after C{seconds})."""
    waited = 0.0
    while not condition():
        if waited > seconds:
            raise AssertionError("still false after %s s" % (seconds,))
        yield pause(0.01)
        waited += 0.01


def config(**settings):
    return from_mapping(dict({"sip_domain": "sip.example.org"}, **settings), "/etc/famd")


class ListenerTests(unittest.TestCase):
    """famd's own site on 127.0.0.1, with clients in the same reactor."""

    @defer.inlineCallbacks
    def listen(self, **options):
        """Serve famd on a free port with the site options given; return the site."""
        storage = yield open_sqlite(self)
        children = build_resources(config(), components(storage, clock_at()))
        self.site = make_site(children, LIMIT, reactor, access=None, **options)
        self.peers = []
        self.received = []
        self.site.protocol = self.counting(self.site.protocol)
        self.port = reactor.listenTCP(0, self.site, interface="127.0.0.1", backlog=128)
        self.addCleanup(self.close_all)
        return self.site

    def counting(self, channel):
        """A subclass of C{channel} counting the bytes the server reads."""
        received = self.received

        class Counting(channel):
            def dataReceived(self, data):
                received.append(len(data))
                super().dataReceived(data)

        return Counting

    @defer.inlineCallbacks
    def connect(self, data=b""):
        """A connected L{Peer} that has sent C{data}."""
        peer = Peer()
        self.peers.append(peer)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.port.getHost().port)
        yield connectProtocol(endpoint, peer)
        if data:
            peer.transport.write(data)
        return peer

    @defer.inlineCallbacks
    def close_all(self):
        for peer in self.peers:
            if not peer.lost.called:
                peer.transport.abortConnection()
        yield defer.DeferredList([peer.lost for peer in self.peers])
        yield eventually(lambda: self.site.open_connections == 0)
        yield self.port.stopListening()

    @defer.inlineCallbacks
    def ping(self):
        """Fire with (seconds taken, answer) of one ordinary request."""
        start = reactor.seconds()
        peer = yield self.connect(PING_AND_CLOSE)
        answer = yield peer.lost.addTimeout(5, reactor)
        return reactor.seconds() - start, answer

    @defer.inlineCallbacks
    def test_500_slow_connections_then_an_answer_within_a_second(self):
        """With 500 connections each holding half a request head, an ordinary request is answered within 1 s."""
        yield self.listen()
        for _ in range(10):
            yield defer.gatherResults([self.connect(SLOW_START) for _ in range(50)])
        yield eventually(lambda: self.site.open_connections == 500)
        took, answer = yield self.ping()
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK"), answer)
        self.assertTrue(answer.endswith(PONG), answer)
        self.assertLess(took, 1.0)
        self.assertEqual(self.site.open_connections, 500)

    @defer.inlineCallbacks
    def trickle_until_closed(self, peer):
        """Send C{peer}'s server one byte every 0.1 s until it closes; fire with what it answered."""
        trickle = task.LoopingCall(lambda: peer.transport.write(b"a"))
        trickle.start(0.1)
        self.addCleanup(lambda: trickle.running and trickle.stop())
        answer = yield peer.lost.addTimeout(5, reactor)
        trickle.stop()
        return answer

    @defer.inlineCallbacks
    def test_a_trickling_head_is_cut_at_the_deadline(self):
        """A client sending one header byte every 0.1 s is closed once header_timeout has passed."""
        yield self.listen(header_timeout=0.5)
        start = reactor.seconds()
        peer = yield self.connect(SLOW_START)
        answer = yield self.trickle_until_closed(peer)
        self.assertEqual(answer, b"")
        self.assertGreaterEqual(reactor.seconds() - start, 0.45)
        self.assertLess(reactor.seconds() - start, 2.0)

    @defer.inlineCallbacks
    def test_a_trickling_body_is_cut_at_its_deadline(self):
        """A whole head then one body byte every 0.1 s: closed once body_timeout has passed since the head."""
        yield self.listen(header_timeout=0.3, body_timeout=0.8)
        peer = yield self.connect(b"PUT /api/ping HTTP/1.1\r\nHost: famd.test\r\nContent-Length: 1000\r\n\r\n")
        start = reactor.seconds()
        answer = yield self.trickle_until_closed(peer)
        self.assertEqual(answer, b"")
        self.assertGreaterEqual(reactor.seconds() - start, 0.7)
        self.assertLess(reactor.seconds() - start, 2.5)

    @defer.inlineCallbacks
    def test_a_body_in_time_is_answered(self):
        """A body sent in parts within body_timeout (even past header_timeout) reaches the route."""
        yield self.listen(header_timeout=0.3, body_timeout=2)
        peer = yield self.connect(b"PUT /api/ping HTTP/1.1\r\nHost: famd.test\r\nContent-Length: 10\r\n\r\n")
        for _ in range(5):
            yield pause(0.1)
            peer.transport.write(b"ab")
        yield eventually(lambda: b"405 Method Not Allowed" in peer.answer())

    @defer.inlineCallbacks
    def test_keep_alive_connections_get_the_deadline_again(self):
        """Each answer on a keep-alive connection starts a new deadline: prompt requests go on, silence is closed."""
        yield self.listen(header_timeout=0.5)
        peer = yield self.connect(PING)
        yield eventually(lambda: peer.answer().endswith(PONG))
        yield pause(0.3)
        peer.transport.write(PING)
        yield eventually(lambda: peer.answer().count(PONG) == 2)
        yield pause(0.3)
        peer.transport.write(PING)
        yield eventually(lambda: peer.answer().count(PONG) == 3)
        answered = reactor.seconds()
        answer = yield peer.lost.addTimeout(5, reactor)
        self.assertEqual(answer.count(b"HTTP/1.1 200 OK"), 3)
        self.assertGreaterEqual(reactor.seconds() - answered, 0.4)
        self.assertLess(reactor.seconds() - answered, 2.0)

    @defer.inlineCallbacks
    def test_connections_beyond_the_cap_are_closed_at_once(self):
        """With max_connections open, one more is closed unanswered at once; a slot freed serves again."""
        yield self.listen(max_connections=20)
        slow = yield defer.gatherResults([self.connect(SLOW_START) for _ in range(20)])
        yield eventually(lambda: self.site.open_connections == 20)
        took, answer = yield self.ping()
        self.assertEqual(answer, b"")
        self.assertLess(took, 1.0)
        slow[0].transport.loseConnection()
        yield eventually(lambda: self.site.open_connections == 19)
        took, answer = yield self.ping()
        self.assertTrue(answer.endswith(PONG), answer)
        self.flushLoggedErrors()

    @defer.inlineCallbacks
    def test_huge_content_length_is_413_at_once(self):
        """Content-Length: 10**12 is answered 413 as soon as the head is read, without 100 Continue, then closed."""
        yield self.listen()
        for expect in (b"", b"Expect: 100-continue\r\n"):
            start = reactor.seconds()
            peer = yield self.connect(
                b"POST /api/accounts HTTP/1.1\r\nHost: famd.test\r\nContent-Type: application/json\r\n"
                + expect + b"Content-Length: 1000000000000\r\n\r\n")
            answer = yield peer.lost.addTimeout(5, reactor)
            self.assertLess(reactor.seconds() - start, 1.0)
            self.assertTrue(answer.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n"), answer)
            self.assertNotIn(b"100 Continue", answer)
            self.assertIn(b'{"message":"The request body is too large (at most 65536 bytes)."}', answer)

    @defer.inlineCallbacks
    def test_a_chunked_body_is_cut_at_the_limit(self):
        """A 64 MiB chunked body is answered 413 once past the limit; the server reads little more than the limit."""
        yield self.listen()
        port = self.port.getHost().port
        start = reactor.seconds()
        sent, answer = yield threads.deferToThread(send_chunked, port, 64 * MiB)
        self.assertLess(reactor.seconds() - start, 5.0)
        self.assertLess(sum(self.received), LIMIT + 2 * MiB)
        self.assertLess(sent, 32 * MiB)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer[:200])

    @defer.inlineCallbacks
    def test_a_chunked_body_within_the_limit_reaches_the_route(self):
        """A chunked body under the limit is read whole and handed to the route."""
        yield self.listen()
        chunk = b"x" * 1000
        peer = yield self.connect(
            b"PUT /api/ping HTTP/1.1\r\nHost: famd.test\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 3 + b"0\r\n\r\n")
        answer = yield peer.lost.addTimeout(5, reactor)
        self.assertTrue(answer.startswith(b"HTTP/1.1 405 "), answer)


def send_chunked(port, total):
    """Send a chunked POST of C{total} bytes (blocking, in a thread); return (bytes sent, the answer)."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    chunk = b"%x\r\n%s\r\n" % (LIMIT, b"x" * LIMIT)
    sent = 0
    try:
        connection.sendall(b"POST /api/accounts HTTP/1.1\r\nHost: famd.test\r\n"
                           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        while sent < total:
            connection.sendall(chunk)
            sent += LIMIT
        connection.sendall(b"0\r\n\r\n")
    except OSError:
        pass
    answer = b""
    try:
        while True:
            data = connection.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    connection.close()
    return sent, answer


class SettingTests(unittest.TestCase):
    """The header_timeout and max_connections keys."""

    def test_defaults(self):
        """10 seconds for a request head, 1000 connections."""
        self.assertEqual((config().header_timeout, config().body_timeout, config().max_connections),
                         (10, 30, 1000))
        self.assertEqual(config(header_timeout=2.5, max_connections=5).header_timeout, 2.5)

    def test_wrong_values(self):
        """Zero, negative or mistyped values are errors naming the key."""
        for key, value in (("header_timeout", 0), ("header_timeout", -1), ("header_timeout", "10"),
                           ("body_timeout", 0), ("body_timeout", None),
                           ("max_connections", 0), ("max_connections", 1.5), ("max_connections", True)):
            error = self.assertRaises(ConfigError, config, **{key: value})
            self.assertTrue(error.errors[0].startswith(key + ": "), error.errors)


class DescriptorTests(unittest.TestCase):
    """max_connections fitted to the process's limit of open files."""

    def test_fit(self):
        """The soft limit is raised toward the cap plus the reserve as the hard limit allows, never lowered."""
        infinity = resource.RLIM_INFINITY
        self.assertEqual(RESERVED_DESCRIPTORS, 64)
        self.assertEqual(fit_descriptors(1000, 1024, 4096), (1064, 1000))
        self.assertEqual(fit_descriptors(1000, 1024, infinity), (1064, 1000))
        self.assertEqual(fit_descriptors(1000, 1024, 1024), (1024, 960))
        self.assertEqual(fit_descriptors(1000, 20000, 20000), (20000, 1000))
        self.assertEqual(fit_descriptors(1000, infinity, infinity), (infinity, 1000))
        self.assertEqual(fit_descriptors(1000, 50, 50), (50, 1))

    def test_budget_raises_the_soft_limit(self):
        """descriptor_budget raises this process's soft limit so the configured cap fits."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        if hard != resource.RLIM_INFINITY and hard < 600:
            raise unittest.SkipTest("hard limit of open files below 600")
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        self.assertEqual(descriptor_budget(500), 500)
        self.assertEqual(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 564)

    def test_the_listener_gets_the_cap(self):
        """The daemon's listener serves its site with the configured deadlines and max_connections."""
        tree = list(build_service(config(listen="tcp:0", max_connections=321, header_timeout=2.5,
                                         body_timeout=7), task.Clock()))
        sites = [service.factory for service in tree if hasattr(service, "factory")]
        self.assertEqual([(site.max_connections, site.header_timeout, site.body_timeout) for site in sites],
                         [(321, 2.5, 7)])
