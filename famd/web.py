"""
The HTTP front: the root resource, the request class, the site, and the one
table that turns every refusal into an answer.

The root dispatches the first path segment (``api``, ``provisioning``,
``creation_token``) to the application mounted there; any other path goes
to the account panel (L{famd.panel}, HTML) or, with the panel off, is a
refusal like the others.
An application is the routes of small Klein classes put side by side on
one router by L{mount}.  L{FamdRequest} refuses a body past the configured
size and a path with an empty segment or an escaped slash (one spelling per
route: ``/provisioning//KEY`` is 404, never ``/provisioning/KEY``), and names
no software version.  L{FamdSite} serves at most C{max_connections}
connections at once over L{famd.connections.Channel} (deadlines for each
request head and body).  L{answer_refusal} is the table: what L{famd.errors} raises
below the web layer, the storage or registrar being unreachable, an unknown
route or method, a routing redirect, and anything unexpected, each become
FAM's status, headers and JSON body here and nowhere else.
"""

from time import perf_counter
from urllib.parse import unquote_to_bytes

from klein import Klein
from twisted.logger import Logger
from twisted.web import resource, server
from werkzeug import exceptions as routing
from werkzeug.routing import RequestRedirect

from famd import errors
from famd.accesslog import LogAccess
from famd.api.http import json_response
from famd.connections import Channel
from famd.interfaces import RegistrarUnavailable, StorageUnavailable
from famd.logsafe import printable, redact

log = Logger(namespace="famd.web")

NO_ROUTE = "No such endpoint."
STORAGE_DOWN = "The account database is unavailable, try again later."
REGISTRAR_DOWN = "The SIP registrar is unavailable, try again later."
INTERNAL = "Internal error."
SERVER = b"famd"
"""The ``Server`` header: the software, not its version."""

_STATUSES = (
    (errors.BadRequest, 400),
    (errors.Unauthorized, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.NotAllowed, 405),
    (errors.Gone, 410),
    (errors.TooLarge, 413),
    (errors.UnsupportedMedia, 415),
    (errors.Invalid, 422),
    (errors.Conflict, 422),
    (errors.TooMany, 429),
    (errors.Unavailable, 503),
)
"""Every refusal's status; the first class that matches wins."""


def refusal_of(error, request):
    """
    The L{errors.Refusal} standing for C{error} (any exception failing a
    request), or None for an unexpected one (the API answers it with JSON
    here, the account panel with a page).
    """
    if isinstance(error, errors.Refusal):
        return error
    if isinstance(error, StorageUnavailable):
        log.warn("storage unavailable: {reason}", reason=str(error))
        return errors.Unavailable(STORAGE_DOWN)
    if isinstance(error, RegistrarUnavailable):
        log.warn("registrar unavailable: {reason}", reason=str(error))
        return errors.Unavailable(REGISTRAR_DOWN)
    if isinstance(error, routing.MethodNotAllowed):
        allowed = sorted(error.valid_methods or ())
        return errors.NotAllowed(
            "The %s method is not supported for this route. Supported methods: %s."
            % (request.method.decode("ascii", "replace"), ", ".join(allowed)),
            allowed,
        )
    if isinstance(error, (routing.NotFound, RequestRedirect)):
        # famd serves one spelling of each route and redirects to none.
        return errors.NotFound(NO_ROUTE)
    return None


def _body_and_headers(refusal):
    """The JSON body and extra headers of a refusal's answer."""
    if isinstance(refusal, errors.Invalid):
        if not refusal.laravel:
            return {"errors": refusal.errors}, ()
        return {"message": refusal.message, "errors": refusal.errors}, ()
    if isinstance(refusal, errors.Conflict):
        return {"message": errors.VALIDATION_MESSAGE, "errors": {refusal.field: [refusal.message]}}, ()
    body = {"message": refusal.message}
    if isinstance(refusal, errors.Unauthorized):
        return body, [(b"WWW-Authenticate", c.encode("utf-8")) for c in refusal.challenges]
    if isinstance(refusal, errors.TooMany):
        return body, [(b"Retry-After", str(refusal.retry_after).encode("ascii"))]
    if isinstance(refusal, errors.NotAllowed):
        return body, [(b"Allow", ", ".join(refusal.allowed).encode("ascii"))]
    return body, ()


def status_of(refusal):
    """The HTTP status of a refusal."""
    return next(code for kind, code in _STATUSES if isinstance(refusal, kind))


def answer_refusal(request, refusal):
    """Answer C{request} with C{refusal}: set status and headers, return the JSON body."""
    status = status_of(refusal)
    body, headers = _body_and_headers(refusal)
    return json_response(request, body, status, headers)


def answer_failure(request, failure):
    """
    Answer C{request} for a L{Failure} (as a Klein error handler receives
    it).  A failure that stands for no refusal is logged with its traceback
    (secrets masked from the path) and answered 500.
    """
    refusal = refusal_of(failure.value, request)
    if refusal is None:
        log.failure("unexpected error answering {method} {path}", failure,
                    method=printable(request.method), path=printable(redact(request.path)))
        return json_response(request, {"message": INTERNAL}, 500)
    return answer_refusal(request, refusal)


def _naming_route(rule, executor, routes):
    """C{executor} of C{routes} that first sets C{request.route} to C{rule} (a template, not the path)."""

    def execute(request, *args, **kwargs):
        request.route = rule
        return executor(routes, request, *args, **kwargs)

    execute.__wrapped__ = executor  # what the route declares (famd.api.declare) is found through it
    return execute


def mount(*route_objects, on_failure=None):
    """
    One Klein router serving the routes of every object of
    C{route_objects} (instances of classes whose routes are on their
    class's C{app}), its failures answered by C{on_failure(request,
    failure)}: L{famd.web.answer_failure} (JSON) unless told otherwise.
    """
    router = Klein()
    for routes in route_objects:
        app = routes.app
        family = type(routes).__name__
        for rule in app.url_map.iter_rules():
            # Klein's own executor of the route, bound to its object, naming
            # its rule on the request (the route label of L{famd.metrics}).
            execute = _naming_route(rule.rule, app.endpoints[rule.endpoint], routes)
            execute.__name__ = rule.endpoint
            router.route(
                rule.rule,
                methods=sorted(rule.methods) if rule.methods else None,
                strict_slashes=rule.strict_slashes,
                endpoint="%s.%s" % (family, rule.endpoint),
            )(execute)
    router.handle_errors(Exception)(on_failure or answer_failure)
    return router


class RefusalResource(resource.Resource):
    """Answers every request with one refusal (an unknown path outside the applications)."""

    isLeaf = True

    def __init__(self, refusal):
        super().__init__()
        self._refusal = refusal

    def render(self, request):
        return answer_refusal(request, self._refusal)


class Root(resource.Resource):
    """
    Dispatch the first path segment to its application; any other path
    goes, whole, to the C{fallback} resource (the account panel) or, with
    none, is a JSON 404.
    """

    def __init__(self, children, fallback=None):
        super().__init__()
        self._applications = dict(children)
        self._no_route = RefusalResource(errors.NotFound(NO_ROUTE))
        self._fallback = fallback

    def getChild(self, path, request):
        application = self._applications.get(path)
        if application is not None:
            return application
        if self._fallback is None:
            return self._no_route
        # The fallback routes the whole path: give the segment back.
        request.postpath.insert(0, request.prepath.pop())
        return self._fallback

    def render(self, request):
        if self._fallback is not None:
            return self._fallback.render(request)
        return self._no_route.render(request)


NOT_UTF8 = "The request path is not valid UTF-8."


def path_refusal(path):
    """
    The refusal of a request path no route may see, or None.

    A path with an empty segment (``//``) or an escaped slash (``%2F``)
    is 404: the routes would read it as another path (werkzeug merges
    slashes, Twisted splits segments before decoding them), so one route
    would have several spellings for proxies, limits and logs to tell
    apart.  A path that is not UTF-8 once %-decoded is 400, and so is one
    holding a NUL (C{%00}), which no database stores (L{errors.ODD_TEXT}).
    """
    if b"//" in path:
        return errors.NotFound(NO_ROUTE)
    if b"%" not in path:
        return errors.BadRequest(errors.ODD_TEXT) if b"\x00" in path else None
    if b"%2f" in path.lower():
        return errors.NotFound(NO_ROUTE)
    decoded = unquote_to_bytes(path)
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return errors.BadRequest(NOT_UTF8)
    if b"\x00" in decoded:
        return errors.BadRequest(errors.ODD_TEXT)
    return None


class FamdRequest(server.Request):
    """
    A request that keeps at most C{max_body_size} bytes of its body; a
    larger one is answered 413 (as soon as its head announces it, or as
    soon as a chunked body passes the limit: L{famd.connections.Channel}),
    and a path L{path_refusal} refuses is answered without reaching any
    resource.
    """

    max_body_size = 65536
    body_too_large = False
    route = None
    """The Klein rule that answered the request (set by L{mount}), or None."""

    def __init__(self, channel, *args, **kwargs):
        # Twisted asks the channel for its local address on every request,
        # one getsockname() system call each; a connection's local address
        # never changes, so a keep-alive connection asks once.
        if "getHost" not in vars(channel):
            host = channel.getHost()
            channel.getHost = lambda: host
        super().__init__(channel, *args, **kwargs)

    def setHeader(self, name, value):
        # Twisted's process() names itself with its version; famd says less.
        super().setHeader(name, SERVER if name == b"Server" else value)

    def gotLength(self, length):
        self._body_seen = 0
        self.body_too_large = length is not None and length > self.max_body_size
        # No buffer (a temporary file, beyond 100 kB) for a body never read.
        super().gotLength(0 if self.body_too_large else length)

    started_at = None
    """When the request was received (head and body), by C{time.perf_counter}: its latency's start."""

    def process(self):
        self.started_at = perf_counter()
        if self.body_too_large:
            self._refuse(errors.TooLarge(
                "The request body is too large (at most %d bytes)." % (self.max_body_size,)))
            return
        refusal = path_refusal(self.path)
        if refusal is not None:
            self._refuse(refusal)
        else:
            super().process()

    def _refuse(self, refusal):
        self.write(answer_refusal(self, refusal))
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
        printable(getattr(address, "host", "-")),
        printable(request.method),
        printable(redact(request.path)),
        request.code,
        request.sentLength or "-",
        printable(user_agent[-1]) if user_agent else "-",
    )


LOG_ACCESS = LogAccess()
FULL_WARNING_INTERVAL = 60
"""Seconds between two log warnings that connections are being refused."""


class FamdSite(server.Site):
    """
    A site whose access log lines go to C{access} (a callable taking the
    line, see L{famd.accesslog}), or nowhere when it is None, and that
    holds at most C{max_connections} connections: one more is closed as
    soon as it is accepted (warned in the log at most once a minute).
    Its channels (L{famd.connections.Channel}) speak HTTP/1.1 and give
    each request head C{header_timeout} seconds, then its body
    C{body_timeout} seconds.
    """

    protocol = Channel
    access = None
    answered = None  # called with each request answered (famd.metrics.wiring.meter_site)
    max_connections = 1000
    header_timeout = 10.0
    body_timeout = 30.0
    open_connections = 0
    _refused = 0
    _warned_at = None

    def buildProtocol(self, addr):
        if self.open_connections >= self.max_connections:
            self._refuse_connection()
            return None
        channel = super().buildProtocol(addr)
        channel.header_timeout = self.header_timeout
        channel.body_timeout = self.body_timeout
        return channel

    def connection_opened(self):
        """A channel of this site is connected."""
        self.open_connections += 1

    def connection_closed(self):
        """A channel of this site is gone."""
        self.open_connections -= 1

    def _refuse_connection(self):
        self._refused += 1
        now = self.reactor.seconds()
        if self._warned_at is None or now - self._warned_at >= FULL_WARNING_INTERVAL:
            log.warn("max_connections ({cap}) reached: {count} connections refused",
                     cap=self.max_connections, count=self._refused)
            self._warned_at, self._refused = now, 0

    def log(self, request):
        if self.answered is not None:
            self.answered(request)
        if self.access is not None:
            self.access(self._logFormatter(self._logDateTime, request))


def make_site(children, max_body_size, reactor, access=LOG_ACCESS, header_timeout=10.0,
              body_timeout=30.0, max_connections=1000, fallback=None):
    """
    A L{FamdSite} on C{reactor} serving C{children} ({b'api': resource,
    ...}) and, for any other first segment, C{fallback} (the account
    panel's resource, or None for a JSON 404); its access log lines go to
    C{access} (famd's log unless told otherwise; None for no access log).
    """

    class Request(FamdRequest):
        pass

    Request.max_body_size = max_body_size
    site = FamdSite(Root(children, fallback), logFormatter=access_log_line, reactor=reactor)
    site.access = access
    site.header_timeout = header_timeout
    site.body_timeout = body_timeout
    site.max_connections = max_connections
    site.requestFactory = Request
    site.displayTracebacks = False
    site.noisy = False
    return site
