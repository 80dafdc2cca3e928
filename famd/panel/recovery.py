"""
The panel's recovery pages, and the page that sets a new password:

 - ``GET /recovery``: recovery by e-mail, and by phone when an SMS
   backend is configured;
 - ``GET|POST /recovery/email`` (email): a 4-digit code mailed to the
   account with that address, then the code form;
 - ``GET|POST /recovery/phone`` (phone): the same by SMS to the account with
   that number (its alias, or a username that is the number);
 - ``GET|POST /recovery/phone/{token}[?phone=+...]``: what Linphone apps open
   with the account-recovery token they received by push (FAM 2.x,
   ``POST /api/account_recovery_tokens/send-by-push``): an unknown or used
   token is a 404 page, an expired one a 410 page ("Token expired"); the
   code sent spends the token for the account (L{famd.flows.recovery});
 - ``POST /recovery/confirm`` (method, destination, ticket, code): the
   right code (at most 3 tries, L{famd.flows.recovery_codes}) gives a
   single-use reset-password link and goes to it;
 - ``GET|POST /reset_password/{token}``: the new password, twice (the link
   an administrator had mailed, FAM 2.x's ``send_reset_password_email``,
   and the end of a recovery): new HA1s (both algorithms when
   ``passwords.both_algorithms``), every session of the account revoked.

Recovery answers the same whether an account has the address or number or
not (no account enumeration): the code form follows either way, and a try
of a code nobody was sent fails as a wrong one.  Each form posting counts
against the throttles: messages per destination, wrong secrets per client
address (tokens in URLs, codes), anonymous writes; a full bucket is a 429
page.
"""

from datetime import datetime, timezone

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from famd import errors
from famd.api import validation
from famd.credentials import random_string, same
from famd.flows import recovery, recovery_codes, reset_password
from famd.flows.password import change_password
from famd.model import ALGORITHMS
from famd.panel.base import OPTIONAL, REQUEST, PanelRoutes, requirer
from famd.panel.human import HumanCheck
from famd.panel.login import MOST
from famd.panel.signup import query

EPOCH = datetime(1970, 1, 2, tzinfo=timezone.utc)
"""Older than any recovery token: finds one whatever its age."""
EMAIL, PHONE = recovery_codes.EMAIL, recovery_codes.PHONE


class RecoveryPages(PanelRoutes):
    """The recovery pages (see the module docstring)."""

    app = Klein()

    def __init__(self, panel):
        super().__init__(panel)
        self.human = HumanCheck(panel)

    def by_phone(self):
        return self.panel.flows.sms is not None

    @requirer.require(app.route("/recovery", methods=["GET"]), request=REQUEST)
    def choose(self, request):
        panel = self.panel
        ways = [EMAIL] + ([PHONE] if self.by_phone() else [])
        return panel.page(request, "recovery.title", tags.p(panel.text("recovery.intro")), tags.ul(*[
            tags.li(tags.a(href="/recovery/" + way)(panel.text("recovery.by_" + way)))
            for way in ways]))

    # ---------------------------------------------------------- asking for a code

    def ask_page(self, request, method, action, value="", problem=None, status=200):
        panel = self.panel
        field = (panel.field("email", "recovery.email", kind="email", value=value, error=problem,
                             autocomplete="email")
                 if method == EMAIL else
                 panel.field("phone", "recovery.phone", kind="tel", value=value, error=problem,
                             autocomplete="tel", placeholder="+33612345678"))
        return panel.page(
            request, "recovery.%s.title" % (method,),
            tags.p(panel.text("recovery.%s.intro" % (method,))),
            panel.form(request, action, field, submit="recovery.send"),
            status=status,
        )

    @requirer.require(app.route("/recovery/email", methods=["GET"]), request=REQUEST)
    def email_form(self, request):
        return self.ask_page(request, EMAIL, "/recovery/email")

    @requirer.require(app.route("/recovery/phone", methods=["GET"]), request=REQUEST)
    def phone_form(self, request):
        if not self.by_phone():
            raise errors.NotFound("no recovery by phone")
        return self.ask_page(request, PHONE, "/recovery/phone")

    @requirer.require(app.route("/recovery/email", methods=["POST"]), request=REQUEST,
                      email=Field.text(**OPTIONAL))
    @inlineCallbacks
    def send_email(self, request, email):
        panel = self.panel
        address, agent = panel.origin(request)
        yield panel.throttle.anonymous_write(address)
        found = validation.Errors()
        email = email.strip()[:MOST]
        if validation.missing(email):
            found.add("email", "The email field is required.")
        else:
            validation.email({"email": email}, found)
        if found:
            return self.ask_page(request, EMAIL, "/recovery/email", email,
                                 found.fields["email"][0], status=422)
        account = yield panel.storage.find_account_by_email(email)
        if account is not None and account.blocked:
            account = None
        # To the address stored (a database may have matched it ignoring case).
        yield recovery_codes.send_email_code(
            panel.flows, account, account.email if account is not None else email, address, agent)
        return (yield self.code_page(request, EMAIL, email))

    @requirer.require(app.route("/recovery/phone", methods=["POST"]), request=REQUEST,
                      phone=Field.text(**OPTIONAL))
    def send_phone(self, request, phone):
        if not self.by_phone():
            raise errors.NotFound("no recovery by phone")
        return self.send_sms(request, phone, None)

    def phone_problem(self, phone):
        """The first problem of C{phone} by the API's rules, or None."""
        found = validation.Errors()
        if validation.missing(phone):
            found.add("phone", "The phone field is required.")
        else:
            validation.phone({"phone": phone}, found)
        return found.fields["phone"][0] if found else None

    @inlineCallbacks
    def send_sms(self, request, phone, token):
        """Send a recovery code to C{phone}, spending the recovery C{token} when given."""
        panel = self.panel
        address, agent = panel.origin(request)
        action = "/recovery/phone" + ("/" + token if token else "")
        yield panel.throttle.anonymous_write(address)
        phone = phone.strip()[:MOST]
        problem = self.phone_problem(phone)
        if problem:
            return self.ask_page(request, PHONE, action, phone, problem, status=422)
        account = yield panel.storage.find_account_by_phone(phone)
        if account is not None and account.blocked:
            account = None
        if token and account is not None:
            used = yield recovery.use_token(panel.flows, token, account.id)
            if used is None:
                raise errors.Forbidden("Wrong Account Recovery Token")
        yield recovery_codes.send_phone_code(panel.flows, account, phone, address, agent)
        return (yield self.code_page(request, PHONE, phone))

    # ---------------------------------------------------------- the pushed token

    @inlineCallbacks
    def checked_token(self, request, token):
        """
        The usable recovery C{token} of the URL, or the page refusing it
        (404 unknown or used, 410 expired); it counts as a secret of the client.
        """
        panel = self.panel
        attempt = yield panel.throttle.secret_attempt(panel.origin(request)[0])
        found = None
        if 0 < len(token) <= MOST:
            found = yield recovery.usable_token(panel.flows, token)
        if found is not None and same(token, found.token):
            yield attempt.succeeded()
            return None
        if 0 < len(token) <= MOST:
            old = yield panel.storage.recovery_token(token, EPOCH)
            if old is not None and same(token, old.token):
                yield attempt.succeeded()
                return panel.page(request, "recovery.token_expired.title",
                                  panel.alert("recovery.token_expired"), status=410)
        attempt.failed()
        return panel.refusal_page(request, errors.NotFound("no such token"))

    @requirer.require(app.route("/recovery/phone/<string:token>", methods=["GET"]),
                      request=REQUEST)
    @inlineCallbacks
    def token_form(self, request, token):
        refused = yield self.checked_token(request, token)
        if refused is not None:
            return refused
        phone = query(request, "phone")
        if phone.startswith(" "):
            # A '+' left unescaped in the query string, as the apps send it, reads as a space.
            phone = "+" + phone.lstrip()
        return self.ask_page(request, PHONE, "/recovery/phone/" + token, phone.strip())

    @requirer.require(app.route("/recovery/phone/<string:token>", methods=["POST"]),
                      request=REQUEST, phone=Field.text(**OPTIONAL))
    @inlineCallbacks
    def token_send(self, request, token, phone):
        refused = yield self.checked_token(request, token)
        if refused is not None:
            return refused
        return (yield self.send_sms(request, phone, token))

    # ---------------------------------------------------------- the code

    @inlineCallbacks
    def code_page(self, request, method, destination, ticket=None, alert=None, status=200,
                  **values):
        """The code form for a code sent by C{method} to C{destination} (a new ticket unless given)."""
        panel = self.panel
        if ticket is None:
            secret = yield self.human.secret()
            ticket = recovery_codes.new_ticket(secret, method, destination, panel.now())
        return panel.page(
            request, "recovery.code.title",
            panel.alert(alert, **values) if alert else
            panel.notice("recovery.code.sent_" + method, destination=destination),
            panel.code_form(request, "/recovery/confirm",
                            {"method": method, "destination": destination, "ticket": ticket},
                            "recovery.code.code", "recovery.code.submit"),
            status=status,
        )

    @requirer.require(
        app.route("/recovery/confirm", methods=["POST"]), request=REQUEST,
        method=Field.text(**OPTIONAL), destination=Field.text(**OPTIONAL),
        ticket=Field.text(**OPTIONAL), code=Field.text(**OPTIONAL),
    )
    @inlineCallbacks
    def confirm(self, request, method, destination, ticket, code):
        panel = self.panel
        if method not in (EMAIL, PHONE):
            raise errors.NotFound("no such recovery")
        destination, ticket = destination[:MOST], ticket[:MOST]
        account = None
        if destination:
            find = (panel.storage.find_account_by_email if method == EMAIL
                    else panel.storage.find_account_by_phone)
            account = yield find(destination)
        if account is not None and account.blocked:
            account = None
        secret = yield self.human.secret()
        address, agent = panel.origin(request)
        # A code by e-mail went to the account's own address (the one typed may differ in case).
        sent_to = account.email if method == EMAIL and account is not None else None
        try:
            account = yield recovery_codes.check_code(
                panel.flows, secret, method, account, destination, code.strip()[:MOST], ticket,
                address, sent_to=sent_to)
        except recovery_codes.WrongCode as wrong:
            return (yield self.code_page(request, method, destination, ticket, "code.wrong_left",
                                         status=403, left=wrong.left))
        except errors.Gone:
            return panel.page(request, "code.expired.title", panel.alert("code.spent"),
                              tags.p(tags.a(href="/recovery")(panel.text("recovery.again"))),
                              status=410)
        token = random_string(reset_password.TOKEN_LENGTH)
        yield panel.storage.add_reset_password_token(
            account.id, token, account.email or "", address, agent, panel.now())
        return panel.redirect(reset_password.LINK_PATH + token)

    # ---------------------------------------------------------- the new password

    def password_page(self, request, token, problems=None, status=200):
        panel = self.panel
        problems = problems or {}
        return panel.page(
            request, "reset.title", tags.p(panel.text("reset.intro")),
            panel.form(
                request, reset_password.LINK_PATH + token,
                panel.field("password", "reset.password", kind="password",
                            error=problems.get("password"), autocomplete="new-password"),
                panel.field("password_confirmation", "reset.password_confirmation",
                            kind="password", error=problems.get("password_confirmation"),
                            autocomplete="new-password"),
                submit="reset.submit",
            ),
            status=status,
        )

    @inlineCallbacks
    def checked_link(self, request, token):
        """The refusal page of a reset-password C{token} that is unknown, used or expired, else None."""
        panel = self.panel
        attempt = yield panel.throttle.secret_attempt(panel.origin(request)[0])
        found = None
        if len(token) == reset_password.TOKEN_LENGTH:
            found = yield panel.storage.reset_password_token(token)
        if found is None or found.used or not same(token, found.token):
            attempt.failed()
            return panel.refusal_page(request, errors.NotFound(reset_password.NO_LINK))
        yield attempt.succeeded()
        lifetime = panel.config.reset_password_email_lifetime
        if found.created_at is None or (panel.now() - found.created_at).total_seconds() > lifetime:
            return panel.refusal_page(request, errors.Gone(reset_password.EXPIRED))
        return None

    @requirer.require(app.route("/reset_password/<string:token>", methods=["GET"]),
                      request=REQUEST)
    @inlineCallbacks
    def password_form(self, request, token):
        refused = yield self.checked_link(request, token)
        return refused if refused is not None else self.password_page(request, token)

    @requirer.require(
        app.route("/reset_password/<string:token>", methods=["POST"]), request=REQUEST,
        password=Field.password(**OPTIONAL), password_confirmation=Field.password(**OPTIONAL),
    )
    @inlineCallbacks
    def set_password(self, request, token, password, password_confirmation):
        panel = self.panel
        refused = yield self.checked_link(request, token)
        if refused is not None:
            return refused
        found = validation.Errors()
        password = validation.required_text({"password": password}, "password", found,
                                            validation.PASSWORD_LENGTH, MOST)
        if password is not None and not same(password_confirmation, password):
            found.add("password_confirmation", "The password confirmation does not match.")
        if found:
            return self.password_page(request, token, {
                field: messages[0] for field, messages in found.fields.items()}, status=422)
        account_id = yield reset_password.use_link(panel.flows, token)
        account = yield panel.storage.get_account(account_id)
        if account is None:
            raise errors.NotFound(reset_password.NO_LINK)
        algorithm = next((row.algorithm for row in account.passwords
                          if row.algorithm in ALGORITHMS), "SHA-256")
        yield change_password(panel.flows, account, password, algorithm)  # ends its sessions too
        return panel.page(request, "reset.done.title", panel.notice("reset.done"),
                          tags.p(tags.a(href="/login")(panel.text("reset.login"))))
