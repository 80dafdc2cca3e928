"""
The account routes anyone or the account itself uses: ``GET
/accounts/{sip}/info`` (public), ``GET`` and ``DELETE /accounts/me``.
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import render
from famd.api.http import authenticated, json_response
from famd.auth import NO_ACCOUNT
from famd.errors import NotFound
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
    @inlineCallbacks
    def info(self, request, sip):
        """Whether an account exists and is activated, and the realm."""
        try:
            username, domain = parse_address(sip)
        except MalformedAddress:
            raise NotFound(NO_ACCOUNT) from None
        account = yield self._storage.find_account(username, domain)
        if account is None:
            raise NotFound(NO_ACCOUNT)
        return json_response(request, render.info(self._config, account))

    @app.route("/accounts/me", methods=["GET"])
    @inlineCallbacks
    def me(self, request):
        """The caller's account."""
        account = yield authenticated(self._authenticator, request)
        return json_response(request, render.account(self._config, account))

    @app.route("/accounts/me", methods=["DELETE"], endpoint="delete_me")
    @inlineCallbacks
    def delete_me(self, request):
        """Delete the caller's account."""
        account = yield authenticated(self._authenticator, request)
        if not (yield self._storage.delete_account(account.id)):
            raise NotFound(NO_ACCOUNT)
        return json_response(request, 1)
