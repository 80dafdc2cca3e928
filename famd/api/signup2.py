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

from famd.api import render2, shapes, validation
from famd.api.declare import Response, declare
from famd.api.fields import Algorithm, Body, Dtmf, Field, Matching, OneOf, Prohibited, Rule, Text, Username
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

DEVICE = Body(
    OneOf("pn_provider", PN_PROVIDERS, PN_LENGTH, description="The push provider."),
    Matching("pn_param", PN_PATTERNS["pn_param"], PN_LENGTH, description="The push parameter (app id)."),
    Matching("pn_prid", PN_PATTERNS["pn_prid"], PN_LENGTH, description="The device's push token."),
    description="The device to push the token to; all three are required (famd's pusher needs them).",
)
"""A send-by-push body, by FAM 2.x's rules."""


def device(data):
    """
    The (pn_provider, pn_param, pn_prid) of a send-by-push body (L{DEVICE}).

    @raise Invalid: a field breaks a rule.
    """
    values = DEVICE.valid(data)
    return tuple(values[name] for name in DEVICE.names)


def _creation_token_rule(data, errors, context):
    """The ``account_creation_token``: an unused, unexpired token (C{context['stored']})."""
    token = data.get("account_creation_token")
    stored = context.get("stored")
    if validation.missing(token):
        errors.add("account_creation_token", "The account creation token field is required.")
    elif stored is None or stored.used or not validation.is_text(token) or len(token) != signup2.TOKEN_LENGTH:
        errors.add("account_creation_token", INVALID_TOKEN)
    elif signup2.expired(context["context"], stored):
        errors.add("account_creation_token", EXPIRED_TOKEN)


TOKEN = {"type": "string", "minLength": signup2.TOKEN_LENGTH, "maxLength": signup2.TOKEN_LENGTH}
"""The JSON Schema of a 13-character token."""

CREATION = Body(
    Username(phone_shaped=False),
    Text("password", minimum=validation.PASSWORD_LENGTH),
    Rule("account_creation_token", _creation_token_rule, TOKEN, key=False,
         description="An unused, unexpired account-creation token (of either generation)."),
    Algorithm(default="SHA-256", absent="missing"),
    Prohibited("admin", description="Prohibited: an anonymous account is no administrator."),
    Prohibited("activated", description="Prohibited: the account is activated by a code."),
    Dtmf(absent="missing"),
    description="The new account: username unused and not a phone number.",
)
"""Every rule of ``POST /accounts/with-account-creation-token``."""

CONSUMED = Body(Field("account_creation_token", schema=TOKEN,
                      description="An unused token no account holds."))
"""The body of ``POST /account_creation_tokens/consume`` (L{famd.flows.signup2.consume} judges it)."""
REQUEST_TOKEN = Body(Field("account_creation_request_token", schema=TOKEN,
                           description="The request token the desktop got."))
"""The body of the desktop's poll (L{famd.flows.signup2.trade_request_token} judges it)."""


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
    L{CREATION}'s check.

    @param stored: the L{famd.model.CreationToken} the body names, or None.
    @return: (values, L{validation.Errors}).
    """
    return CREATION.check(data, taken=taken, stored=stored, context=context)


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
    @declare(
        "Push an account-creation token",
        """Anyone asks famd to push an account-creation token to a mobile device; a retry after
        a lost push replaces the device's unused token. 200 with {} (FAM answers an empty body;
        liblinphone reads the status only).""",
        auth="public", generation="2.x", users=("Linphone 6", "FlexiAPIClient (later)"), body=DEVICE,
        responses={200: Response("Pushed.", shapes.EMPTY_OBJECT), 422: "Laravel422", 429: "TooMany",
                   503: "Unavailable"},
    )
    @inlineCallbacks
    def send_by_push(self, request):
        """Push an account-creation token to the device (a retry after a lost push is allowed)."""
        pushed_to = device(read_json_object(request))
        yield self._anonymous_write(request)
        yield signup2.push_creation_token(self._context, pushed_to, *self._origin(request))
        return json_response(request, {})

    @app.route("/accounts/with-account-creation-token", methods=["POST"])
    @declare(
        "Create an account with an account-creation token",
        """Anyone creates a not activated account by consuming an account-creation token of
        either generation; it is activated later by a code. The answer's provisioning_token is
        null.""",
        auth="public", generation="2.x", users=("Linphone 6", "FlexiAPIClient (later)"), body=CREATION,
        responses={200: Response("The new account.", shapes.ACCOUNT_2X), 422: "Laravel422",
                   429: "TooMany"},
    )
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
                values["dtmf_protocol"], generation="2")
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
    @declare(
        "Consume an account-creation token",
        """The authenticated account consumes an unused token no account holds, which makes it
        a validated account (FAM's term) that may ask for linking codes.""",
        auth="linking", generation="2.x", users=("none known",), body=CONSUMED,
        responses={200: Response("The consumed token.", shapes.STORED_TOKEN), 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def consume(self, request):
        """The authenticated account consumes an unused token (FAM's "validated" account)."""
        account = yield authenticated(self._authenticator, request)
        data = read_json_object(request)
        consumed = yield signup2.consume(
            self._context, account, CONSUMED.check(data)[0]["account_creation_token"],
            *self._origin(request))
        return json_response(request, stored_token(self._context, consumed))

    @app.route("/account_creation_tokens", methods=["POST"])
    @declare(
        "Make an account-creation token",
        """An administrator makes an account-creation token bound to no device, to create an
        account with it (liblinphone-tester does).""",
        auth="admin", generation="2.x", users=("tester", "tools"),
        responses={201: Response("The new token.", shapes.FRESH_TOKEN), 403: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def make(self, request):
        """An administrator makes a token (no device)."""
        yield authenticated(self._authenticator, request, admin=True)
        made = yield signup2.make_token(self._context, *self._origin(request))
        return json_response(request, fresh_token(self._context, made), 201)

    @app.route("/account_creation_request_tokens", methods=["POST"])
    @declare(
        "A desktop's account-creation request token",
        """Anyone (Linphone desktop) gets a request token and the address of famd's page where a
        person validates it; the app then polls for the creation token.""",
        auth="public", generation="2.x", users=("Linphone 6",),
        responses={201: Response("The request token.", shapes.REQUEST_TOKEN), 429: "TooMany"},
    )
    @inlineCallbacks
    def request_token(self, request):
        """A desktop's request token and the page where a person validates it."""
        yield self._anonymous_write(request)
        token = yield signup2.new_request_token(self._context)
        url = self._config.public_url + CHECK_PATH + token
        return json_response(request, {"token": token, "validation_url": url}, 201)

    @app.route("/account_creation_tokens/using-account-creation-request-token", methods=["POST"])
    @declare(
        "Trade a validated request token",
        """The desktop polls with its request token: 404 without errors (keep polling) until a
        person validated it, then 201 with an account-creation token; 422 for an unknown or
        used request token (stop).""",
        auth="public", generation="2.x", users=("Linphone 6",), body=REQUEST_TOKEN,
        responses={201: Response("The creation token.", shapes.FRESH_TOKEN), 404: "Message",
                   422: "Laravel422", 429: "TooMany"},
    )
    @inlineCallbacks
    def trade(self, request):
        """The creation token of a validated request token; 404 (keep polling) until then."""
        data = read_json_object(request)
        throttle, (address, agent) = self._context.throttle, self._origin(request)
        yield throttle.request_token_poll(address)
        attempt = yield throttle.secret_attempt(address)
        outcome, made = yield signup2.trade_request_token(
            self._context, REQUEST_TOKEN.check(data)[0]["account_creation_request_token"], address, agent)
        if outcome == "invalid":
            attempt.failed()
            raise Invalid({"account_creation_request_token": [INVALID_REQUEST_TOKEN]})
        yield attempt.succeeded()
        if outcome == "pending":
            raise NotFound(NOT_VALIDATED)
        return json_response(request, fresh_token(self._context, made), 201)

    @app.route("/account_recovery_tokens/send-by-push", methods=["POST"])
    @declare(
        "Push an account-recovery token",
        """Anyone asks famd to push an account-recovery token to a mobile device, under the same
        retry and push limits as creation tokens.""",
        auth="public", generation="2.x", users=("Linphone 6",), body=DEVICE,
        responses={200: Response("Pushed.", shapes.EMPTY_OBJECT), 422: "Laravel422", 429: "TooMany",
                   503: "Unavailable"},
    )
    @inlineCallbacks
    def recovery_by_push(self, request):
        """Push an account-recovery token to the device."""
        pushed_to = device(read_json_object(request))
        yield self._anonymous_write(request)
        yield recovery.push_recovery_token(self._context, pushed_to, *self._origin(request))
        return json_response(request, {})
