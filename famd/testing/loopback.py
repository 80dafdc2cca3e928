"""
Listening on loopback for the length of one test: L{listen} serves a factory
on a free port and, at cleanup, stops listening and closes every connection
it accepted, so the reactor is left clean; L{unused_port} names a port where
nothing listens.  Both use the global reactor, imported when called.
"""

from twisted.internet import defer, protocol
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory


class _TrackedProtocol(ProtocolWrapper):
    """A connection whose C{closed} Deferred fires once it is lost."""

    def __init__(self, factory, wrapped):
        super().__init__(factory, wrapped)
        self.closed = defer.Deferred()

    def connectionLost(self, reason):
        super().connectionLost(reason)
        self.closed.callback(None)


class _TrackingFactory(WrappingFactory):
    """Wraps a factory and keeps every connection it built in C{all}."""

    protocol = _TrackedProtocol

    def __init__(self, wrapped):
        super().__init__(wrapped)
        self.all = []

    def buildProtocol(self, addr):
        p = super().buildProtocol(addr)
        if p is not None:
            self.all.append(p)
        return p


def listen(test, factory, tls=None):
    """
    Listen on a free loopback port until the end of C{test}.

    The cleanup stops listening, aborts the connections still open and waits
    until they are closed, so that the reactor is left clean.

    @param tls: server TLS options for a TLS-only listener, or None.
    @return: the port number.
    """
    from twisted.internet import reactor

    tracking = _TrackingFactory(factory)
    if tls is None:
        port = reactor.listenTCP(0, tracking, interface="127.0.0.1")
    else:
        port = reactor.listenSSL(0, tracking, tls, interface="127.0.0.1")

    @defer.inlineCallbacks
    def stop():
        yield port.stopListening()
        for p in tracking.all:
            if not p.closed.called:
                p.transport.abortConnection()
        yield defer.gatherResults([p.closed for p in tracking.all])

    test.addCleanup(stop)
    return port.getHost().port


def unused_port():
    """A loopback port on which nothing listens (it was free a moment ago)."""
    from twisted.internet import reactor

    port = reactor.listenTCP(0, protocol.ServerFactory(), interface="127.0.0.1")
    number = port.getHost().port
    port.stopListening()
    return number
