"""
The administrators' account routes: ``POST /accounts``, ``GET /accounts``
(Laravel's paginated listing), ``GET``/``DELETE /accounts/{id}``, ``GET
/accounts/{id}/activate`` and ``/deactivate``.
"""

import re

from klein import Klein
from twisted.internet.defer import inlineCallbacks, succeed

from famd.accounts import USER_AGENT, new_account
from famd.api import render, shapes, validation
from famd.api.declare import Query, Response, declare
from famd.api.fields import Algorithm, Body, Boolean, DateTime, Email, Phone, Text, Username
from famd.api.http import authenticated, json_response, read_json_object
from famd.client_address import client_address
from famd.errors import Conflict, Invalid, NotFound

PER_PAGE = 20
MAX_PAGE = 2**63 - 1
_PAGE = re.compile(r"^\s*\+?0*([0-9]{1,19})\s*$")

NEW_ACCOUNT = Body(
    Username(),
    Algorithm(),
    Text("password", minimum=validation.PASSWORD_LENGTH),
    Email(),
    Boolean("activated", description="Activated at once (default false)."),
    Boolean("admin", description="An administrator (default false)."),
    DateTime("confirmation_key_expires", key="activation_expires",
             description="When the activation expires, UTC, Y-m-d H:i:s (a date that exists)."),
    Phone(),
    description="The new account; domain is ignored (the configured sip_domain). "
                "username and phone must be unused.",
)
"""The admin ``POST /accounts`` rules but uniqueness, which needs the database (L{validation.with_taken})."""


def no_account(account_id):
    """The 2021 refusal for an unknown account id."""
    return NotFound("No query results for model [App\\Account] %d" % (account_id,))


@inlineCallbacks
def administered_account(authenticator, storage, request, account_id):
    """
    Authenticate an administrator, then fire with account C{account_id}
    (L{no_account} when unknown): the start of every admin route on one
    account.
    """
    yield authenticated(authenticator, request, admin=True)
    account = yield storage.get_account(account_id)
    if account is None:
        raise no_account(account_id)
    return account


def page_number(request):
    """Laravel's ``?page=``: a positive integer, anything else is page 1."""
    values = (request.args or {}).get(b"page") or [b""]
    match = _PAGE.match(values[-1].decode("ascii", "replace"))
    number = int(match.group(1)) if match else 1
    return number if 1 <= number <= MAX_PAGE else 1


def fields_taken(storage, sip_domain, data):
    """Fire with the unique fields of C{data} (a new account's) another account already uses."""
    username, phone = validation.unique_candidates(data)
    if username is None and phone is None:
        return succeed([])
    return storage.account_conflicts(username, sip_domain, phone)


class AdminAccounts:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param storage: the L{famd.interfaces.IAccountStore}.
    @param config: the L{famd.config.Config} (sip_domain, realm, public_url,
        trusted_proxies).
    @param now: a callable returning the current aware UTC datetime.
    """

    app = Klein()

    def __init__(self, authenticator, storage, config, now):
        self._authenticator = authenticator
        self._storage = storage
        self._config = config
        self._now = now

    def _admin(self, request):
        return authenticated(self._authenticator, request, admin=True)

    @app.route("/accounts", methods=["POST"])
    @declare(
        "Create an account",
        """An administrator creates an account on the configured SIP domain with a password,
        activated or not, administrator or not; the answer is the 2021 account object with its
        confirmation key.""",
        auth="admin", generation="both", users=("tools",), body=NEW_ACCOUNT,
        responses={200: Response("The new account.", shapes.ACCOUNT_2021, links=(
                       ("ShowAccount", "AdminAccounts_show", "account_id"),
                       ("DeleteAccount", "AdminAccounts_delete", "account_id"))),
                   403: "Message",
                   422: "Laravel422", 429: "TooMany"},
    )
    @inlineCallbacks
    def create(self, request):
        """Create an account with the given fields."""
        yield self._admin(request)
        data = read_json_object(request)
        values, errors = NEW_ACCOUNT.check(data)
        if errors:
            taken = yield self._taken(data)
            raise Invalid(validation.with_taken(errors.fields, taken, NEW_ACCOUNT.names))
        config = self._config
        fresh = new_account(
            config,
            self._now(),
            values["username"],
            values["password"],
            values["algorithm"],
            domain=config.sip_domain,
            activated=values["activated"],
            admin=values["admin"],
            email=values["email"],
            phone=values["phone"],
            activation_expires=values["activation_expires"],
            ip_address=client_address(request, config.proxies),
            user_agent=USER_AGENT,
        )
        try:
            account = yield self._storage.create_and_load_account(fresh)
        except Conflict as conflict:
            # Every unique field taken, not only the one the transaction met.
            taken = yield self._taken(data)
            raise Invalid(
                validation.with_taken({}, set(taken) | {conflict.field}, NEW_ACCOUNT.names)) from None
        return json_response(request, render.account(config, account, confirmation_key=True))

    def _taken(self, data):
        """Fire with the unique fields of C{data} another account already uses."""
        return fields_taken(self._storage, self._config.sip_domain, data)

    @app.route("/accounts", methods=["GET"])
    @declare(
        "List the accounts",
        """An administrator reads the accounts by id, twenty a page, as Laravel's paginated
        listing.""",
        auth="admin", generation="both", users=("tools",),
        query=(Query("page", "The page, from 1; anything else is page 1."),),
        responses={200: Response("One page, %d accounts at most." % (PER_PAGE,), shapes.PAGE_2021), 403: "Message", 429: "TooMany"},
    )
    def listing(self, request):
        """One page of accounts, ordered by id (plain callbacks: the busiest admin route)."""
        number = page_number(request)
        d = self._admin(request)
        d.addCallback(lambda _: self._storage.list_accounts((number - 1) * PER_PAGE, PER_PAGE))
        return d.addCallback(self._page, request, number)

    def _page(self, found, request, number):
        accounts, total = found
        return json_response(request, render.page(self._config, accounts, number, PER_PAGE, total))

    @app.route("/accounts/<int:account_id>", methods=["GET"])
    @declare(
        "One account by id",
        """An administrator reads an account as the 2021 account object with its confirmation
        key (liblinphone-tester reads it here).""",
        auth="admin", generation="both", users=("tools", "tester"),
        responses={200: Response("The account.", shapes.ACCOUNT_2021), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def show(self, request, account_id):
        """One account by id."""
        account = yield administered_account(self._authenticator, self._storage, request, account_id)
        body = render.account(self._config, account, confirmation_key=True, relations=False)
        return json_response(request, body)

    @app.route("/accounts/<int:account_id>", methods=["DELETE"], endpoint="delete")
    @declare(
        "Delete an account",
        """An administrator deletes an account with its passwords, keys and pending codes.""",
        auth="admin", generation="both", users=("tools", "tester"),
        responses={200: Response("Deleted.", shapes.EMPTY_OBJECT), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def delete(self, request, account_id):
        """Delete one account by id."""
        yield self._admin(request)
        if not (yield self._storage.delete_account(account_id)):
            raise no_account(account_id)
        return json_response(request, {})

    @app.route("/accounts/<int:account_id>/activate", methods=["GET"])
    @declare(
        "Activate an account (2021 GET form)",
        """An administrator activates an account; FAM 2.x takes POST instead.""",
        auth="admin", generation="2021", users=("tools",), deprecated=True,
        responses={200: Response("The account.", shapes.ACCOUNT_2021), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    def activate(self, request, account_id):
        """Activate one account by id."""
        return self._set_activated(request, account_id, True)

    @app.route("/accounts/<int:account_id>/deactivate", methods=["GET"])
    @declare(
        "Deactivate an account (2021 GET form)",
        """An administrator deactivates an account; FAM 2.x takes POST instead.""",
        auth="admin", generation="2021", users=("tools",), deprecated=True,
        responses={200: Response("The account.", shapes.ACCOUNT_2021), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    def deactivate(self, request, account_id):
        """Deactivate one account by id."""
        return self._set_activated(request, account_id, False)

    @inlineCallbacks
    def _set_activated(self, request, account_id, activated):
        yield self._admin(request)
        account = yield self._storage.set_activated(account_id, activated)
        if account is None:
            raise no_account(account_id)
        return json_response(request, render.account(self._config, account))
