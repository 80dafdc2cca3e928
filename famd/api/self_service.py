"""
What an authenticated, activated user changes on their own account:
e-mail (``POST /accounts/me/email/request``, confirmed by opening the
mailed link ``GET /accounts/me/email/confirm/{secret}``, unauthenticated:
the secret is the proof), password (``POST /accounts/me/password``) and
phone (``POST /accounts/me/phone/request``, then ``POST /accounts/me/phone``
with the SMS code).

Field rules and texts follow the 2021 account manager; the rules of each
change live in L{famd.flows}.
"""

from twisted.internet.defer import inlineCallbacks

from famd.api import render, validation
from famd.api.activation import phone_code
from famd.api.app import Api
from famd.api.flow_errors import flow_context, refusals_as_http
from famd.api.http import HTTPError, ValidationError, json_response, read_json_object
from famd.client_address import client_address
from famd.flows import email_change, password, phone_change
from famd.model import Conflict

app = Api.app

INCORRECT_OLD_PASSWORD = "Incorrect old password"


def required(data, field, errors):
    """Laravel's ``required``; True when present."""
    if validation.missing(data.get(field)):
        errors.add(field, "The %s field is required." % (validation.label(field),))
        return False
    return True


@app.route("/accounts/me/email/request", methods=["POST"], endpoint="me_email_request")
@refusals_as_http
@inlineCallbacks
def request_email_change(api, request):
    account = yield api.authenticator.authenticate(request)
    data = read_json_object(request)
    errors = validation.Errors()
    new_email = validation.email(data, errors) if required(data, "email", errors) else None
    if new_email is not None and new_email == account.email:
        errors.add("email", "The selected email is invalid.")
    if errors:
        raise ValidationError(errors.fields)
    yield email_change.request_change(flow_context(api), account, new_email)
    return json_response(request, {})


@app.route("/accounts/me/email/confirm/<string:secret>", methods=["GET"], endpoint="me_email_confirm")
@refusals_as_http
@inlineCallbacks
def confirm_email_change(api, request, secret):
    new_email = yield email_change.confirm_change(flow_context(api), secret)
    return json_response(
        request, {"message": "The e-mail address is now %s." % (new_email,), "email": new_email}
    )


@app.route("/accounts/me/password", methods=["POST"], endpoint="me_password")
@inlineCallbacks
def change_password(api, request):
    account = yield api.authenticator.authenticate(request)
    data = read_json_object(request)
    errors = validation.Errors()
    algorithm = validation.algorithm(data, errors)
    new_password = validation.required_text(data, "password", errors, minimum=6)
    if errors:
        raise ValidationError(errors.fields)
    if account.passwords:
        old = validation.required_text(data, "old_password", errors)
        if errors:
            raise ValidationError(errors.fields)
        if not password.old_password_matches(api.config, account, old):
            raise HTTPError(
                422, INCORRECT_OLD_PASSWORD, body={"errors": {"old_password": INCORRECT_OLD_PASSWORD}}
            )
    yield password.change_password(flow_context(api), account, new_password, algorithm)
    return json_response(request, [])


@app.route("/accounts/me/phone/request", methods=["POST"], endpoint="me_phone_request")
@refusals_as_http
@inlineCallbacks
def request_phone_change(api, request):
    account = yield api.authenticator.authenticate(request)
    data = read_json_object(request)
    errors = validation.Errors()
    taken = ()
    candidate = data.get("phone")
    if validation.is_text(candidate) and candidate:
        if (yield api.storage.phone_taken(candidate, account.id)):
            taken = ("phone",)
    phone = validation.phone(data, errors, taken) if required(data, "phone", errors) else None
    if errors:
        raise ValidationError(errors.fields)
    yield phone_change.request_change(flow_context(api), account, phone)
    return json_response(request, {})


@app.route("/accounts/me/phone", methods=["POST"], endpoint="me_phone")
@refusals_as_http
@inlineCallbacks
def confirm_phone_change(api, request):
    account = yield api.authenticator.authenticate(request)
    code = phone_code(read_json_object(request))
    address = client_address(request, api.config.trusted_proxies)
    try:
        updated = yield phone_change.confirm_change(flow_context(api), account, code, address)
    except Conflict:
        raise ValidationError({"phone": ["The phone has already been taken."]}) from None
    return json_response(request, render.account(api.config, updated))
