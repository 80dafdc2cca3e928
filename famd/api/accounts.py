"""
The account endpoints of api.md, registered on L{famd.api.app.Api.app}.

Public: ``GET /accounts/{sip}/info``.  User (authenticated, activated):
``GET`` and ``DELETE /accounts/me``.  Admin: ``POST /accounts``, ``GET
/accounts`` (paginated), ``GET``/``DELETE /accounts/{id}``, ``GET
/accounts/{id}/activate`` and ``/deactivate``.  Each request makes one
storage trip for its own work beside authentication's.
"""

import re

from twisted.internet.defer import inlineCallbacks

from famd import auth  # a module reference: famd.auth imports famd.api.http
from famd.accounts import USER_AGENT, new_account
from famd.api import render, validation
from famd.api.app import Api
from famd.api.http import HTTPError, ValidationError, json_response, read_json_object
from famd.client_address import client_address
from famd.model import Conflict

PER_PAGE = 20
MAX_ID = 2**31 - 1
"""The largest ``accounts.id`` every engine's integer column can hold."""
MAX_PAGE = 2**63 - 1
_PAGE = re.compile(r"^\s*\+?0*([0-9]{1,19})\s*$")

app = Api.app


def no_account(account_id=None):
    if account_id is None:
        return HTTPError(404, auth.NO_ACCOUNT)
    return HTTPError(404, "No query results for model [App\\Account] %d" % (account_id,))


def page_number(request):
    """Laravel's ``?page=``: a positive integer, anything else is page 1."""
    values = (request.args or {}).get(b"page") or [b""]
    match = _PAGE.match(values[-1].decode("ascii", "replace"))
    number = int(match.group(1)) if match else 1
    return number if 1 <= number <= MAX_PAGE else 1


@app.route("/accounts/<string:sip>/info", methods=["GET"], endpoint="accounts_info")
def info(api, request, sip):
    # The busiest routes chain plain callbacks rather than inlineCallbacks.
    try:
        username, domain = auth.parse_from(sip)
    except auth.MalformedAddress:
        raise no_account() from None
    return api.storage.find_account(username, domain).addCallback(_info_body, api, request)


def _info_body(account, api, request):
    if account is None:
        raise no_account()
    return json_response(request, render.info(api.config, account))


@app.route("/accounts/me", methods=["GET"], endpoint="accounts_me")
def me(api, request):
    d = api.authenticator.authenticate(request)
    return d.addCallback(lambda account: json_response(request, render.account(api.config, account)))


@app.route("/accounts/me", methods=["DELETE"], endpoint="accounts_me_delete")
@inlineCallbacks
def delete_me(api, request):
    account = yield api.authenticator.authenticate(request)
    if not (yield api.storage.delete_account(account.id)):
        raise no_account()
    return json_response(request, 1)


@app.route("/accounts", methods=["POST"], endpoint="accounts_create")
@inlineCallbacks
def create(api, request):
    yield api.authenticator.authenticate(request, admin=True)
    data = read_json_object(request)
    values, errors = validation.new_account(data)
    if errors:
        raise (yield _validation_error(api, data))
    fresh = new_account(
        api.config,
        api.now(),
        values["username"],
        values["password"],
        values["algorithm"],
        domain=api.config.sip_domain,
        activated=values["activated"],
        admin=values["admin"],
        email=values["email"],
        phone=values["phone"],
        activation_expires=values["activation_expires"],
        ip_address=client_address(request, api.config.trusted_proxies),
        user_agent=USER_AGENT,
    )
    try:
        account = yield api.storage.create_and_load_account(fresh)
    except Conflict as conflict:
        raise (yield _validation_error(api, data, conflict.field)) from None
    return json_response(request, render.account(api.config, account, confirmation_key=True))


@inlineCallbacks
def _validation_error(api, data, clash=None):
    """
    The 422 listing every failing field, uniqueness included (one read
    trip); C{clash} is a field the create transaction found taken.
    """
    username, phone = validation.unique_candidates(data)
    taken = []
    if username is not None or phone is not None:
        taken = yield api.storage.account_conflicts(username, api.config.sip_domain, phone)
    if clash is not None and clash not in taken:
        taken = list(taken) + [clash]
    return ValidationError(validation.new_account(data, taken)[1].fields)


@app.route("/accounts", methods=["GET"], endpoint="accounts_list")
def listing(api, request):
    d = api.authenticator.authenticate(request, admin=True)
    return d.addCallback(_list_page, api, request)


def _list_page(_, api, request):
    number = page_number(request)

    def answer(result):
        accounts, total = result
        return json_response(request, render.page(api.config, accounts, number, PER_PAGE, total))

    return api.storage.list_accounts((number - 1) * PER_PAGE, PER_PAGE).addCallback(answer)


@app.route("/accounts/<int:account_id>", methods=["GET"], endpoint="accounts_show")
@inlineCallbacks
def show(api, request, account_id):
    yield api.authenticator.authenticate(request, admin=True)
    account = (yield api.storage.get_account(account_id)) if account_id <= MAX_ID else None
    if account is None:
        raise no_account(account_id)
    body = render.account(api.config, account, confirmation_key=True, relations=False)
    return json_response(request, body)


@app.route("/accounts/<int:account_id>", methods=["DELETE"], endpoint="accounts_delete")
@inlineCallbacks
def delete(api, request, account_id):
    yield api.authenticator.authenticate(request, admin=True)
    deleted = (yield api.storage.delete_account(account_id)) if account_id <= MAX_ID else False
    if not deleted:
        raise no_account(account_id)
    return json_response(request, {})


@app.route("/accounts/<int:account_id>/activate", methods=["GET"], endpoint="accounts_activate")
def activate(api, request, account_id):
    return _set_activated(api, request, account_id, True)


@app.route("/accounts/<int:account_id>/deactivate", methods=["GET"], endpoint="accounts_deactivate")
def deactivate(api, request, account_id):
    return _set_activated(api, request, account_id, False)


@inlineCallbacks
def _set_activated(api, request, account_id, activated):
    yield api.authenticator.authenticate(request, admin=True)
    account = None
    if account_id <= MAX_ID:
        account = yield api.storage.set_activated(account_id, activated)
    if account is None:
        raise no_account(account_id)
    return json_response(request, render.account(api.config, account))
