"""
L{Panel}: what every route class of the account panel works with, built
once at start-up (L{famd.panel.site}): the deployment's collaborators, the
catalogue (C{panel.text}), the layout, the sessions, and the helpers that
make a page, a form field, a redirect or a refusal page.
"""

from urllib.parse import urlsplit

from klein import Response
from klein.interfaces import ISession
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from famd import errors
from famd.api.http import origin
from famd.flows.password import old_password_matches
from famd.panel import login
from famd.panel.base import post_form
from famd.web import status_of

STATUSES = {400, 403, 404, 405, 410, 413, 415, 422, 429, 500, 503}
"""The statuses the catalogue has an ``error.N`` page for."""


class Panel:
    """
    The account panel of one deployment.

    @ivar config: the L{famd.config.Config}.
    @ivar settings: famd.yaml's ``panel:`` values, by key.
    @ivar storage: the L{famd.interfaces.IStorage}.
    @ivar now: a callable returning the current aware UTC datetime.
    @ivar throttle: the L{famd.throttle.Throttle}.
    @ivar flows: the L{famd.flows.Context} (e-mail, SMS, templates).
    @ivar registrar: the L{famd.interfaces.IRegistrar}, or None (``none``).
    @ivar text: the L{famd.panel.catalogue.Catalogue}: C{text(key, **values)}.
    @ivar layout: the L{famd.panel.layout.Layout}.
    @ivar sessions: the L{famd.panel.sessions.PanelSessionStore}.
    @ivar procurer: the L{famd.panel.sessions.PanelProcurer}.
    """

    def __init__(self, config, settings, storage, now, throttle, flows, registrar, text, layout,
                 sessions, procurer):
        self.config = config
        self.settings = settings
        self.storage = storage
        self.now = now
        self.throttle = throttle
        self.flows = flows
        self.registrar = registrar
        self.text = text
        self.layout = layout
        self.sessions = sessions
        self.procurer = procurer

    # ---------------------------------------------------------- pages

    def nav(self, request, account=None):
        """The navigation: the account's links and a logout button, or the login link."""
        text = self.text
        if account is None or request is None:
            return tags.ul(tags.li(tags.a(href="/login")(text("nav.login"))))
        items = [tags.li(tags.a(href="/account")(text("nav.account")))]
        if account.admin is not None or self.config.everyone_is_admin:
            items.append(tags.li(tags.a(href="/admin")(text("nav.admin"))))
        items.append(tags.li(post_form(request, "/logout", tags.button(type="submit")(
            text("nav.logout")), class_="logout")))
        return tags.ul(*items)

    def page(self, request, title, *content, account=None, status=200, headers=None, **values):
        """
        A page titled with the catalogue's text C{title} (formatted with
        C{values}) holding C{content} (tags, strings), as a
        C{klein.Response} of C{status}; C{account} (the logged-in
        L{famd.model.Account}) shows its navigation.
        """
        return self.layout.page(self.text(title, **values), list(content),
                                self.nav(request, account), status, headers)

    def redirect(self, location):
        """A 303 to C{location}, a path of the panel."""
        return Response(code=303, headers={b"Location": location.encode("utf-8")}, body=b"")

    def notice(self, key, **values):
        """A paragraph telling that something was done."""
        return tags.p(class_="notice", role="status")(self.text(key, **values))

    def alert(self, key, **values):
        """A paragraph telling that something went wrong."""
        return tags.p(class_="alert", role="alert")(self.text(key, **values))

    def field(self, name, label, kind="text", value="", error=None, autocomplete=None,
              required=True, **attributes):
        """
        A labelled form input: C{label} is a catalogue key, C{error} a text
        shown under it (and tied to it for screen readers).
        """
        identity = "field-" + name
        attributes.update(type=kind, name=name, id=identity)
        if value and kind != "password":
            attributes["value"] = value
        if autocomplete:
            attributes["autocomplete"] = autocomplete
        if required:
            attributes["required"] = "required"
        parts = [tags.label(for_=identity)(self.text(label))]
        if error:
            attributes["aria-invalid"] = "true"
            attributes["aria-describedby"] = identity + "-error"
        parts.append(tags.input(**attributes))
        if error:
            parts.append(tags.p(class_="error", id=identity + "-error")(error))
        return tags.div(class_="field")(*parts)

    def code_field(self, label, error=None, **attributes):
        """The field of a code received by e-mail or SMS (C{label}: a catalogue key)."""
        return self.field("code", label, error=error, autocomplete="one-time-code",
                          inputmode="numeric", **attributes)

    def code_form(self, request, action, hidden, label, submit):
        """A form posting C{hidden} ({name: value}, in order) and a 4-digit code to C{action}."""
        return self.form(
            request, action,
            *[tags.input(type="hidden", name=name, value=value) for name, value in hidden.items()],
            self.code_field(label, maxlength="4"),
            submit=submit,
        )

    def form(self, request, action, *children, submit, danger=False):
        """A POST form to C{action} with its CSRF field, C{children} and a submit button (a key)."""
        button = tags.button(type="submit", class_="danger" if danger else "button")(self.text(submit))
        return post_form(request, action, *children, button)

    # ---------------------------------------------------------- refusals

    def refusal_page(self, request, refusal, status=None, account=None):
        """
        The page answering C{refusal} (an L{famd.errors.Refusal}): its
        status (or C{status}), its catalogue title and text, Retry-After for
        a L{famd.errors.TooMany}, Allow for a L{famd.errors.NotAllowed}.
        """
        code = status or status_of(refusal)
        if code == 401:
            code = 403
        if code not in STATUSES:
            code = 400 if code < 500 else 500
        headers = {}
        values = {}
        if isinstance(refusal, errors.TooMany):
            headers[b"Retry-After"] = str(refusal.retry_after).encode("ascii")
            values["seconds"] = refusal.retry_after
        if isinstance(refusal, errors.NotAllowed):
            headers[b"Allow"] = ", ".join(refusal.allowed).encode("ascii")
        return self.page(
            request, "error.%d.title" % (code,),
            tags.p(self.text("error.%d.text" % (code,), **values)),
            tags.p(tags.a(href="/")(self.text("error.back"))),
            account=account, status=code, headers=headers,
        )

    def csrf_refusal(self, request):
        """The 403 page of a form posted without its session's CSRF token."""
        return self.page(request, "error.403.title", tags.p(self.text("error.403.csrf")),
                         tags.p(tags.a(href="/")(self.text("error.back"))), status=403)

    # ---------------------------------------------------------- secrets

    @inlineCallbacks
    def password_proves(self, request, account, password):
        """
        Whether C{password} is the account's (its stored HA1s, constant
        time), counted like a login: a wrong one is a wrong secret of the
        client's address (L{famd.throttle}), a right one is forgotten.

        @return: a Deferred firing with True or False, or failing with
            L{famd.errors.TooMany}.
        """
        attempt = yield self.throttle.secret_attempt(self.origin(request)[0])
        if len(password or "") <= login.MOST and old_password_matches(
                self.config, account, password or ""):
            yield attempt.succeeded()
            return True
        attempt.failed()
        return False

    # ---------------------------------------------------------- requests

    def origin(self, request):
        """(client address, User-Agent) of C{request}, behind famd's trusted proxies."""
        return origin(request, self.config.proxies)

    def session(self, request):
        """The request's L{famd.panel.sessions.PanelSession}."""
        return ISession(request)

    @property
    def secure(self):
        """Whether the panel is reached over HTTPS (public_url)."""
        return urlsplit(self.config.public_url).scheme == "https"
