"""
The public sign-up routes: ``POST /tokens`` pushes an account-creation
token to a device, ``POST /accounts/with-token`` trades it for a new, not
activated account, and ``POST /accounts/{sip}/activate/email`` (the
13-character code sent by e-mail) or ``.../activate/phone`` (the 4-digit
code sent by SMS) activates it.

Field rules follow the 2021 account manager (texts included); the account
fields follow the admin creation rules of L{famd.api.validation}.  The
rules of tokens and activation live in L{famd.flows}.
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import render, shapes, validation
from famd.api.declare import Response, declare
from famd.api.fields import Algorithm, Body, Code, DeviceText, Domain, Rule, Text, Username
from famd.api.http import json_response, read_json_object
from famd.client_address import client_address
from famd.errors import Conflict, Invalid
from famd.flows import activation, signup2, tokens
from famd.sip import MalformedAddress, parse_address

DEVICE_FIELD_LENGTHS = {"pn_provider": 32, "pn_param": 255, "pn_prid": 255}
"""The longest value of each device field: they reach the pusher's arguments."""
TOKEN_LENGTH = 13

DEVICE = Body(
    DeviceText("pn_provider", DEVICE_FIELD_LENGTHS["pn_provider"], description="The push provider."),
    DeviceText("pn_param", DEVICE_FIELD_LENGTHS["pn_param"], description="The push parameter (app id)."),
    DeviceText("pn_prid", DEVICE_FIELD_LENGTHS["pn_prid"], description="The device's push token."),
    description="The device to push the token to: printable text, no leading dash.",
)
"""The body of ``POST /tokens``."""


def token_rule(data, errors, context):
    """
    The ``token``: required, an unused token (C{context['stored']}), 13
    characters, not past ``signup.creation_token_expiration``
    (C{context['expired']}: FAM 2.x's text, the 2021 account manager had
    no expiry).
    """
    value = data.get("token")
    if validation.missing(value):
        errors.add("token", "The token field is required.")
        return
    if not validation.is_text(value):
        errors.add("token", "The token must be a string.")
        return
    if context.get("expired"):
        errors.add("token", signup2.EXPIRED_TOKEN)
        return
    if context.get("stored") is None:
        errors.add("token", "The selected token is invalid.")
    if len(value) != TOKEN_LENGTH:
        errors.add("token", "The token must be %d characters." % (TOKEN_LENGTH,))


WITH_TOKEN = Body(
    Username(phone_shaped=False),
    Algorithm(),
    Text("password", minimum=validation.PASSWORD_LENGTH),
    Domain(),
    Rule("token", token_rule, {"type": "string", "minLength": TOKEN_LENGTH, "maxLength": TOKEN_LENGTH},
         key=False, description="An unused, unexpired account-creation token pushed to the device."),
    description="The new account: username unused and not a phone number.",
)
"""Every rule of ``POST /accounts/with-token``, in the 2021 order."""


def with_token_rules(data, config, taken, stored, expired=False):
    """
    L{WITH_TOKEN}'s check.

    @param stored: the stored text of the unused token the body names, or None.
    @param expired: whether that token is past its expiry.
    @return: (values, L{validation.Errors}).
    """
    return WITH_TOKEN.check(data, taken=taken, stored=stored, expired=expired,
                            default_domain=config.sip_domain)


EMAIL_CODE = Body(Code(length=validation.EMAIL_CODE_LENGTH, description="The code sent by e-mail."))
PHONE_CODE = Body(Code(digits=validation.PHONE_CODE_DIGITS, description="The code sent by SMS."))


def sip_account(sip):
    """(username, domain) of a route's ``{sip}``; empty strings when it is no SIP address."""
    try:
        return parse_address(sip)
    except MalformedAddress:
        return "", ""


class SignUp:
    """
    @param context: the L{famd.flows.Context} (config, storage, clock, push,
        the wrong-code limiter).
    """

    app = Klein()

    def __init__(self, context):
        self._context = context
        self._config = context.config

    @app.route("/tokens", methods=["POST"])
    @declare(
        "Push an account-creation token (2021 name)",
        """Anyone asks famd to push an account-creation token to a device; the app receives it
        by push notification and creates its account with it. 403 while the device holds an
        unused token, and after its fourth.""",
        auth="public", generation="2021", users=("FlexiAPIClient (early)",), body=DEVICE,
        deprecated=True,
        responses={200: Response("Pushed.", shapes.EMPTY_OBJECT), 403: "Message", 422: "Laravel422",
                   429: "TooMany", 503: "Unavailable"},
    )
    @inlineCallbacks
    def send_token(self, request):
        """Push an account-creation token to the device described by the body."""
        device = DEVICE.valid(read_json_object(request))
        yield self._anonymous_write(request)
        yield tokens.send_token(self._context, device["pn_provider"], device["pn_param"], device["pn_prid"])
        return json_response(request, {})

    @app.route("/accounts/with-token", methods=["POST"])
    @declare(
        "Create an account with a pushed token (2021 name)",
        """Anyone creates a not activated account by consuming an account-creation token pushed
        to their device; the account is activated later by a code.""",
        auth="public", generation="2021", users=("FlexiAPIClient (early)",), body=WITH_TOKEN,
        deprecated=True,
        responses={200: Response("The new account.", shapes.ACCOUNT_2021), 422: "Laravel422",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def create_with_token(self, request):
        """Create a not activated account, consuming a pushed token."""
        data = read_json_object(request)
        yield self._anonymous_write(request)
        taken, stored, expired = yield self._looked_up(data)
        values, errors = with_token_rules(data, self._config, taken, stored, expired)
        if errors:
            raise Invalid(errors.fields)
        try:
            account = yield tokens.create_account(
                self._context,
                values["username"],
                values["password"],
                values["algorithm"],
                values["domain"],
                stored,
                client_address(request, self._config.proxies),
            )
        except Conflict as conflict:
            # Taken since it was looked up: the answer lists it like the others.
            taken = list(taken) + ["username"] if conflict.field == "username" else taken
            stored = None if conflict.field == "token" else stored
            raise Invalid(with_token_rules(data, self._config, taken, stored)[1].fields) from None
        return json_response(request, render.account(self._config, account))

    def _anonymous_write(self, request):
        """Count an anonymous write of the client (L{famd.throttle}): TooMany beyond its budget."""
        address = client_address(request, self._config.proxies)
        return self._context.throttle.anonymous_write(address)

    @inlineCallbacks
    def _looked_up(self, data):
        """
        What the rules need from storage: (taken fields, the stored text of
        the unused token named, or None; whether that token has expired).
        """
        storage = self._context.storage
        username = validation.unique_candidates(data)[0]
        chosen = validation.domain(data, self._config.sip_domain, validation.Errors())
        taken = []
        if username is not None and chosen is not None:
            taken = yield storage.account_conflicts(username, chosen, None)
        token = data.get("token")
        found = None
        if validation.is_text(token) and len(token) == TOKEN_LENGTH:
            found = yield storage.creation_token(token)
        if found is None or found.used:
            return taken, None, False
        return taken, found.token, signup2.expired(self._context, found)

    @app.route("/accounts/<string:sip>/activate/email", methods=["POST"])
    @declare(
        "Activate an account with its e-mailed code",
        """Anyone holding the 13-character code mailed to a new account activates it; FAM 2.x
        activates by the linking routes or provisioning instead.""",
        auth="public", generation="2021", users=("FlexiAPIClient",), body=EMAIL_CODE, deprecated=True,
        responses={200: Response("The activated account.", shapes.ACCOUNT_2021), 403: "Message",
                   404: "Message", 422: "Laravel422", 429: "TooMany"},
    )
    def activate_email(self, request, sip):
        """Activate with the code sent by e-mail."""
        return self._activate(request, sip, EMAIL_CODE.valid(read_json_object(request))["code"], "e-mail")

    @app.route("/accounts/<string:sip>/activate/phone", methods=["POST"])
    @declare(
        "Activate an account with its SMS code",
        """Anyone holding the 4-digit code sent by SMS to a new account activates it; FAM 2.x
        activates by the linking routes or provisioning instead.""",
        auth="public", generation="2021", users=("FlexiAPIClient",), body=PHONE_CODE, deprecated=True,
        responses={200: Response("The activated account.", shapes.ACCOUNT_2021), 403: "Message",
                   404: "Message", 422: "Laravel422", 429: "TooMany"},
    )
    def activate_phone(self, request, sip):
        """Activate with the code sent by SMS."""
        return self._activate(request, sip, PHONE_CODE.valid(read_json_object(request))["code"], "phone")

    @inlineCallbacks
    def _activate(self, request, sip, code, how):
        username, domain_name = sip_account(sip)
        account = yield activation.activate(
            self._context,
            username,
            domain_name,
            code,
            client_address(request, self._config.proxies),
            how,
        )
        return json_response(request, render.account(self._config, account))
