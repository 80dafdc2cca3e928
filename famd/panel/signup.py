"""
The panel's sign-up pages (``panel.signup``: email, phone, both or none):

 - ``GET /signup``: the ways to sign up this deployment offers (404 when none);
   FAM's ``/register`` and ``/register/email`` (what the mobile apps open)
   redirect to ``/signup`` and ``/signup/email``;
 - ``GET|POST /signup/email`` (when email or both): username, password
   twice, e-mail address, the terms (``panel.terms_url``) and the human
   check (L{famd.panel.human}); a new, not activated account, then the
   confirmation e-mail (L{famd.flows.panel_signup}) and ``/signup/sent``;
 - ``GET|POST /signup/activate`` (username, code): the e-mail's link opens
   the form, posting it activates the account (L{famd.flows.activation});
 - ``GET|POST /signup/phone`` (when phone or both, and an SMS backend is
   configured): the same with a phone number, then the code form;
 - ``POST /signup/phone/confirm`` (username, phone, ticket, code): the SMS
   code (L{famd.flows.recovery_codes}: 3 tries) activates the account and
   makes the number its own.

The field rules and their texts are the API's (L{famd.api.validation}).
Every form posting counts as an anonymous write of the client
(``throttle.anonymous_writes``); codes count as its secrets
(``throttle.wrong_secrets``); a full bucket is a 429 page.
"""

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from famd import errors
from famd.api import validation
from famd.credentials import same
from famd.flows import activation, panel_signup, recovery_codes
from famd.panel.base import OPTIONAL, REQUEST, PanelRoutes, requirer
from famd.panel.human import CSP, HumanCheck
from famd.panel.login import MOST

EMAIL, PHONE = "email", "phone"


def offered(panel, way):
    """Whether the deployment offers sign-up by C{way} (email or phone)."""
    setting = panel.settings["signup"]
    if way == EMAIL:
        return setting in ("email", "both")
    return setting in ("phone", "both") and panel.flows.sms is not None


def query(request, name):
    """The query argument C{name} of C{request} ('' when absent, cut to L{MOST} characters)."""
    value = (request.args.get(name.encode("ascii")) or [b""])[0]
    return value.decode("utf-8", "replace")[:MOST]


def first_errors(fields):
    """The first message of each field (the page shows one per field)."""
    return {field: messages[0] for field, messages in fields.items()}


class SignUpPages(PanelRoutes):
    """The sign-up pages (see the module docstring)."""

    app = Klein()

    def __init__(self, panel):
        super().__init__(panel)
        self.human = HumanCheck(panel)

    # ---------------------------------------------------------- the choice

    @requirer.require(app.route("/signup", methods=["GET"]), request=REQUEST)
    def choose(self, request):
        panel = self.panel
        ways = [way for way in (EMAIL, PHONE) if offered(panel, way)]
        if not ways:
            raise errors.NotFound("no sign-up")
        return panel.page(request, "signup.title", tags.p(panel.text("signup.intro")), tags.ul(*[
            tags.li(tags.a(href="/signup/" + way)(panel.text("signup.by_" + way))) for way in ways]))

    @requirer.require(app.route("/register", methods=["GET"]))
    def register(self):
        """FAM's address of the sign-up pages."""
        return self.panel.redirect("/signup")

    @requirer.require(app.route("/register/email", methods=["GET"]))
    def register_email(self):
        """FAM's address of the e-mail sign-up, which the mobile apps open."""
        return self.panel.redirect("/signup/email")

    # ---------------------------------------------------------- the form

    @inlineCallbacks
    def form_page(self, request, way, values=None, problems=None, alert=None, status=200):
        """The sign-up form by C{way}, with the C{values} sent back and each field's problem."""
        panel = self.panel
        values = values or {}
        problems = problems or {}
        widget = yield self.human.widget(panel.text)
        contact = (panel.field("email", "signup.email", kind="email", value=values.get("email", ""),
                               error=problems.get("email"), autocomplete="email")
                   if way == EMAIL else
                   panel.field("phone", "signup.phone", kind="tel", value=values.get("phone", ""),
                               error=problems.get("phone"), autocomplete="tel",
                               placeholder="+33612345678"))
        parts = [
            panel.field("username", "signup.username", value=values.get("username", ""),
                        error=problems.get("username"), autocomplete="username"),
            panel.field("password", "signup.password", kind="password",
                        error=problems.get("password"), autocomplete="new-password"),
            panel.field("password_confirmation", "signup.password_confirmation", kind="password",
                        error=problems.get("password_confirmation"), autocomplete="new-password"),
            contact,
        ]
        terms = panel.settings.get("terms_url")
        if terms:
            parts.append(self.terms_field(terms, problems.get("terms")))
        parts.append(widget)
        if problems.get("human"):
            parts.append(tags.p(class_="error", role="alert")(problems["human"]))
        return panel.page(
            request, "signup.%s.title" % (way,),
            panel.alert(alert) if alert else tags.p(panel.text("signup.%s.intro" % (way,))),
            panel.form(request, "/signup/" + way, *parts, submit="signup.submit"),
            status=status, headers={b"Content-Security-Policy": CSP},
        )

    def terms_field(self, url, error):
        """The box to tick to accept the terms at C{url}."""
        text = self.panel.text
        attributes = {"type": "checkbox", "name": "terms", "id": "field-terms", "value": "on",
                      "required": "required"}
        parts = []
        if error:
            attributes["aria-invalid"] = "true"
            attributes["aria-describedby"] = "field-terms-error"
        parts.append(tags.input(**attributes))
        parts.append(tags.label(for_="field-terms")(
            text("signup.terms"), " ", tags.a(href=url)(text("signup.terms_link"))))
        if error:
            parts.append(tags.p(class_="error", id="field-terms-error")(error))
        return tags.div(class_="field check")(*parts)

    @requirer.require(app.route("/signup/email", methods=["GET"]), request=REQUEST)
    def email_form(self, request):
        if not offered(self.panel, EMAIL):
            raise errors.NotFound("no sign-up by e-mail")
        return self.form_page(request, EMAIL)

    @requirer.require(app.route("/signup/phone", methods=["GET"]), request=REQUEST)
    def phone_form(self, request):
        if not offered(self.panel, PHONE):
            raise errors.NotFound("no sign-up by phone")
        return self.form_page(request, PHONE)

    @inlineCallbacks
    def checked(self, way, data):
        """(values, problems) of a sign-up form's C{data} (API rules; storage for what is taken)."""
        panel = self.panel
        found = validation.Errors()
        if any(len(value) > MOST for value in data.values()):
            found.add("username", "The form's fields are too long.")
            return {}, first_errors(found.fields)
        username, phone = validation.unique_candidates(data)
        taken = []
        if username is not None or (way == PHONE and phone is not None):
            taken = yield panel.storage.account_conflicts(
                username, panel.config.sip_domain, phone if way == PHONE else None)
        values = {"username": validation.username(data, found, taken, phone_shaped=False)}
        password = validation.required_text(data, "password", found, validation.PASSWORD_LENGTH)
        if password is not None and not same(data.get("password_confirmation") or "", password):
            found.add("password_confirmation", "The password confirmation does not match.")
        values["password"] = password
        if way == EMAIL:
            if validation.missing(data.get("email")):
                found.add("email", "The email field is required.")
            else:
                values["email"] = validation.email(data, found)
                if values["email"] is not None and (
                        yield panel.storage.find_account_by_email(values["email"])) is not None:
                    found.add("email", "The email has already been taken.")
        else:
            if validation.missing(data.get("phone")):
                found.add("phone", "The phone field is required.")
            else:
                values["phone"] = validation.phone(data, found, taken)
        if panel.settings.get("terms_url") and data.get("terms") != "on":
            found.add("terms", panel.text("signup.terms_required"))
        return values, first_errors(found.fields)

    @requirer.require(
        app.route("/signup/email", methods=["POST"]), request=REQUEST,
        username=Field.text(**OPTIONAL), password=Field.password(**OPTIONAL),
        password_confirmation=Field.password(**OPTIONAL), email=Field.text(**OPTIONAL),
        terms=Field.text(**OPTIONAL), human=Field.text(**OPTIONAL), altcha=Field.text(**OPTIONAL),
    )
    def sign_up_by_email(self, request, username, password, password_confirmation, email, terms,
                         human, altcha):
        data = {"username": username, "password": password,
                "password_confirmation": password_confirmation, "email": email, "terms": terms}
        return self.sign_up(request, EMAIL, data, human, altcha)

    @requirer.require(
        app.route("/signup/phone", methods=["POST"]), request=REQUEST,
        username=Field.text(**OPTIONAL), password=Field.password(**OPTIONAL),
        password_confirmation=Field.password(**OPTIONAL), phone=Field.text(**OPTIONAL),
        terms=Field.text(**OPTIONAL), human=Field.text(**OPTIONAL), altcha=Field.text(**OPTIONAL),
    )
    def sign_up_by_phone(self, request, username, password, password_confirmation, phone, terms,
                         human, altcha):
        data = {"username": username, "password": password,
                "password_confirmation": password_confirmation, "phone": phone, "terms": terms}
        return self.sign_up(request, PHONE, data, human, altcha)

    @inlineCallbacks
    def sign_up(self, request, way, data, nonce, answer):
        """Check the form, the human check, then create the account and send its confirmation."""
        panel = self.panel
        if not offered(panel, way):
            raise errors.NotFound("no sign-up by " + way)
        address, agent = panel.origin(request)
        yield panel.throttle.anonymous_write(address)
        values, problems = yield self.checked(way, data)
        if problems:
            return (yield self.form_page(request, way, data, problems, status=422))
        if not (yield self.human.passed(nonce, answer)):
            return (yield self.form_page(request, way, data,
                                         {"human": panel.text("human.failed")}, status=403))
        try:
            if way == EMAIL:
                account = yield panel_signup.sign_up_by_email(
                    panel.flows, values["username"], values["password"], values["email"],
                    address, agent)
            else:
                account = yield panel_signup.sign_up_by_phone(
                    panel.flows, values["username"], values["password"], values["phone"],
                    address, agent)
        except errors.Conflict:
            return (yield self.form_page(request, way, data, {
                "username": "The username has already been taken."}, status=422))
        if way == EMAIL:
            return panel.redirect("/signup/sent")
        secret = yield self.human.secret()
        return self.code_page(request, account.username, values["phone"], recovery_codes.new_ticket(
            secret, recovery_codes.PHONE, values["phone"], panel.now()))

    @requirer.require(app.route("/signup/sent", methods=["GET"]), request=REQUEST)
    def sent(self, request):
        return self.panel.page(request, "signup.sent.title", self.panel.notice("signup.sent"))

    # ---------------------------------------------------------- activation by e-mail

    def activation_page(self, request, username, code, alert=None, status=200):
        panel = self.panel
        return panel.page(
            request, "signup.activate.title",
            panel.alert(alert) if alert else tags.p(panel.text("signup.activate.intro",
                                                                username=username)),
            panel.form(
                request, "/signup/activate",
                tags.input(type="hidden", name="username", value=username),
                panel.field("code", "signup.activate.code", value=code, autocomplete="off"),
                submit="signup.activate.submit",
            ),
            status=status,
        )

    @requirer.require(app.route("/signup/activate", methods=["GET"]), request=REQUEST)
    def activation_form(self, request):
        return self.activation_page(request, query(request, "username"), query(request, "code"))

    @requirer.require(
        app.route("/signup/activate", methods=["POST"]), request=REQUEST,
        username=Field.text(**OPTIONAL), code=Field.text(**OPTIONAL),
    )
    @inlineCallbacks
    def activate(self, request, username, code):
        panel = self.panel
        code = code.strip()
        try:
            yield activation.activate(panel.flows, username[:MOST], panel.config.sip_domain,
                                      code[:MOST], panel.origin(request)[0], "e-mail")
        except errors.NotFound:
            return self.activation_page(request, username[:MOST], "", "signup.activate.wrong",
                                        status=404)
        except errors.Forbidden:
            return self.activation_page(request, username[:MOST], "", "signup.activate.expired",
                                        status=403)
        return self.activated_page(request)

    def activated_page(self, request):
        panel = self.panel
        return panel.page(request, "signup.activated.title", panel.notice("signup.activated"),
                          tags.p(tags.a(href="/login")(panel.text("signup.activated.login"))))

    # ---------------------------------------------------------- the SMS code

    def code_page(self, request, username, phone, ticket, alert=None, status=200, **values):
        panel = self.panel
        return panel.page(
            request, "signup.code.title",
            panel.alert(alert, **values) if alert else panel.notice("signup.code.sent", phone=phone),
            panel.code_form(request, "/signup/phone/confirm",
                            {"username": username, "phone": phone, "ticket": ticket},
                            "signup.code.code", "signup.code.submit"),
            status=status,
        )

    @requirer.require(
        app.route("/signup/phone/confirm", methods=["POST"]), request=REQUEST,
        username=Field.text(**OPTIONAL), phone=Field.text(**OPTIONAL),
        ticket=Field.text(**OPTIONAL), code=Field.text(**OPTIONAL),
    )
    @inlineCallbacks
    def confirm_phone(self, request, username, phone, ticket, code):
        panel = self.panel
        username, phone, ticket = username[:MOST], phone[:MOST], ticket[:MOST]
        account = None
        if username:
            account = yield panel.storage.find_account(username, panel.config.sip_domain)
        secret = yield self.human.secret()
        try:
            yield recovery_codes.check_code(panel.flows, secret, recovery_codes.PHONE, account,
                                            phone, code.strip()[:MOST], ticket,
                                            panel.origin(request)[0], link=True)
        except recovery_codes.WrongCode as wrong:
            return self.code_page(request, username, phone, ticket, "code.wrong_left", status=403,
                                  left=wrong.left)
        except errors.Gone:
            return panel.page(request, "code.expired.title", panel.alert("code.spent"),
                              tags.p(tags.a(href="/signup")(panel.text("signup.again"))),
                              status=410)
        except errors.Conflict:
            return panel.page(request, "signup.code.title", panel.alert("signup.code.taken"),
                              status=409)
        return self.activated_page(request)
