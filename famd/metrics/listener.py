"""
The metrics listener: ``GET /metrics`` (the Prometheus text exposition of
every famd process) and ``GET /ready`` (readiness: 200 while the database
answers a trivial query within L{READY_TIMEOUT} seconds, 503 otherwise).
It listens on ``metrics.listen``, never on the public listener, and only in
the primary process.  Reading the files and writing the exposition run on
a thread of the reactor's pool, never on the reactor thread.
"""

from twisted.internet import threads
from twisted.web import resource, server

from famd.metrics import exposition, shared

READY_TIMEOUT = 2.0
"""Seconds the database has to answer the readiness query."""

NO_SUCH = b"Not found: /metrics and /ready are served here.\n"


def _text(request, status, body, content_type=b"text/plain; charset=utf-8"):
    request.setResponseCode(status)
    request.setHeader(b"Server", b"famd")
    request.setHeader(b"Content-Type", content_type)
    request.setHeader(b"Cache-Control", b"no-store")
    return body


class _Deferred(resource.Resource):
    """A leaf answering with the Deferred C{answer(request)} fires with."""

    isLeaf = True

    def render_GET(self, request):
        gone = []
        request.notifyFinish().addBoth(gone.append)
        d = self.answer(request)

        def write(body):
            if not gone:  # the client is still there
                request.write(body)
                request.finish()

        d.addCallback(write)
        return server.NOT_DONE_YET

    def render_HEAD(self, request):
        return self.render_GET(request)


class Exposition(_Deferred):
    """``/metrics``: this process's counts (in memory) and the workers' (flushed) merged."""

    def __init__(self, reactor, directory, recorder, schema):
        super().__init__()
        self._reactor, self._directory = reactor, directory
        self._recorder, self._schema = recorder, schema

    def _write(self, snapshot):
        return exposition.exposition(shared.merge(self._directory, snapshot), self._schema())

    def answer(self, request):
        snapshot = self._recorder.snapshot()
        d = threads.deferToThreadPool(self._reactor, self._reactor.getThreadPool(),
                                      self._write, snapshot)
        d.addCallback(lambda body: _text(request, 200, body, exposition.CONTENT_TYPE))
        d.addErrback(lambda failure: _text(request, 500, b"metrics unavailable\n"))
        return d


class Readiness(_Deferred):
    """``/ready``: 200 while the storage answers within L{READY_TIMEOUT}, else 503."""

    def __init__(self, storage):
        super().__init__()
        self._storage = storage

    def answer(self, request):
        d = self._storage.ready(READY_TIMEOUT)
        d.addCallbacks(lambda _: _text(request, 200, b"ready\n"),
                       lambda _: _text(request, 503, b"not ready: the database does not answer\n"))
        return d


class MetricsRoot(resource.Resource):
    """The listener's root: /metrics, /ready, and 404 for anything else."""

    def __init__(self, reactor, directory, recorder, storage, schema):
        super().__init__()
        self.putChild(b"metrics", Exposition(reactor, directory, recorder, schema))
        self.putChild(b"ready", Readiness(storage))

    def getChild(self, path, request):
        return resource.NoResource()

    def render(self, request):
        return _text(request, 404, NO_SUCH)


def make_site(reactor, directory, recorder, storage, schema):
    """The metrics listener's site (no access log)."""
    site = server.Site(MetricsRoot(reactor, directory, recorder, storage, schema), reactor=reactor)
    site.log = lambda request: None
    site.displayTracebacks = False
    site.noisy = False
    return site
