"""
The ``/api`` application: the route classes side by side on one router.

Each route class (L{famd.api.accounts.Accounts}, ...) is a small Klein
class built with the collaborators its routes use; L{api} builds them for
a deployment and L{famd.web.mount} puts their routes side by side on one
router.  Nothing registers a route by being imported.
"""

from klein import Klein

from famd.api.accounts import Accounts
from famd.api.admin_accounts import AdminAccounts
from famd.api.admin_accounts2 import AdminAccounts2
from famd.api.auth_tokens import AuthTokens
from famd.api.declare import Response, declare
from famd.api.devices import Devices
from famd.api.docs_page import DocsPage
from famd.api.http import encode
from famd.api.openapi import document
from famd.api.provision2 import Provision2
from famd.api.self_service import SelfService
from famd.api.signup import SignUp
from famd.api.signup2 import SignUp2
from famd.web import mount


class Ping:
    """``GET /api/ping``: the liveness answer, touching nothing."""

    app = Klein()

    @app.route("/ping", methods=["GET", "HEAD"])
    @declare(
        "Liveness",
        """Answers pong, touching nothing: for load balancers and monitoring.""",
        auth="public", generation="both", users=("tools",),
        responses={200: Response("Alive.", {"type": "string", "enum": ["pong"]}, media="text/plain")},
    )
    def ping(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return b"pong"


class Description:
    """
    ``GET /api/openapi.json``: the OpenAPI document of the applications.

    @param applications: {prefix: router} of the site (L{famd.api.openapi.document}),
        read at the first request, once every application is mounted.
    """

    app = Klein()

    def __init__(self, config, applications):
        self._config = config
        self._applications = applications
        self._body = None

    @app.route("/openapi.json", methods=["GET"])
    @declare(
        "This description",
        """famd's OpenAPI 3.1 document, generated from the routes' own declarations: the
        same description `famd openapi` prints.""",
        auth="public", generation="both", users=("tools",),
        responses={200: Response("The OpenAPI document.", {"type": "object"})},
    )
    def openapi(self, request):
        if self._body is None:
            self._body = encode(document(self._applications, self._config))
        request.setHeader(b"Content-Type", b"application/json")
        return self._body


def api(config, storage, now, authenticator, context, registrar=None, applications=None):
    """
    The ``/api`` router of a deployment, added to C{applications} (a dict
    of the site's other routers by prefix, which its description covers).

    @param authenticator: the L{famd.auth.Authenticator}.
    @param context: the L{famd.flows.Context} of the sign-up and
        self-service flows.
    @param registrar: the L{famd.interfaces.IRegistrar}, or None when the
        devices feature is off.
    @param describe: a callable returning the OpenAPI document of the
        deployment, shown at ``GET /api`` (L{famd.api.docs_page.DocsPage});
        None: no page.
    """
    applications = {} if applications is None else applications
    router = mount(
        DocsPage(lambda: document(applications, config)),
        Ping(),
        Description(config, applications),
        Accounts(authenticator, storage, config),
        AdminAccounts(authenticator, storage, config, now),
        SignUp(context),
        SignUp2(authenticator, context),
        SelfService(authenticator, context),
        Devices(authenticator, registrar),
        Provision2(authenticator, context),
        AuthTokens(authenticator, context),
        AdminAccounts2(authenticator, storage, config, now, context, registrar),
    )
    applications["/api"] = router
    return router
