"""
The account routes anyone or the account itself uses: ``GET
/accounts/{sip}/info`` (public), ``GET`` and ``DELETE /accounts/me``.

These are the busiest routes of all, so they are plain callback chains:
inlineCallbacks cost the benchmark a tenth of ``me``.  Every other family
of routes, doing several steps, is written with inlineCallbacks.
"""

from klein import Klein

from famd.api import render, shapes
from famd.api.declare import Response, declare
from famd.api.http import authenticated, json_response
from famd.errors import NO_ACCOUNT, NotFound
from famd.sip import MalformedAddress, parse_address


class Accounts:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param storage: the L{famd.interfaces.IAccountStore}.
    @param config: the L{famd.config.Config} (the realm shown).
    """

    app = Klein()

    def __init__(self, authenticator, storage, config):
        self._authenticator = authenticator
        self._storage = storage
        self._config = config

    @app.route("/accounts/<string:sip>/info", methods=["GET"])
    @declare(
        "Whether an account exists",
        """Anyone may ask whether the account of a SIP address (user@domain) exists and is
        activated, and which DIGEST realm it authenticates in. Early Linphone apps ask this
        before offering to sign in.""",
        auth="public", generation="2021", users=("FlexiAPIClient",), deprecated=True,
        responses={200: Response("The account exists.", shapes.INFO), 404: "Message"},
    )
    def info(self, request, sip):
        """Whether an account exists and is activated, and the realm."""
        try:
            username, domain = parse_address(sip)
        except MalformedAddress:
            raise NotFound(NO_ACCOUNT) from None
        d = self._storage.find_account(username, domain)
        return d.addCallback(self._info, request)

    def _info(self, account, request):
        if account is None:
            raise NotFound(NO_ACCOUNT)
        return json_response(request, render.info(self._config, account))

    @app.route("/accounts/me", methods=["GET"])
    @declare(
        "The caller's account",
        """The authenticated account, as the 2021 account object: its e-mail, phone,
        activation state and password algorithms (never a hash).""",
        auth="account", generation="both", users=("FlexiAPIClient", "tools"),
        responses={200: Response("The account.", shapes.ACCOUNT_2021), 429: "TooMany"},
    )
    def me(self, request):
        """The caller's account."""
        d = authenticated(self._authenticator, request)
        return d.addCallback(self._account, request)

    def _account(self, account, request):
        return json_response(request, render.account(self._config, account))

    @app.route("/accounts/me", methods=["DELETE"], endpoint="delete_me")
    @declare(
        "Delete the caller's account",
        """The authenticated account deletes itself, with its passwords, keys and pending
        codes; the answer is the JSON number 1.""",
        auth="account", generation="both", users=("FlexiAPIClient", "tools"),
        responses={200: Response("Deleted.", {"type": "integer", "enum": [1]}), 404: "Message",
                   429: "TooMany"},
    )
    def delete_me(self, request):
        """Delete the caller's account."""
        d = authenticated(self._authenticator, request)
        d.addCallback(lambda account: self._storage.delete_account(account.id))
        return d.addCallback(self._deleted, request)

    def _deleted(self, deleted, request):
        if not deleted:
            raise NotFound(NO_ACCOUNT)
        return json_response(request, 1)
