"""
The HTTP listener of a famd process, and the order in which famd stops.

L{Listener} listens (on an endpoint, or on a socket a worker process
inherited from its parent), says when it listens, and on stop closes its
port, then waits at most L{DRAIN_SECONDS} for the requests it is answering
to finish.  L{StopFirst} is famd's top service: when it stops, its C{first}
services (the listener, the workers, the systemd notifier) stop together
and are waited for before everything else stops (the storage closes only
once the requests in flight are answered).  When several processes share
the listening socket, each accepts one connection at a time
(L{accept_in_turns}), so that a burst of connections is spread over them.
"""

from twisted.application.service import MultiService, Service
from twisted.internet import defer, task
from twisted.logger import Logger

log = Logger(namespace="famd.listener")

DRAIN_SECONDS = 5.0
"""Seconds a stopping famd process waits for the requests it is answering."""
DRAIN_POLL = 0.05


class Listener(Service):
    """
    Serves C{factory} (the site) on the port C{listen(factory)} opens (a
    Deferred port, as an endpoint's C{listen} returns).  When C{shared},
    other processes accept from the same socket (famd's workers), and the
    port accepts in turns (L{accept_in_turns}).

    @ivar in_flight: requests begun (their request line received) and not
        answered yet.
    @ivar shared: whether the port accepts in turns.
    """

    name = "http"

    def __init__(self, listen, factory, clock, grace=DRAIN_SECONDS, shared=False):
        self.shared = shared
        self._listen = _in_turns(listen) if shared else listen
        self.factory = factory
        self.clock = clock
        self.grace = grace
        self.in_flight = 0
        self._listening = None
        self._stopped = False
        _count_requests(factory, self)

    def privilegedStartService(self):
        # Bind here, before twistd drops privileges; a failure (the port is
        # taken) is raised to twistd, which then exits 1 (as strports.service does).
        super().privilegedStartService()
        self._listening = self._listen(self.factory)
        raised = []
        self._listening.addErrback(lambda failure: raised.append(failure) or failure)
        if raised:
            raised[0].raiseException()

    def startService(self):
        if self._listening is None:
            self.privilegedStartService()
        super().startService()

    def when_listening(self):
        """A Deferred firing with the listening port."""
        d = defer.Deferred()

        def forward(port):
            d.callback(port)
            return port

        self._listening.addCallback(forward)
        return d

    def stopService(self):
        """Stop accepting, then wait (at most C{grace} seconds) for the requests in flight."""
        if self._stopped or self._listening is None:
            return defer.succeed(None)
        self._stopped = True
        super().stopService()
        d = self._listening.addCallback(lambda port: port.stopListening() if port is not None else None)
        d.addErrback(lambda failure: log.failure("closing the listening port failed", failure))
        d.addCallback(lambda _: self.drained())
        return d

    @defer.inlineCallbacks
    def drained(self):
        """
        Fire once no request is in flight, or C{grace} seconds from now.
        It always waits one short turn first, so that requests already
        received on open connections, but not read yet, are read and counted.
        """
        deadline = self.clock.seconds() + self.grace
        yield task.deferLater(self.clock, DRAIN_POLL, lambda: None)
        if self.in_flight:
            log.info("stopping: waiting for {count} requests in flight", count=self.in_flight)
        while self.in_flight and self.clock.seconds() < deadline:
            yield task.deferLater(self.clock, DRAIN_POLL, lambda: None)
        if self.in_flight:
            log.warn("stopping: {count} requests still in flight after {grace} s",
                     count=self.in_flight, grace=self.grace)

    def _finished(self, result):
        self.in_flight -= 1


def _count_requests(site, listener):
    """Make C{site}'s requests count themselves in C{listener.in_flight} until answered."""
    base = site.requestFactory

    class Counted(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            listener.in_flight += 1
            self.notifyFinish().addBoth(listener._finished)

    Counted.__name__ = base.__name__
    site.requestFactory = Counted


class StopFirst(MultiService):
    """
    A MultiService that, when stopped, stops its C{first} services together
    and waits for them, then stops all its services (the first ones are
    told again, which they ignore).
    """

    def __init__(self):
        super().__init__()
        self.first = []

    def stopService(self):
        first = [defer.maybeDeferred(service.stopService) for service in self.first]
        d = defer.DeferredList(first, consumeErrors=True)
        d.addCallback(lambda _: MultiService.stopService(self))
        return d


def accept_in_turns(port):
    """
    Make C{port} (a TCP port) accept one connection each time the reactor
    finds its socket readable, instead of all that wait (Twisted accepts up
    to 100 at once, and more under load).  Every process listening on a
    shared socket is woken when connections arrive: the first one awake
    would take a whole burst (a client or a proxy opening its keep-alive
    connections at once: 64 connections were seen split 64/0 and 57/7
    between two processes), and the other process would idle while the
    first one queues.  Taking one at a time, the processes take turns, and
    a busy one, back in its loop later, takes fewer.
    """
    read = port.doRead

    def read_one():
        port.numberAccepts = 1
        return read()

    port.doRead = read_one
    return port


def _in_turns(listen):
    """C{listen}, whose port accepts in turns (L{accept_in_turns})."""
    return lambda factory: listen(factory).addCallback(accept_in_turns)
