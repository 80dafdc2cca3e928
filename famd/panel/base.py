"""
What every panel page is built with: the L{Panel} (the deployment's
collaborators, the layout, the catalogue, the sessions), the shared
C{klein.Requirer} and its prerequisites (the session, then the CSRF check
of every POST), the parameters routes require (L{ACCOUNT}, L{ADMIN},
L{REQUEST}, L{SESSION}), and L{PanelRoutes}, the base of a route class.

A route class::

    class MyPages(PanelRoutes):
        app = Klein()

        @requirer.require(app.route("/mine", methods=["GET"]),
                          request=REQUEST, account=ACCOUNT)
        def show(self, request, account):
            return self.panel.page(request, "mine.title", tags.p(account.username),
                                   account=account)

See ``/work/notes/panel-contract.md`` for forms, refusals and tests.
"""

from klein import Form, RenderableForm, Requirer, Response
from klein.interfaces import EarlyExit, IDependencyInjector, IRequiredParameter, ISession
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags
from zope.interface import implementer

from famd import errors
from famd.credentials import same
from famd.interfaces import IPanelAccount, IPanelAdmin

OPTIONAL = {"required": False, "default": ""}
"""The options of a klein field the page checks itself: C{Field.text(**OPTIONAL)}
(klein's own refusal of a missing field would be its own unstyled page)."""

CSRF_FIELD = b"__csrf_protection__"
"""The hidden field klein's forms carry their CSRF token in."""

requirer = Requirer()
"""The one requirer of the panel's routes; its prerequisites run first, in order."""


@requirer.prerequisite([ISession])
def procure_session(routes, request):
    """Put the request's L{famd.panel.sessions.PanelSession} on it (a GET may get a new one)."""
    return routes.panel.procurer.procureSession(request)


@requirer.prerequisite([], [ISession])
def check_csrf(routes, request):
    """
    Refuse a request other than GET or HEAD whose CSRF field is not its
    session's token (compared in constant time), with a 403 page, and one
    whose fields are not UTF-8 text without NUL, with a 400 page.  klein's
    forms check the token again, later; this check covers routes without
    fields.
    """
    if request.method in (b"GET", b"HEAD"):
        return
    session = ISession(request, None)
    sent = request.args.get(CSRF_FIELD, [b""])[0]
    if session is None or not same(sent, session.identifier.encode("ascii")):
        raise EarlyExit(routes.panel.csrf_refusal(request))
    if not all(_plain_text(value) for values in request.args.values() for value in values):
        raise EarlyExit(routes.panel.refusal_page(request, errors.BadRequest(errors.ODD_TEXT)))


def _plain_text(value):
    """Whether a form value is UTF-8 text without NUL (what klein's fields decode and storage keeps)."""
    try:
        return "\x00" not in value.decode("utf-8")
    except UnicodeDecodeError:
        return False


@implementer(IRequiredParameter, IDependencyInjector)
class _CurrentRequest:
    """The request itself, as a required parameter (klein's requirer passes none)."""

    def registerInjector(self, injectionComponents, parameterName, lifecycle):
        return self

    def injectValue(self, instance, request, routeParams):
        return request

    def finalize(self):
        """Nothing to finalize."""


@implementer(IRequiredParameter, IDependencyInjector)
class _CurrentSession:
    """The request's L{famd.panel.sessions.PanelSession}, as a required parameter."""

    def registerInjector(self, injectionComponents, parameterName, lifecycle):
        return self

    def injectValue(self, instance, request, routeParams):
        return ISession(request)

    def finalize(self):
        """Nothing to finalize."""


@implementer(IRequiredParameter, IDependencyInjector)
class _Authorized:
    """
    What the session authorizes as C{interface} (klein's
    C{ISession.authorize}, as C{klein.Authorization} asks it), or, when it
    does not: a 403 page when the session does authorize C{forbidden_to}
    (a logged-in account that is not an administrator), else the login
    page.  (klein's C{Authorization} cannot tell the two apart: its denial
    sees no request.)
    """

    def __init__(self, interface, forbidden_to=None):
        self.interface = interface
        self.forbidden_to = forbidden_to

    def registerInjector(self, injectionComponents, parameterName, lifecycle):
        return self

    @inlineCallbacks
    def injectValue(self, instance, request, routeParams):
        session = ISession(request)
        found = yield session.authorize([self.interface])
        if self.interface in found:
            return found[self.interface]
        if self.forbidden_to is not None:
            known = (yield session.authorize([self.forbidden_to])).get(self.forbidden_to)
            if known is not None:
                raise EarlyExit(instance.panel.refusal_page(
                    request, errors.Forbidden("denied"), account=known))
        raise EarlyExit(Response(code=303, headers={b"Location": b"/login"}, body=b""))

    def finalize(self):
        """Nothing to finalize."""


REQUEST = _CurrentRequest()
"""Require the request: C{request=REQUEST}."""
SESSION = _CurrentSession()
"""Require the session: C{session=SESSION}."""
ACCOUNT = _Authorized(IPanelAccount)
"""Require a logged-in account (a L{famd.model.Account}); otherwise, to the login page."""
ADMIN = _Authorized(IPanelAdmin, forbidden_to=IPanelAccount)
"""Require a logged-in administrator (a L{famd.model.Account}); otherwise, to the login
page, or a 403 page for an account that is not one."""


class PanelRoutes:
    """The base of a route class: it holds the L{famd.panel.panel.Panel} as C{self.panel}."""

    def __init__(self, panel):
        self.panel = panel


def csrf_glue(request):
    """The hidden CSRF field of a form of this request's session (klein's C{glue})."""
    return RenderableForm(Form([]), ISession(request), "", "POST",
                          RenderableForm.ENCTYPE_URL_ENCODED, "utf-8").glue()


def post_form(request, action, *children, class_="panel"):
    """A POST form to C{action} holding C{children} and its CSRF field."""
    return tags.form(method="post", action=action, class_=class_,
                     **{"accept-charset": "utf-8"})(csrf_glue(request), *children)
