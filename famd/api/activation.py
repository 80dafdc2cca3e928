"""
The public activation endpoints: ``POST /accounts/{sip}/activate/email``
(the 13-character code sent by e-mail) and ``.../activate/phone`` (the
4-digit code sent by SMS).

404 for an unknown account or a wrong code, 403 when the activation
expired, 429 (with ``Retry-After``) after too many wrong codes, the
activated account otherwise.  The rules live in L{famd.flows.activation}.
"""

import re

from famd.api import render, validation
from famd.api.app import Api
from famd.api.flow_errors import flow_context, refusals_as_http
from famd.api.http import ValidationError, json_response, read_json_object
from famd.client_address import client_address
from famd.flows import activation

app = Api.app

EMAIL_CODE_LENGTH = 13
_PHONE_CODE = re.compile(r"[0-9]{4}")


def split_sip(sip):
    """(username, domain) of ``[sip:]user@domain``; empty strings when malformed."""
    username, at, domain = sip.removeprefix("sip:").rpartition("@")
    return (username, domain) if at and username and domain else ("", "")


def email_code(data):
    """The ``code`` of an e-mail activation: exactly 13 characters."""
    code = data.get("code")
    if validation.missing(code):
        raise ValidationError({"code": ["The code field is required."]})
    if not validation.is_text(code) or len(code) != EMAIL_CODE_LENGTH:
        raise ValidationError({"code": ["The code must be %d characters." % (EMAIL_CODE_LENGTH,)]})
    return code


def phone_code(data):
    """A 4-digit ``code`` (phone activation, phone change)."""
    code = data.get("code")
    if validation.missing(code):
        raise ValidationError({"code": ["The code field is required."]})
    if not validation.is_text(code) or not _PHONE_CODE.fullmatch(code):
        raise ValidationError({"code": ["The code must be 4 digits."]})
    return code


def _activate(api, request, sip, code, how):
    username, domain = split_sip(sip)
    d = activation.activate(
        flow_context(api),
        username,
        domain,
        code,
        client_address(request, api.config.trusted_proxies),
        how,
    )
    return d.addCallback(lambda account: json_response(request, render.account(api.config, account)))


@app.route("/accounts/<string:sip>/activate/email", methods=["POST"], endpoint="accounts_activate_email")
@refusals_as_http
def activate_email(api, request, sip):
    return _activate(api, request, sip, email_code(read_json_object(request)), "e-mail")


@app.route("/accounts/<string:sip>/activate/phone", methods=["POST"], endpoint="accounts_activate_phone")
@refusals_as_http
def activate_phone(api, request, sip):
    return _activate(api, request, sip, phone_code(read_json_object(request)), "phone")
