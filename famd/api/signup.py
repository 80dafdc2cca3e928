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

import re

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import render, validation
from famd.api.http import json_response, read_json_object
from famd.client_address import client_address
from famd.errors import Conflict, Invalid
from famd.flows import activation, signup2, tokens
from famd.sip import MalformedAddress, parse_address

DEVICE_FIELDS = ("pn_provider", "pn_param", "pn_prid")
DEVICE_FIELD_LENGTHS = {"pn_provider": 32, "pn_param": 255, "pn_prid": 255}
"""The longest value of each device field: they reach the pusher's arguments."""
TOKEN_LENGTH = 13
_DOMAIN = re.compile(
    r"(?=.{3,64}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


def domain(data, config, errors):
    """The optional ``domain``: a DNS name, the configured sip_domain when absent."""
    value = data.get("domain")
    if value is None:
        return config.sip_domain
    if not validation.is_text(value):
        errors.add("domain", "The domain must be a string.")
        return None
    if len(value) < 3:
        errors.add("domain", "The domain must be at least 3 characters.")
        return None
    if not _DOMAIN.fullmatch(value):
        errors.add("domain", "The domain must be a valid domain name.")
        return None
    return value


def device_field(data, field, errors):
    """
    A ``pn_*`` field: required text of bounded length, printable characters
    only (no line breaks to forge log lines), not starting with ``-`` (it
    would read as an option of the pusher's command).
    """
    value = validation.required_text(data, field, errors, maximum=DEVICE_FIELD_LENGTHS[field])
    if value is None:
        return None
    if not value.isprintable():
        errors.add(field, "The %s must hold printable characters only." % (validation.label(field),))
        return None
    if value.startswith("-"):
        errors.add(field, "The %s must not start with a dash." % (validation.label(field),))
        return None
    return value


def token_rule(data, stored, errors, expired=False):
    """
    The ``token``: required, an unused token, 13 characters, not past
    ``signup.creation_token_expiration`` (C{expired}: FAM 2.x's text, the
    2021 account manager had no expiry).
    """
    value = data.get("token")
    if validation.missing(value):
        errors.add("token", "The token field is required.")
        return
    if not validation.is_text(value):
        errors.add("token", "The token must be a string.")
        return
    if expired:
        errors.add("token", signup2.EXPIRED_TOKEN)
        return
    if stored is None:
        errors.add("token", "The selected token is invalid.")
    if len(value) != TOKEN_LENGTH:
        errors.add("token", "The token must be %d characters." % (TOKEN_LENGTH,))


def with_token_rules(data, config, taken, stored, expired=False):
    """
    Every rule of ``POST /accounts/with-token``, in the 2021 order.

    @param stored: the stored text of the unused token the body names, or None.
    @param expired: whether that token is past its expiry.
    @return: (values, L{validation.Errors}).
    """
    errors = validation.Errors()
    values = {"username": validation.username(data, errors, taken, phone_shaped=False)}
    values["algorithm"] = validation.algorithm(data, errors)
    values["password"] = validation.required_text(data, "password", errors, minimum=6)
    values["domain"] = domain(data, config, errors)
    token_rule(data, stored, errors, expired)
    return values, errors


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
    @inlineCallbacks
    def send_token(self, request):
        """Push an account-creation token to the device described by the body."""
        data = read_json_object(request)
        errors = validation.Errors()
        device = [device_field(data, field, errors) for field in DEVICE_FIELDS]
        if errors:
            raise Invalid(errors.fields)
        yield self._anonymous_write(request)
        yield tokens.send_token(self._context, *device)
        return json_response(request, {})

    @app.route("/accounts/with-token", methods=["POST"])
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
        chosen = domain(data, self._config, validation.Errors())
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
    def activate_email(self, request, sip):
        """Activate with the code sent by e-mail."""
        return self._activate(request, sip, validation.email_code(read_json_object(request)), "e-mail")

    @app.route("/accounts/<string:sip>/activate/phone", methods=["POST"])
    def activate_phone(self, request, sip):
        """Activate with the code sent by SMS."""
        return self._activate(request, sip, validation.phone_code(read_json_object(request)), "phone")

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
