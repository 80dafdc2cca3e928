"""
What an authenticated user changes on their own account: e-mail (``POST
/accounts/me/email/request``, confirmed by opening the mailed link ``GET
/accounts/me/email/confirm/{secret}``, unauthenticated: the secret is the
proof, or, FAM 2.x, by sending the mailed code to ``POST
/accounts/me/email``), password (``POST /accounts/me/password``) and phone
(``POST /accounts/me/phone/request``, then ``POST /accounts/me/phone`` with
the SMS code).

The four linking routes (phone and e-mail, request and confirmation) also
take accounts not yet activated, as FAM 2.x's sign-up flows need: a
confirmed code activates the account.  Such an account asks for a code only
once an account-creation token was consumed for it (L{famd.flows.validated}:
403 ``Account unvalidated``); every other route refuses it as in 2021.

Field rules and texts follow the 2021 account manager (the 2021 routes keep
their answers byte for byte); ``POST /accounts/me/email``, new in FAM 2.x,
answers FAM 2.x's (L{famd.api.render2}).  The rules of each change live in
L{famd.flows}.
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import render, shapes, validation
from famd.api.account_object import account_object
from famd.api.declare import Response, declare
from famd.api.fields import Algorithm, Body, Code, Email, Phone, Text
from famd.api.http import authenticated, json_response, origin, read_json_object
from famd.client_address import client_address
from famd.errors import Conflict, Invalid
from famd.flows import email_change, password, phone_change
from famd.flows.validated import require_validated

INCORRECT_OLD_PASSWORD = "Incorrect old password"


NEW_EMAIL = Body(Email(required=True, description="The new address (not the current one)."))
NEW_PHONE = Body(Phone(required=True, description="The new E.164 number, unused by another account."))
PASSWORD = Body(
    Algorithm(),
    Text("password", minimum=validation.PASSWORD_LENGTH, description="The new password."),
    Text("old_password", required=False,
         description="The current password: required when the account has one."),
)
"""The body of ``POST /accounts/me/password``: C{old_password} is checked once the others pass."""
CODE = Body(Code(digits=validation.PHONE_CODE_DIGITS, description="The code sent by SMS or e-mail."))


class SelfService:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param context: the L{famd.flows.Context}.
    """

    app = Klein()

    def __init__(self, authenticator, context):
        self._authenticator = authenticator
        self._context = context
        self._config = context.config

    def _linking(self, request):
        """The caller of a linking route, activated or not (the route checks the rest)."""
        return authenticated(self._authenticator, request, unactivated=True)

    def _origin(self, request):
        """(client address, User-Agent) of C{request}, kept with a code (L{origin})."""
        return origin(request, self._config.proxies)

    @app.route("/accounts/me/email/request", methods=["POST"])
    @declare(
        "Ask to change the e-mail address",
        """The account (activated or not, validated) asks to change its e-mail address: famd
        mails the new address a confirmation link and a code.""",
        auth="linking", generation="both", users=("Linphone 6", "FlexiAPIClient"), body=NEW_EMAIL,
        responses={200: Response("Mailed.", shapes.EMPTY_OBJECT), 403: "Message", 422: "Laravel422",
                   429: "TooMany", 503: "Unavailable"},
    )
    @inlineCallbacks
    def request_email_change(self, request):
        """Mail a confirmation link and code to a new address."""
        account = yield self._linking(request)
        yield require_validated(self._context, account)
        values, errors = NEW_EMAIL.check(read_json_object(request))
        new_email = values["email"]
        if new_email is not None and new_email == account.email:
            errors.add("email", "The selected email is invalid.")
        if errors:
            raise Invalid(errors.fields)
        ip, agent = self._origin(request)
        yield email_change.request_change(self._context, account, new_email, ip, agent)
        return json_response(request, {})

    @app.route("/accounts/me/email", methods=["POST"])
    @declare(
        "Confirm the e-mail change with its code",
        """The account applies its pending e-mail change with the mailed code, which also
        activates it; the answer is the FAM 2.x account object.""",
        auth="linking", generation="2.x", users=("Linphone 6",), body=CODE,
        responses={200: Response("The account.", shapes.ACCOUNT_2X), 404: "Message", 410: "Message",
                   422: "Laravel422", 429: "TooMany"},
    )
    @inlineCallbacks
    def confirm_email_code(self, request):
        """Apply the pending e-mail change with its code (FAM 2.x)."""
        account = yield self._linking(request)
        code = CODE.valid(read_json_object(request))["code"]
        address = client_address(request, self._config.proxies)
        updated = yield email_change.confirm_code(self._context, account, code, address)
        body = yield account_object(self._context.storage, self._config, updated)
        return json_response(request, body)

    @app.route("/accounts/me/email/confirm/<string:secret>", methods=["GET"])
    @declare(
        "Confirm the e-mail change by its link",
        """Opening the mailed link applies the pending change: the secret in the path is the
        proof. FAM 2.x confirms by a code instead.""",
        auth="public", generation="2021", users=("a browser",), deprecated=True,
        responses={200: Response("Changed.", shapes.EMAIL_CONFIRMED), 403: "Message", 404: "Message",
                   429: "TooMany"},
    )
    @inlineCallbacks
    def confirm_email_change(self, request, secret):
        """Apply the change whose link this is."""
        address = client_address(request, self._config.proxies)
        new_email = yield email_change.confirm_change(self._context, secret, address)
        return json_response(
            request, {"message": "The e-mail address is now %s." % (new_email,), "email": new_email}
        )

    @app.route("/accounts/me/password", methods=["POST"])
    @declare(
        "Change the caller's password",
        """The authenticated account replaces its passwords by a new one, hashed with the
        algorithm sent; the old password is required when the account has one. A wrong old
        password is the 2021 answer, errors without message.""",
        auth="account", generation="both", users=("FlexiAPIClient", "tools"), body=PASSWORD,
        responses={200: Response("Changed.", shapes.EMPTY_LIST), 422: Response(
            "A field breaks a rule (Laravel's 422), or the old password is wrong (errors alone).",
            {"oneOf": [{"$ref": "#/components/schemas/Laravel422"}, shapes.wrong_old_password(INCORRECT_OLD_PASSWORD)]}),
                   429: "TooMany"},
    )
    @inlineCallbacks
    def change_password(self, request):
        """Replace the caller's passwords by a new one."""
        account = yield authenticated(self._authenticator, request)
        data = read_json_object(request)
        values = PASSWORD.valid(data, only=("algorithm", "password"))
        algorithm, new_password = values["algorithm"], values["password"]
        if account.passwords:
            old = PASSWORD.valid(data, only=("old_password",))["old_password"]
            if not password.old_password_matches(self._config, account, old):
                # The 2021 answer: field errors without Laravel's message.
                raise Invalid({"old_password": INCORRECT_OLD_PASSWORD}, laravel=False)
        yield password.change_password(self._context, account, new_password, algorithm)
        return json_response(request, [])

    @app.route("/accounts/me/phone/request", methods=["POST"])
    @declare(
        "Ask to change the phone number",
        """The account (activated or not, validated) asks to change its phone number: famd
        sends a 4-digit code by SMS to the new number.""",
        auth="linking", generation="both", users=("Linphone 6", "FlexiAPIClient"), body=NEW_PHONE,
        responses={200: Response("Sent.", shapes.EMPTY_OBJECT), 403: "Message", 422: "Laravel422",
                   429: "TooMany", 503: "Unavailable"},
    )
    @inlineCallbacks
    def request_phone_change(self, request):
        """Send a code by SMS to a new number."""
        account = yield self._linking(request)
        yield require_validated(self._context, account)
        data = read_json_object(request)
        taken = ()
        candidate = data.get("phone")
        if validation.is_text(candidate) and candidate:
            if (yield self._context.storage.phone_taken(candidate, account.id)):
                taken = ("phone",)
        phone = NEW_PHONE.valid(data, taken=taken)["phone"]
        ip, agent = self._origin(request)
        yield phone_change.request_change(self._context, account, phone, ip, agent)
        return json_response(request, {})

    @app.route("/accounts/me/phone", methods=["POST"])
    @declare(
        "Confirm the phone change with its code",
        """The account applies its pending phone change with the SMS code, which also activates
        it; the answer is the 2021 account object.""",
        auth="linking", generation="both", users=("Linphone 6", "FlexiAPIClient"), body=CODE,
        responses={200: Response("The account.", shapes.ACCOUNT_2021), 403: "Message", 404: "Message",
                   410: "Message", 422: "Laravel422", 429: "TooMany"},
    )
    @inlineCallbacks
    def confirm_phone_change(self, request):
        """Apply the pending phone change with its code; activate the account."""
        account = yield self._linking(request)
        code = CODE.valid(read_json_object(request))["code"]
        address = client_address(request, self._config.proxies)
        try:
            updated = yield phone_change.confirm_change(self._context, account, code, address)
        except Conflict:
            raise Invalid({"phone": ["The phone has already been taken."]}) from None
        return json_response(request, render.account(self._config, updated))
