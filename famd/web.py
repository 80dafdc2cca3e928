"""
The HTTP front: the root resource and the site that serves it.

``/api`` is the L{famd.api.Api} Klein application, ``/provisioning`` the
provisioning one; any other path gets a JSON 404.  L{FamdRequest} stops
buffering a request body past the configured size, so a huge body costs
nothing and gets a 413.
"""

from urllib.parse import unquote_to_bytes

from twisted.web import http, resource, server

from famd.accesslog import LogAccess
from famd.api.http import encode
from famd.logsafe import redact


class JSONNotFound(resource.Resource):
    """A JSON 404 for every path outside the applications."""

    isLeaf = True

    def render(self, request):
        request.setResponseCode(404)
        request.setHeader(b"Content-Type", b"application/json")
        return encode({"message": "No such endpoint."})


class Root(resource.Resource):
    """Dispatch the first path segment to its application."""

    def __init__(self, children):
        super().__init__()
        self._applications = dict(children)

    def getChild(self, path, request):
        child = self._applications.get(path)
        if child is None:
            return JSONNotFound()
        return child

    def render(self, request):
        return JSONNotFound().render(request)


def _utf8_path(path):
    """Whether the %-decoded path is UTF-8 (routes decode it as such)."""
    if b"%" not in path:
        return True
    try:
        unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class FamdRequest(server.Request):
    """
    A request that keeps at most C{max_body_size} bytes of its body; a
    larger one is answered 413, and a path that is not UTF-8 once
    %-decoded 400, without reaching any resource.
    """

    max_body_size = 65536

    def __init__(self, channel, *args, **kwargs):
        # Twisted asks the channel for its local address on every request,
        # one getsockname() system call each; a connection's local address
        # never changes, so a keep-alive connection asks once.
        if "getHost" not in vars(channel):
            host = channel.getHost()
            channel.getHost = lambda: host
        super().__init__(channel, *args, **kwargs)

    def gotLength(self, length):
        self.body_too_large = False
        self._body_seen = 0
        super().gotLength(length)
        if length is not None and length > self.max_body_size:
            self.body_too_large = True

    def process(self):
        if self.body_too_large:
            self._refuse(413, "The request body is too large (at most %d bytes)." % (self.max_body_size,))
        elif not _utf8_path(self.path):
            self._refuse(400, "The request path is not valid UTF-8.")
        else:
            super().process()

    def _refuse(self, code, message):
        self.setResponseCode(code)
        self.setHeader(b"Content-Type", b"application/json")
        self.write(encode({"message": message}))
        self.finish()

    def handleContentChunk(self, data):
        self._body_seen += len(data)
        if self._body_seen > self.max_body_size:
            self.body_too_large = True
        if not self.body_too_large:
            super().handleContentChunk(data)


def access_log_line(timestamp, request):
    """The access log line of a request, without secrets (for L{server.Site})."""
    address = request.getClientAddress()
    user_agent = request.requestHeaders.getRawHeaders(b"user-agent")
    return '%s "%s %s" %d %s "%s"' % (
        _escape(getattr(address, "host", "-")),
        _escape(request.method),
        _escape(redact(request.path)),
        request.code,
        request.sentLength or "-",
        _escape(user_agent[-1]) if user_agent else "-",
    )


_escape = http._escape
LOG_ACCESS = LogAccess()


class FamdSite(server.Site):
    """
    A site whose access log lines go to C{access} (a callable taking the
    line, see L{famd.accesslog}), or nowhere when it is None.
    """

    access = None

    def log(self, request):
        if self.access is not None:
            self.access(self._logFormatter(self._logDateTime, request))


def make_site(children, max_body_size, reactor=None, access=LOG_ACCESS):
    """
    A L{server.Site} serving C{children} ({b'api': resource, ...}); its
    access log lines go to C{access} (famd's log unless told otherwise; None
    for no access log).
    """

    class Request(FamdRequest):
        pass

    Request.max_body_size = max_body_size
    kwargs = {"logFormatter": access_log_line}
    if reactor is not None:
        kwargs["reactor"] = reactor
    site = FamdSite(Root(children), **kwargs)
    site.access = access
    site.requestFactory = Request
    site.displayTracebacks = False
    site.noisy = False
    return site
