"""
The public token endpoints: ``POST /tokens`` pushes an account-creation
token to a device, ``POST /accounts/with-token`` trades it for a new, not
activated account.

Field rules follow the 2021 account manager (texts included); the account
fields follow the admin creation rules of L{famd.api.validation}.  The
token rules live in L{famd.flows.tokens}.
"""

import re

from twisted.internet.defer import inlineCallbacks

from famd.api import render, validation
from famd.api.app import Api
from famd.api.flow_errors import flow_context, refusals_as_http
from famd.api.http import ValidationError, json_response, read_json_object
from famd.client_address import client_address
from famd.flows import tokens
from famd.model import Conflict

app = Api.app

DEVICE_FIELDS = ("pn_provider", "pn_param", "pn_prid")
FIELD_LENGTH = 255
TOKEN_LENGTH = 13
_DOMAIN = re.compile(
    r"(?=.{3,64}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


@app.route("/tokens", methods=["POST"], endpoint="tokens_create")
@refusals_as_http
@inlineCallbacks
def create_token(api, request):
    data = read_json_object(request)
    errors = validation.Errors()
    device = [
        validation.required_text(data, field, errors, maximum=FIELD_LENGTH)
        for field in DEVICE_FIELDS
    ]
    if errors:
        raise ValidationError(errors.fields)
    yield tokens.send_token(flow_context(api), *device)
    return json_response(request, {})


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


def token_rule(data, stored, errors):
    """The ``token``: required, an unused token, 13 characters."""
    value = data.get("token")
    if validation.missing(value):
        errors.add("token", "The token field is required.")
        return
    if not validation.is_text(value):
        errors.add("token", "The token must be a string.")
        return
    if stored is None:
        errors.add("token", "The selected token is invalid.")
    if len(value) != TOKEN_LENGTH:
        errors.add("token", "The token must be %d characters." % (TOKEN_LENGTH,))


def with_token_rules(data, config, taken, stored):
    """
    Every rule of ``POST /accounts/with-token``, in the 2021 order.

    @return: (values, L{validation.Errors}).
    """
    errors = validation.Errors()
    values = {"username": validation.username(data, errors, taken)}
    values["algorithm"] = validation.algorithm(data, errors)
    values["password"] = validation.required_text(data, "password", errors, minimum=6)
    values["domain"] = domain(data, config, errors)
    token_rule(data, stored, errors)
    return values, errors


@inlineCallbacks
def _looked_up(api, data):
    """What the rules need from storage: (taken fields, stored token text)."""
    username = data.get("username")
    chosen = domain(data, api.config, validation.Errors())
    taken = []
    if validation.is_text(username) and username and chosen is not None:
        taken = yield api.storage.account_conflicts(username, chosen, None)
    token = data.get("token")
    stored = None
    if validation.is_text(token) and len(token) == TOKEN_LENGTH:
        stored = yield tokens.usable_token(api.storage, token)
    return taken, stored


@app.route("/accounts/with-token", methods=["POST"], endpoint="accounts_with_token")
@refusals_as_http
@inlineCallbacks
def create_with_token(api, request):
    data = read_json_object(request)
    taken, stored = yield _looked_up(api, data)
    values, errors = with_token_rules(data, api.config, taken, stored)
    if errors:
        raise ValidationError(errors.fields)
    try:
        account = yield tokens.create_account(
            flow_context(api),
            values["username"],
            values["password"],
            values["algorithm"],
            values["domain"],
            stored,
            client_address(request, api.config.trusted_proxies),
        )
    except Conflict as conflict:
        taken = list(taken) + ["username"] if conflict.field == "username" else taken
        stored = None if conflict.field == "token" else stored
        raise ValidationError(with_token_rules(data, api.config, taken, stored)[1].fields)
    return json_response(request, render.account(api.config, account))
