"""
The panel's pages for anyone: the home page (to the account, or to the
login), login, logout, and the style sheet.

 - ``GET /``: 303 to ``/account`` when logged in, else to ``/login``;
 - ``GET /login``, ``POST /login`` (identifier, password): a right
   password of an activated, unblocked account starts a new session (a new
   id: L{famd.panel.sessions.PanelSessionStore.log_in}) and goes to
   ``/account``; every try counts, per client address, against
   ``throttle.wrong_secrets`` (a right one is forgotten), and a full
   bucket is a 429 page with Retry-After;
 - ``POST /logout``: revokes the session (its row) and goes to ``/login``;
 - ``GET /assets/panel.css``: the style sheet, cached for a year (its
   address changes with its content).
"""

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from famd.errors import TooMany
from famd.panel import login
from famd.panel.base import OPTIONAL, REQUEST, SESSION, PanelRoutes, requirer
from famd.panel.layout import ASSET_CACHE, STYLESHEET

class PublicPages(PanelRoutes):
    """The pages anyone reaches (see the module docstring)."""

    app = Klein()

    @requirer.require(app.route("/", methods=["GET"]), session=SESSION)
    def home(self, session):
        return self.panel.redirect("/account" if session.account_id is not None else "/login")

    @requirer.require(app.route("/assets/%s" % (STYLESHEET,), methods=["GET"]), request=REQUEST)
    def stylesheet(self, request):
        request.setHeader(b"Content-Type", b"text/css; charset=utf-8")
        request.setHeader(b"Cache-Control", ASSET_CACHE)
        return self.panel.layout.stylesheet

    def login_page(self, request, identifier="", error=None, status=200):
        """The login form, with C{error} (a catalogue key) above it."""
        panel = self.panel
        return panel.page(
            request, "login.title",
            panel.alert(error) if error else tags.p(panel.text("login.intro")),
            panel.form(
                request, "/login",
                panel.field("identifier", "login.identifier", value=identifier,
                            autocomplete="username"),
                panel.field("password", "login.password", kind="password",
                            autocomplete="current-password"),
                submit="login.submit",
            ),
            status=status,
        )

    @requirer.require(app.route("/login", methods=["GET"]), request=REQUEST, session=SESSION)
    def show_login(self, request, session):
        if session.account_id is not None:
            return self.panel.redirect("/account")
        return self.login_page(request)

    @requirer.require(
        app.route("/login", methods=["POST"]),
        request=REQUEST, session=SESSION,
        identifier=Field.text(**OPTIONAL), password=Field.password(**OPTIONAL),
    )
    @inlineCallbacks
    def log_in(self, request, session, identifier, password):
        panel = self.panel
        address, _ = panel.origin(request)
        try:
            attempt = yield panel.throttle.secret_attempt(address)
        except TooMany as refusal:
            return panel.refusal_page(request, refusal)
        account, problem = yield login.check_login(panel.config, panel.storage, identifier, password)
        if problem == login.WRONG:
            attempt.failed()
            return self.login_page(request, identifier, "login.wrong", status=403)
        yield attempt.succeeded()
        if problem == login.BLOCKED:
            return self.login_page(request, identifier, "login.blocked", status=403)
        if problem == login.NOT_ACTIVATED:
            return panel.page(request, "login.not_activated.title",
                              panel.alert("login.not_activated"), status=403)
        fresh = yield panel.sessions.log_in(session, account.id)
        panel.procurer.set_cookie(request, fresh)
        return panel.redirect("/account")

    @requirer.require(app.route("/logout", methods=["POST"]), request=REQUEST, session=SESSION)
    @inlineCallbacks
    def log_out(self, request, session):
        yield self.panel.sessions.log_out(session)
        fresh = yield self.panel.sessions.newSession(session.isConfidential, session.authenticatedBy)
        self.panel.procurer.set_cookie(request, fresh)
        return self.panel.redirect("/login")
