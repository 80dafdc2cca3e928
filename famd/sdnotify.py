"""
systemd's readiness protocol (``Type=notify``), spoken by famd itself.

When systemd starts famd with ``Type=notify`` it sets ``$NOTIFY_SOCKET``:
a datagram socket (AF_UNIX, a path or an abstract ``@name``) to which famd
sends ``READY=1`` once it serves (its port open and every worker serving
it), and ``STOPPING=1`` when it starts to stop.  Each message is one
datagram sent without blocking: a full or missing socket costs a warning,
never a wait.  Without ``$NOTIFY_SOCKET`` (famd run by hand) nothing is sent.
"""

import os
import socket

from twisted.application.service import Service
from twisted.internet import defer
from twisted.logger import Logger

log = Logger(namespace="famd.sdnotify")


def notify(message, environ=os.environ):
    """
    Send C{message} (``KEY=VALUE`` lines) to systemd's notification socket.

    @return: True if it was sent, False if there is no socket to send to
        or it could not be sent at once (logged).
    """
    address = environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket name
    elif not address.startswith("/"):
        return False  # unset, or a kind famd does not speak (vsock:)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sender:
            sender.setblocking(False)
            sender.sendto(message.encode("utf-8"), address)
    except OSError as error:
        log.warn("cannot notify systemd ({socket}): {error}", socket=environ.get("NOTIFY_SOCKET"),
                 error=error.strerror or str(error))
        return False
    return True


class NotifyService(Service):
    """
    Tells systemd READY=1 once C{ready()} (a Deferred) fires, after the
    reactor runs, and STOPPING=1 when famd stops.
    """

    name = "systemd-notify"

    def __init__(self, reactor, ready, status, environ=os.environ):
        self.reactor = reactor
        self._ready = ready
        self.status = status
        self.environ = environ
        self.sent = []

    def startService(self):
        super().startService()
        self.reactor.callWhenRunning(self._when_ready)

    def _when_ready(self):
        d = defer.maybeDeferred(self._ready)
        d.addCallback(lambda _: self._send("READY=1\nSTATUS=%s\nMAINPID=%d" % (self.status, os.getpid())))
        d.addErrback(lambda failure: log.failure("famd did not become ready", failure))

    def stopService(self):
        if self.running:
            self._send("STOPPING=1\nSTATUS=stopping: answering the requests in flight")
        return super().stopService()

    def _send(self, message):
        if notify(message, self.environ):
            self.sent.append(message)
