"""
FAM 2.x provisioning under ``/api``: ``GET /accounts/me/provision`` (the
account) and ``GET /accounts/{id}/provision`` (administrators) issue a new
provisioning token and answer the 2.x account object carrying it;
``POST /accounts/{id}/send_provisioning_email`` (administrators) issues one
and mails its link and QR code to the account (L{famd.flows.provisioning}).
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import render2, shapes
from famd.api.account_object import provisioning_token
from famd.api.admin_accounts import administered_account
from famd.api.declare import Response, declare
from famd.api.http import authenticated, json_response, origin
from famd.flows import provisioning as flow


class Provision2:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param context: the L{famd.flows.Context}.
    """

    app = Klein()

    def __init__(self, authenticator, context):
        self._authenticator = authenticator
        self._context = context
        self._config = context.config

    @app.route("/accounts/me/provision", methods=["GET"])
    @declare(
        "A new provisioning token for the caller",
        """Issues a new provisioning token for the authenticated account (replacing the previous
        one) and answers the FAM 2.x account object carrying it; GET /provisioning/{key} with it
        gives the account to a device.""",
        auth="account", generation="2.x", users=("FlexiAPIClient",),
        responses={200: Response("The account with its new token.", shapes.ACCOUNT_2X), 429: "TooMany"},
    )
    @inlineCallbacks
    def provision_me(self, request):
        """A new provisioning token for the caller."""
        account = yield authenticated(self._authenticator, request)
        body = yield self._provisioned(request, account)
        return json_response(request, body)

    @app.route("/accounts/<int:account_id>/provision", methods=["GET"])
    @declare(
        "A new provisioning token for an account",
        """An administrator issues a new provisioning token for an account and gets the owner's
        view of the FAM 2.x account object carrying it.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The account with its new token.", shapes.ACCOUNT_2X), 403: "Message",
                   404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def provision(self, request, account_id):
        """
        A new provisioning token for an account, by an administrator; the
        owner's view of the account (no pending codes are loaded here).
        """
        account = yield self._account(request, account_id)
        body = yield self._provisioned(request, account)
        return json_response(request, body)

    @app.route("/accounts/<int:account_id>/send_provisioning_email", methods=["POST"])
    @declare(
        "Mail an account its provisioning link",
        """An administrator issues a new provisioning token for an account and mails the account
        its provisioning link and QR code.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: shapes.EMPTY_HTML, 403: "Message", 404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def send_provisioning_email(self, request, account_id):
        """Mail the account a new provisioning link; 200 with an empty body, as FAM."""
        account = yield self._account(request, account_id)
        yield flow.send_provisioning_email(self._context, account, *origin(request, self._config.proxies))
        request.setHeader(b"Content-Type", b"text/html; charset=UTF-8")
        return b""

    def _account(self, request, account_id):
        return administered_account(self._authenticator, self._context.storage, request, account_id)

    @inlineCallbacks
    def _provisioned(self, request, account):
        issued = yield flow.issue(self._context, account.id, *origin(request, self._config.proxies))
        return render2.account(account, provisioning=provisioning_token(self._config, issued))
