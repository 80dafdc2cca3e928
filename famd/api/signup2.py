"""
FAM 2.x sign-up and recovery routes, beside the 2021 ones of
L{famd.api.signup} and on the same tokens:

 - ``POST /account_creation_tokens/send-by-push``: the 2021 ``POST /tokens``
   under its 2.x name, with 2.x's retry after a lost push (the rules of
   both in L{famd.flows.signup2}); 200 with C{{}} (FAM answers an empty
   text/html body; liblinphone reads only the status, and famd answers
   JSON everywhere);
 - ``POST /accounts/with-account-creation-token``: a not activated account
   for a token pushed by either route, answered as FAM 2.x's account with
   ``provisioning_token`` null (the account's token exists, but serving it
   would activate the account without any code);
 - ``POST /account_creation_tokens/consume`` (an authenticated account) and
   admin ``POST /account_creation_tokens``;
 - desktop: ``POST /account_creation_request_tokens`` (201 with the
   ``validation_url`` of famd's page, L{famd.creation_page}) and
   ``POST /account_creation_tokens/using-account-creation-request-token``
   (404 without ``errors`` while not validated, so the app keeps polling);
 - ``POST /account_recovery_tokens/send-by-push`` (L{famd.flows.recovery}).

Every anonymous route is under the anonymous-write limit, except the
desktop's polling, which has its own per-address limit
(``throttle.request_token_polls``, above the app's one poll per 2 s) and
counts unknown request tokens as wrong secrets.
"""

import re

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import render2, validation
from famd.api.dtmf import dtmf_protocol
from famd.api.http import authenticated, json_response, origin, read_json_object
from famd.clock import laravel
from famd.errors import Conflict, Invalid, NotFound
from famd.flows import recovery, signup2, tokens

PN_PROVIDERS = ("apns.dev", "apns", "fcm")
PN_PATTERNS = {
    "pn_param": re.compile(r"[A-Za-z0-9_.]+"),
    "pn_prid": re.compile(r"[A-Za-z0-9_:-]+"),
}
"""FAM 2.x's rules for the device fields (pn_param allows the dot, as FAM's code does)."""
PN_LENGTH = 255
INVALID_TOKEN = "Please provide a valid account_creation_token"
EXPIRED_TOKEN = signup2.EXPIRED_TOKEN
INVALID_REQUEST_TOKEN = "Please provide a valid account_creation_request_token"
NOT_VALIDATED = "The account creation request token is not validated yet"
CHECK_PATH = "/creation_token/check/"


def device(data):
    """
    The (pn_provider, pn_param, pn_prid) of a send-by-push body, by FAM 2.x's
    rules; all three are required (famd's pusher needs them, the apps send them).

    @raise Invalid: a field breaks a rule.
    """
    errors = validation.Errors()
    values = []
    for field in ("pn_provider", "pn_param", "pn_prid"):
        value = validation.required_text(data, field, errors, maximum=PN_LENGTH)
        if value is None:
            pass
        elif field == "pn_provider" and value not in PN_PROVIDERS:
            errors.add(field, "The selected %s is invalid." % (validation.label(field),))
            value = None
        elif field != "pn_provider" and not PN_PATTERNS[field].fullmatch(value):
            errors.add(field, "The %s format is invalid." % (validation.label(field),))
            value = None
        values.append(value)
    if errors:
        raise Invalid(errors.fields)
    return tuple(values)


def fresh_token(context, token):
    """A token just made, as FAM 2.x answers it: C{{token, ip, user_agent, expire_at}}."""
    return {
        "token": token.token,
        "ip": token.ip,
        "user_agent": token.user_agent,
        "expire_at": laravel(signup2.expire_at(context, token)),
    }


def stored_token(context, token):
    """A token re-read, as FAM 2.x answers it (``used`` as FAM's raw 0/1; no device: nulls)."""
    return {
        "token": token.token,
        "pn_provider": token.pn_provider or None,
        "pn_param": token.pn_param or None,
        "pn_prid": token.pn_prid or None,
        "used": int(token.used),
        "account_id": token.account_id,
        "ip": token.ip,
        "user_agent": token.user_agent,
        "expire_at": laravel(signup2.expire_at(context, token)),
    }


def creation_rules(data, context, taken, stored):
    """
    Every rule of ``POST /accounts/with-account-creation-token``.

    @param stored: the L{famd.model.CreationToken} the body names, or None.
    @return: (values, L{validation.Errors}).
    """
    errors = validation.Errors()
    values = {"username": validation.username(data, errors, taken, phone_shaped=False)}
    values["password"] = validation.required_text(data, "password", errors, minimum=6)
    token = data.get("account_creation_token")
    if validation.missing(token):
        errors.add("account_creation_token", "The account creation token field is required.")
    elif stored is None or stored.used or not validation.is_text(token) or len(token) != signup2.TOKEN_LENGTH:
        errors.add("account_creation_token", INVALID_TOKEN)
    elif signup2.expired(context, stored):
        errors.add("account_creation_token", EXPIRED_TOKEN)
    values["algorithm"] = "SHA-256"
    if not validation.missing(data.get("algorithm")):
        values["algorithm"] = validation.algorithm(data, errors)
    for field in ("admin", "activated"):
        if field in data:
            errors.add(field, "The %s field is prohibited." % (field,))
    protocol = data.get("dtmf_protocol")
    values["dtmf_protocol"] = None if validation.missing(protocol) else dtmf_protocol(protocol, errors)
    return values, errors


class SignUp2:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param context: the L{famd.flows.Context}.
    """

    app = Klein()

    def __init__(self, authenticator, context):
        self._authenticator = authenticator
        self._context = context
        self._config = context.config

    def _origin(self, request):
        """(client address, User-Agent) of C{request} (L{origin})."""
        return origin(request, self._config.proxies)

    def _anonymous_write(self, request):
        return self._context.throttle.anonymous_write(self._origin(request)[0])

    @app.route("/account_creation_tokens/send-by-push", methods=["POST"])
    @inlineCallbacks
    def send_by_push(self, request):
        """Push an account-creation token to the device (a retry after a lost push is allowed)."""
        pushed_to = device(read_json_object(request))
        yield self._anonymous_write(request)
        yield signup2.push_creation_token(self._context, pushed_to, *self._origin(request))
        return json_response(request, {})

    @app.route("/accounts/with-account-creation-token", methods=["POST"])
    @inlineCallbacks
    def create(self, request):
        """Create a not activated account, consuming a token of either generation."""
        data = read_json_object(request)
        yield self._anonymous_write(request)
        taken, stored = yield self._looked_up(data)
        values, errors = creation_rules(data, self._context, taken, stored)
        if errors:
            raise Invalid(errors.fields)
        try:
            account = yield tokens.create_account(
                self._context, values["username"], values["password"], values["algorithm"],
                self._config.sip_domain, stored.token, self._origin(request)[0],
                values["dtmf_protocol"])
        except Conflict as conflict:
            taken = list(taken) + ["username"] if conflict.field == "username" else taken
            stored = None if conflict.field == "token" else stored
            raise Invalid(creation_rules(data, self._context, taken, stored)[1].fields) from None
        # No provisioning_token: serving it would activate the account without
        # any code; its owner gets one from me/provision once activated.
        return json_response(request, render2.account(account))

    @inlineCallbacks
    def _looked_up(self, data):
        """(taken fields, the stored token named by the body or None)."""
        storage = self._context.storage
        username = validation.unique_candidates(data)[0]
        taken = []
        if username is not None:
            taken = yield storage.account_conflicts(username, self._config.sip_domain, None)
        token = data.get("account_creation_token")
        stored = None
        if validation.is_text(token) and len(token) == signup2.TOKEN_LENGTH:
            stored = yield storage.creation_token(token)
        return taken, stored

    @app.route("/account_creation_tokens/consume", methods=["POST"])
    @inlineCallbacks
    def consume(self, request):
        """The authenticated account consumes an unused token (FAM's "validated" account)."""
        account = yield authenticated(self._authenticator, request)
        data = read_json_object(request)
        consumed = yield signup2.consume(
            self._context, account, data.get("account_creation_token"), *self._origin(request))
        return json_response(request, stored_token(self._context, consumed))

    @app.route("/account_creation_tokens", methods=["POST"])
    @inlineCallbacks
    def make(self, request):
        """An administrator makes a token (no device)."""
        yield authenticated(self._authenticator, request, admin=True)
        made = yield signup2.make_token(self._context, *self._origin(request))
        return json_response(request, fresh_token(self._context, made), 201)

    @app.route("/account_creation_request_tokens", methods=["POST"])
    @inlineCallbacks
    def request_token(self, request):
        """A desktop's request token and the page where a person validates it."""
        yield self._anonymous_write(request)
        token = yield signup2.new_request_token(self._context)
        url = self._config.public_url + CHECK_PATH + token
        return json_response(request, {"token": token, "validation_url": url}, 201)

    @app.route("/account_creation_tokens/using-account-creation-request-token", methods=["POST"])
    @inlineCallbacks
    def trade(self, request):
        """The creation token of a validated request token; 404 (keep polling) until then."""
        data = read_json_object(request)
        throttle, (address, agent) = self._context.throttle, self._origin(request)
        yield throttle.request_token_poll(address)
        attempt = yield throttle.secret_attempt(address)
        outcome, made = yield signup2.trade_request_token(
            self._context, data.get("account_creation_request_token"), address, agent)
        if outcome == "invalid":
            attempt.failed()
            raise Invalid({"account_creation_request_token": [INVALID_REQUEST_TOKEN]})
        yield attempt.succeeded()
        if outcome == "pending":
            raise NotFound(NOT_VALIDATED)
        return json_response(request, fresh_token(self._context, made), 201)

    @app.route("/account_recovery_tokens/send-by-push", methods=["POST"])
    @inlineCallbacks
    def recovery_by_push(self, request):
        """Push an account-recovery token to the device."""
        pushed_to = device(read_json_object(request))
        yield self._anonymous_write(request)
        yield recovery.push_recovery_token(self._context, pushed_to, *self._origin(request))
        return json_response(request, {})
