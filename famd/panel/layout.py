"""
The account panel's layout: one base page (header with the application's
name and navigation, main, footer) as a C{klein.Plating} over
C{twisted.web.template} tags, the headers every panel answer carries, and
the style sheet.

A page is L{Layout.page}: a title key of the catalogue and the content's
tags (C{twisted.web.template.tags}); it comes back as a
C{klein.Response} with its status.  Pages are not made with
C{Plating.routed}, which answers any request with ``?json=1`` in JSON of
the page's data: C{Plating.widgeted} renders the same template without it.
"""

import hashlib
import os

from klein import Plating, Response
from twisted.web.template import Tag, slot, tags

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
STYLESHEET = "panel.css"

CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
"""No inline script or style; nothing from another origin; never framed."""

HEADERS = (
    (b"Content-Security-Policy", CSP),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"no-referrer"),
    (b"X-Frame-Options", b"DENY"),
    (b"Cache-Control", b"no-store"),
)
"""Set on every panel answer (an asset replaces Cache-Control)."""

ASSET_CACHE = b"public, max-age=31536000, immutable"


def set_headers(request):
    """Give C{request}'s answer the panel's security headers and an HTML content type."""
    for name, value in HEADERS:
        request.setHeader(name, value)
    request.setHeader(b"Content-Type", b"text/html; charset=utf-8")


def _base():
    """The base page's tags, with slots for the title, navigation, content and footer."""
    return tags.html(lang=slot("language"))(
        tags.head(
            tags.meta(charset="utf-8"),
            tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
            tags.title(slot("title"), " \u2014 ", slot("app_name")),
            tags.link(rel="stylesheet", href=slot("stylesheet")),
        ),
        tags.body(
            tags.a(class_="skip", href="#main")(slot("skip")),
            tags.header(class_="site")(
                tags.a(class_="name", href="/")(slot("app_name")),
                tags.nav(slot("nav")),
            ),
            Tag("main")(id="main")(tags.h1(slot("title")), slot(Plating.CONTENT)),
            tags.footer(class_="site")(slot("footer")),
        ),
    )


class Layout:
    """
    The base page of one deployment.

    @param catalogue: the L{famd.panel.catalogue.Catalogue}.
    @param app_name: famd.yaml's ``app_name``.
    @param domain: the SIP domain (in the footer).
    """

    def __init__(self, catalogue, app_name, domain, language="en"):
        self.text = catalogue
        with open(os.path.join(ASSETS, STYLESHEET), "rb") as f:
            self.stylesheet = f.read()
        version = hashlib.sha256(self.stylesheet).hexdigest()[:16]
        self.stylesheet_path = "/assets/%s?v=%s" % (STYLESHEET, version)
        self.plating = Plating(
            tags=_base(),
            defaults={
                "app_name": app_name,
                "language": language,
                "stylesheet": self.stylesheet_path,
                "skip": catalogue("nav.skip"),
                "footer": catalogue("app.footer", domain=domain),
            },
            presentation_slots=("nav",),
        )
        self._page = self.plating.widgeted(self._slots)

    @staticmethod
    def _slots(title, content, nav):
        return {"title": title, Plating.CONTENT: content, "nav": nav}

    def element(self, title, content, nav):
        """The base page holding C{content} under the text C{title}, as an element."""
        return self._page.widget(title, content, nav)

    def page(self, title, content, nav, status=200, headers=None):
        """The page as a C{klein.Response} with C{status} and extra C{headers}."""
        return Response(code=status, headers=dict(headers or {}),
                        body=self.element(title, content, nav))
