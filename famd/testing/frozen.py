"""
A database server that freezes, for tests: L{relay} listens on loopback and
relays every connection to a real server, until the test sets C{frozen}.
From then on it answers nothing and passes nothing on, while its port still
accepts connections and every connection stays open: what famd sees of a
server stopped with SIGSTOP (or hung), without stopping the shared server
that other tests use.  The test's cleanup closes every connection, both
sides, and waits until they are closed, so the reactor is left clean.
"""

from twisted.internet import defer, protocol


class _Side(protocol.Protocol):
    """One side of a relayed connection; its C{closed} fires once it is lost."""

    def __init__(self, relay):
        self.relay = relay
        self.peer = None
        self.pending = []
        self.closed = defer.Deferred()

    def dataReceived(self, data):
        if self.relay.frozen:
            return  # a stopped process reads nothing and answers nothing
        if self.peer is None:
            self.pending.append(data)
        else:
            self.peer.transport.write(data)

    def connectionLost(self, reason):
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.loseConnection()
        self.closed.callback(None)


class _Accepted(_Side):
    """A client's connection: relayed once the connection to the server is made."""

    def connectionMade(self):
        self.relay.sides.append(self)
        factory = protocol.ClientFactory()
        factory.protocol = lambda: _Outgoing(self.relay, self)
        factory.clientConnectionFailed = lambda connector, reason: self.transport.loseConnection()
        self.relay.reactor.connectTCP(self.relay.host, self.relay.port, factory)


class _Outgoing(_Side):
    """The connection to the real server, for one accepted connection."""

    def __init__(self, relay, accepted):
        super().__init__(relay)
        self.peer = accepted

    def connectionMade(self):
        self.relay.sides.append(self)
        self.peer.peer = self
        for data in self.peer.pending:
            self.transport.write(data)
        self.peer.pending = []


class Relay(protocol.ServerFactory):
    """Relays connections to C{host}:C{port} while not C{frozen}."""

    noisy = False

    def __init__(self, reactor, host, port):
        self.reactor = reactor
        self.host = host
        self.port = port
        self.frozen = False
        self.sides = []

    def buildProtocol(self, addr):
        accepted = _Accepted(self)
        accepted.factory = self
        return accepted

    def drop(self):
        """Abort every connection (a thread blocked on one of them wakes up)."""
        for side in self.sides:
            if not side.closed.called:
                side.transport.abortConnection()


def relay(test_case, host, port, reactor=None):
    """
    A L{Relay} to C{host}:C{port} listening on a free loopback port until the
    end of C{test_case}; return (relay, its port number).
    """
    if reactor is None:
        from twisted.internet import reactor
    factory = Relay(reactor, host, port)
    listening = reactor.listenTCP(0, factory, interface="127.0.0.1")

    @defer.inlineCallbacks
    def stop():
        yield listening.stopListening()
        factory.drop()
        yield defer.gatherResults([side.closed for side in factory.sides])

    test_case.addCleanup(stop)
    return factory, listening.getHost().port
