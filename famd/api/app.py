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
from famd.api.auth_tokens import AuthTokens
from famd.api.admin_accounts2 import AdminAccounts2
from famd.api.devices import Devices
from famd.api.docs_page import DocsPage
from famd.api.provision2 import Provision2
from famd.api.self_service import SelfService
from famd.api.signup import SignUp
from famd.api.signup2 import SignUp2
from famd.web import mount


class Ping:
    """``GET /api/ping``: the liveness answer, touching nothing."""

    app = Klein()

    @app.route("/ping", methods=["GET", "HEAD"])
    def ping(self, request):
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return b"pong"


def api(config, storage, now, authenticator, context, registrar=None, describe=None):
    """
    The ``/api`` router of a deployment.

    @param authenticator: the L{famd.auth.Authenticator}.
    @param context: the L{famd.flows.Context} of the sign-up and
        self-service flows.
    @param registrar: the L{famd.interfaces.IRegistrar}, or None when the
        devices feature is off.
    @param describe: a callable returning the OpenAPI document of the
        deployment, shown at ``GET /api`` (L{famd.api.docs_page.DocsPage});
        None: no page.
    """
    pages = () if describe is None else (DocsPage(describe),)
    return mount(
        *pages,
        Ping(),
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
