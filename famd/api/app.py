"""
The ``/api`` Klein application: its dependencies, its error handling, ping.

Route modules (``famd.api.accounts`` ...) add their routes to ``Api.app``;
an L{Api} instance carries what they need (storage, config, notifiers,
clock), so that nothing is global.
"""

from klein import Klein
from twisted.logger import Logger
from werkzeug.exceptions import MethodNotAllowed, NotFound

from famd.api.http import HTTPError, json_response
from famd.interfaces import StorageUnavailable
from famd.logsafe import redact

log = Logger()


class Api:
    """The API application bound to one deployment's services."""

    app = Klein()

    def __init__(self, config, storage, now, authenticator=None, **services):
        self.config = config
        self.storage = storage
        self.now = now
        if authenticator is None:
            from famd.auth import Authenticator  # famd.auth imports famd.api.http

            authenticator = Authenticator(config, storage, now)
        self.authenticator = authenticator
        self.services = services

    def resource(self):
        return self.app.resource()

    @app.route("/ping", methods=["GET", "HEAD"])
    def ping(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return b"pong"

    @app.handle_errors(HTTPError)
    def http_error(self, request, failure):
        error = failure.value
        return json_response(request, error.body, error.status, error.headers)

    @app.handle_errors(NotFound)
    def no_route(self, request, failure):
        return json_response(request, {"message": "No such endpoint."}, 404)

    @app.handle_errors(MethodNotAllowed)
    def wrong_method(self, request, failure):
        allowed = sorted(failure.value.valid_methods or ())
        message = "The %s method is not supported for this route. Supported methods: %s." % (
            request.method.decode("ascii", "replace"),
            ", ".join(allowed),
        )
        return json_response(
            request, {"message": message}, 405, [(b"Allow", ", ".join(allowed).encode())]
        )

    @app.handle_errors(StorageUnavailable)
    def storage_down(self, request, failure):
        log.warn("storage unavailable: {reason}", reason=str(failure.value))
        return json_response(
            request, {"message": "The account database is unavailable, try again later."}, 503
        )

    @app.handle_errors(Exception)
    def unexpected(self, request, failure):
        log.failure("unexpected error answering {method} {path}", failure,
                    method=request.method, path=redact(request.path))
        return json_response(request, {"message": "Internal error."}, 500)
