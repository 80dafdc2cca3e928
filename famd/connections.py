"""
HTTP connections as famd holds them: deadlines for each request head and
body, a body cut off at its limit, and a number of open connections that
fits the process's open-file limit.

L{Channel} is the site's protocol, Twisted's L{http.HTTPChannel} with two
rules added:

 - a connection must send a whole request head (request line and headers)
   within C{header_timeout} seconds of being opened, and again within
   C{header_timeout} seconds of each answer on a keep-alive connection,
   then its body (if any) within C{body_timeout} seconds of its head; a
   late one is closed.  Twisted's own idle timeout restarts with every byte
   received, so a client sending one byte now and then held a connection
   for ever.
 - a body too large for the request (its C{body_too_large}, see
   L{famd.web.FamdRequest}) is not read: a ``Content-Length`` above the
   limit is answered as soon as the head is read (no ``100 Continue``), a
   chunked body as soon as it passes the limit, and the connection is
   closed after that answer.

The site counts its channels and refuses (closes at once) any beyond its
cap; L{descriptor_budget} makes that cap fit under the process's limit of
open files, so that slow clients meet the cap before famd runs out of file
descriptors (and cannot open its database, log or pusher).
"""

import resource

from twisted.logger import Logger
from twisted.web import http

log = Logger(namespace="famd.connections")

RESERVED_DESCRIPTORS = 64
"""Open files kept for everything but HTTP connections: the database pool, logs, pushers."""


class Channel(http.HTTPChannel):
    """
    An HTTP/1.1 channel with a request-head deadline and bodies cut off at
    their limit.

    @ivar header_timeout: seconds a client has to send a whole request head
        (set by the site).
    @ivar body_timeout: seconds a client has to send a request's body once
        its head is in (set by the site).
    """

    header_timeout = 10.0
    body_timeout = 30.0
    _deadline = None
    _waiting = True
    """Whether a request head or body is due (by C{_deadline})."""
    _counted = False

    def connectionMade(self):
        super().connectionMade()
        opened = getattr(self.factory, "connection_opened", None)
        if opened is not None:
            opened()
            self._counted = True
        self._deadline = self.callLater(self.header_timeout, self._late)

    def _due_in(self, seconds):
        """Expect the next head or body within C{seconds}."""
        self._waiting = True
        deadline = self._deadline
        if deadline is not None and deadline.active():
            deadline.reset(seconds)
        else:
            self._deadline = self.callLater(seconds, self._late)

    def allHeadersReceived(self):
        self._waiting = False
        super().allHeadersReceived()
        if self.requests[-1].body_too_large:
            # Answered at once: the request goes on as if its body had
            # ended (HTTPChannel.lineReceived sees a length of 0), the
            # answer says 413, and the connection closes after it.
            self.persistent = False
            self.length = 0
        elif self.length != 0:  # a body follows: a length, or chunks (None)
            self._due_in(self.body_timeout)

    def allContentReceived(self):
        self._waiting = False
        super().allContentReceived()

    def _send100Continue(self):
        if not self.requests[-1].body_too_large:
            super()._send100Continue()

    def rawDataReceived(self, data):
        super().rawDataReceived(data)
        if (
            self._transferDecoder is not None
            and not self._handlingRequest
            and self.requests[-1].body_too_large
            and not self.transport.disconnecting
        ):
            # A chunked body past the limit: answer now, read no more.
            self.persistent = False
            self.allContentReceived()

    def requestDone(self, request):
        if self.persistent:
            # The next head is due within header_timeout of this answer.
            self._due_in(self.header_timeout)
        super().requestDone(request)

    def _late(self):
        self._deadline = None
        if self._waiting and not self.transport.disconnecting:
            self.timeoutConnection()

    def connectionLost(self, reason):
        deadline, self._deadline = self._deadline, None
        if deadline is not None and deadline.active():
            deadline.cancel()
        super().connectionLost(reason)
        if self._counted:
            self._counted = False
            self.factory.connection_closed()


def fit_descriptors(wanted, soft, hard, reserved=RESERVED_DESCRIPTORS):
    """
    The soft open-file limit to set and the connection cap that fits it.

    @param wanted: the configured cap (``max_connections``).
    @param soft: the current soft limit of open files.
    @param hard: the hard limit (C{resource.RLIM_INFINITY} for none).
    @return: (new soft limit, cap): the soft limit raised toward
        C{wanted + reserved} as far as C{hard} allows, never lowered, and
        C{wanted} or, when the limit is too low, what is left of it once
        C{reserved} descriptors are kept (at least 1).
    """
    needed = wanted + reserved
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft == resource.RLIM_INFINITY:
        return soft, wanted
    return soft, max(1, min(wanted, soft - reserved))


def descriptor_budget(wanted):
    """
    The connection cap this process can hold: raise the soft RLIMIT_NOFILE
    as L{fit_descriptors} says, warn when C{wanted} does not fit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new_soft, cap = fit_descriptors(wanted, soft, hard)
    if new_soft != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
    if cap < wanted:
        log.warn(
            "max_connections {wanted} does not fit the limit of {limit} open files:"
            " at most {cap} connections",
            wanted=wanted, limit=new_soft, cap=cap,
        )
    return cap
