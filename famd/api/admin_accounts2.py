"""
The administrators' account routes FAM 2.x added: ``PUT /accounts/{id}``,
``POST /accounts/{id}/activate|deactivate|block|unblock``, ``GET
/accounts/{sip}/search`` and ``/accounts/{email}/search-by-email``, ``GET
/accounts/{id}/devices`` and ``DELETE /accounts/{id}/devices/{uuid}``,
``POST /accounts/{id}/send_reset_password_email``.

They answer the 2.x account object (L{famd.api.render2}); the 2021 admin
routes (L{famd.api.admin_accounts}) keep their shapes.  Administrators
authenticate by API key or DIGEST, as in FAM 2.0 (2.1 takes the key only).
famd has one SIP domain and no Spaces: every administrator sees every
account, as FAM's super administrators do.
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.accounts import password_rows
from famd.api import shapes, validation
from famd.api.account_object import account_object
from famd.api.admin_accounts import administered_account, no_account
from famd.api.declare import Response, declare
from famd.api.devices import REMOVED, devices_of, remove_device_of
from famd.api.fields import Algorithm, Body, Boolean, Dtmf, Email, OptionalText, Phone, Text, Username
from famd.api.http import authenticated, json_response, origin, read_json_object
from famd.errors import Conflict, Invalid, NotFound
from famd.flows import reset_password
from famd.model import AccountChanges
from famd.sip import MalformedAddress, parse_address

NO_SIP = "SIP address not found"
NO_EMAIL = "Email address not found"
DEFAULT_ALGORITHM = "SHA-256"
"""FAM 2.x's default password algorithm, for a new password sent without one."""

CHANGES = Body(
    Username(keeps_current=True,
             description="Required; a new one is checked as at creation and must be unused "
                         "(the account's current name passes as it is)."),
    Text("password", minimum=validation.PASSWORD_LENGTH, optional=True,
         description="A new password; absent or empty: unchanged."),
    Algorithm(default=DEFAULT_ALGORITHM, description="How a new password is hashed."),
    Email(description="Written as sent: null when omitted."),
    OptionalText("display_name", description="Written as sent: null when omitted."),
    Phone(description="An E.164 number, unused; written as sent: null when omitted."),
    Dtmf(description="Written as sent: null when omitted."),
    Boolean("admin", keep_null=True, description="Applied when present."),
    Boolean("activated", keep_null=True, description="Applied when present."),
    Boolean("blocked", keep_null=True, description="Applied when present."),
    description='FAM 2.x: "resend all the parameters". domain is ignored: an account keeps its domain.',
)
"""The rules of ``PUT /accounts/{id}`` but uniqueness (see L{validation.with_taken})."""


def account_changes(data, current=None):
    """
    L{CHANGES}'s check: C{current} is the account's username, None for an
    unknown account (FAM 2.x has no minimum length, so an account keeps a
    short name made by another tool).

    @return: (values, L{validation.Errors}).
    """
    return CHANGES.check(data, current=current)


@inlineCallbacks
def fields_taken_by_others(storage, account, data):
    """The unique fields of C{data} (changes of C{account}) an account other than C{account} already uses."""
    username, phone = validation.unique_candidates(data)
    taken = []
    if username is not None:
        holder = yield storage.find_account(username, account.domain)
        if holder is not None and holder.id != account.id:
            taken.append("username")
    if phone is not None and (yield storage.phone_taken(phone, account.id)):
        taken.append("phone")
    return taken


class AdminAccounts2:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param storage: the L{famd.interfaces.IStorage}.
    @param config: the L{famd.config.Config}.
    @param now: a callable returning the current aware UTC datetime.
    @param context: the L{famd.flows.Context} (e-mail, templates, throttle).
    @param registrar: the L{famd.interfaces.IRegistrar}, or None when the
        devices feature is off.
    """

    app = Klein()

    def __init__(self, authenticator, storage, config, now, context, registrar=None):
        self._authenticator = authenticator
        self._storage = storage
        self._config = config
        self._now = now
        self._context = context
        self._registrar = registrar

    def _admin(self, request):
        return authenticated(self._authenticator, request, admin=True)

    def _account(self, request, account_id):
        return administered_account(self._authenticator, self._storage, request, account_id)

    # ---------------------------------------------------------- PUT

    @app.route("/accounts/<int:account_id>", methods=["PUT"])
    @declare(
        "Rewrite an account",
        """An administrator rewrites an account with the fields sent: optional fields left out
        become null, a new password replaces the account's passwords, admin, activated and
        blocked apply when present.""",
        auth="admin", generation="2.x", users=("tools",), body=CHANGES,
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 403: "Message", 404: "Message",
                   422: "Laravel422", 429: "TooMany"},
    )
    @inlineCallbacks
    def update(self, request, account_id):
        """Rewrite an account with the fields sent ("resend all the parameters")."""
        yield self._admin(request)
        data = read_json_object(request)
        account = yield self._storage.get_account(account_id)
        values, errors = account_changes(data, account.username if account is not None else None)
        if errors:
            taken = yield self._taken(account_id, data)
            raise Invalid(validation.with_taken(errors.fields, taken, CHANGES.names))
        if account is None:
            raise no_account(account_id)
        passwords = None
        if values["password"] is not None:
            passwords = password_rows(
                self._config, values["username"], account.domain, values["password"],
                values["algorithm"])
        changes = AccountChanges(
            username=values["username"],
            email=values["email"],
            display_name=values["display_name"],
            dtmf_protocol=values["dtmf_protocol"],
            phone=values["phone"],
            passwords=passwords,
            admin=values["admin"],
            activated=values["activated"],
            blocked=values["blocked"],
        )
        try:
            updated = yield self._storage.update_account(account_id, changes, self._now())
        except Conflict as conflict:
            taken = yield self._taken(account_id, data)
            raise Invalid(
                validation.with_taken({}, set(taken) | {conflict.field}, CHANGES.names)) from None
        if updated is None:
            raise no_account(account_id)
        body = yield account_object(self._storage, self._config, updated)
        return json_response(request, body)

    @inlineCallbacks
    def _taken(self, account_id, data):
        """The unique fields of C{data} an account other than C{account_id} already uses."""
        account = yield self._storage.get_account(account_id)
        if account is None:
            return []
        return (yield fields_taken_by_others(self._storage, account, data))

    # ---------------------------------------------------------- states

    @app.route("/accounts/<int:account_id>/activate", methods=["POST"])
    @declare(
        "Activate an account",
        """An administrator activates an account.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 403: "Message", 404: "Message", 429: "TooMany"},
    )
    def activate2(self, request, account_id):
        """Activate an account."""
        return self._set(request, account_id, self._storage.set_activated, True)

    @app.route("/accounts/<int:account_id>/deactivate", methods=["POST"])
    @declare(
        "Deactivate an account",
        """An administrator deactivates an account.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 403: "Message", 404: "Message", 429: "TooMany"},
    )
    def deactivate2(self, request, account_id):
        """Deactivate an account."""
        return self._set(request, account_id, self._storage.set_activated, False)

    @app.route("/accounts/<int:account_id>/block", methods=["POST"])
    @declare(
        "Block an account",
        """An administrator blocks an account: it authenticates nowhere, is provisioned by no token, and Flexisip's request refuses it.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 403: "Message", 404: "Message", 429: "TooMany"},
    )
    def block(self, request, account_id):
        """Block an account: it authenticates nowhere, and Flexisip's request refuses it."""
        return self._set(request, account_id, self._storage.set_blocked, True)

    @app.route("/accounts/<int:account_id>/unblock", methods=["POST"])
    @declare(
        "Unblock an account",
        """An administrator unblocks an account.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 403: "Message", 404: "Message", 429: "TooMany"},
    )
    def unblock(self, request, account_id):
        """Unblock an account."""
        return self._set(request, account_id, self._storage.set_blocked, False)

    @inlineCallbacks
    def _set(self, request, account_id, setter, value):
        yield self._admin(request)
        account = yield setter(account_id, value)
        if account is None:
            raise no_account(account_id)
        body = yield account_object(self._storage, self._config, account)
        return json_response(request, body)

    # ---------------------------------------------------------- search

    @app.route("/accounts/<string:sip>/search", methods=["GET"])
    @declare(
        "The account of a SIP address",
        """An administrator finds an account by its SIP address (user@domain); FAM 2.1 adds
        call forwardings, which famd keeps none of.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def search(self, request, sip):
        """The account of a SIP address (``user@domain``)."""
        yield self._admin(request)
        try:
            username, domain = parse_address(sip)
        except MalformedAddress:
            raise NotFound(NO_SIP) from None
        account = yield self._storage.find_account(username, domain)
        if account is None:
            raise NotFound(NO_SIP)
        body = yield account_object(self._storage, self._config, account)
        return json_response(request, _found(body))

    @app.route("/accounts/<string:email>/search-by-email", methods=["GET"])
    @declare(
        "The account of an e-mail address",
        """An administrator finds the first account (lowest id) with an e-mail address.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def search_by_email(self, request, email):
        """The first account (lowest id) with an e-mail address."""
        yield self._admin(request)
        account = None
        if validation.is_text(email):
            account = yield self._storage.find_account_by_email(email)
        if account is None:
            raise NotFound(NO_EMAIL)
        body = yield account_object(self._storage, self._config, account)
        return json_response(request, _found(body))

    # ---------------------------------------------------------- devices

    @app.route("/accounts/<int:account_id>/devices", methods=["GET"])
    @declare(
        "An account's devices",
        """An administrator reads the devices registered for an account, keyed by uuid.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("The devices.", shapes.DEVICES), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def account_devices(self, request, account_id):
        """An account's registered devices, keyed by uuid (``{}`` when none)."""
        account = yield self._account(request, account_id)
        body = yield devices_of(self._registrar, account)
        return json_response(request, body)

    @app.route("/accounts/<int:account_id>/devices/<string:uuid>", methods=["DELETE"])
    @declare(
        "Unregister an account's device",
        """An administrator removes the registration of one of an account's devices.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: Response("Removed.", shapes.constant(REMOVED)), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def remove_account_device(self, request, account_id, uuid):
        """Unregister one of an account's devices."""
        account = yield self._account(request, account_id)
        yield remove_device_of(self._registrar, account, uuid)
        return json_response(request, REMOVED)

    # ---------------------------------------------------------- e-mail

    @app.route("/accounts/<int:account_id>/send_reset_password_email", methods=["POST"])
    @declare(
        "Mail an account a password reset link",
        """An administrator mails the account a single-use link where its owner chooses a new
        password; the account needs an e-mail address.""",
        auth="admin", generation="2.x", users=("tools",),
        responses={200: shapes.EMPTY_HTML, 403: "Message", 404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def send_reset_password_email(self, request, account_id):
        """Mail the account a single-use link to choose a new password; 200 with an empty body."""
        account = yield self._account(request, account_id)
        yield reset_password.send_link(
            self._context, account, *origin(request, self._config.proxies))
        # Laravel's answer for a controller returning nothing.
        request.setHeader(b"Content-Type", b"text/html; charset=UTF-8")
        return b""


def _found(body):
    """The account object of the search routes: FAM 2.1 adds the call forwardings (famd keeps none)."""
    body["call_forwardings"] = []
    return body
