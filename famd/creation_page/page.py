"""
The HTML of the request-token page (twisted.web.template): plain, readable
on a phone, no inline script or style (the Content-Security-Policy of
L{famd.creation_page} forbids them), and saying what to do without
JavaScript.
"""

import json

from twisted.web.template import Element, Tag, XMLString, renderer, tags

_SHELL = XMLString("""<html xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1" lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="referrer" content="no-referrer" />
<title t:render="title" />
<link rel="stylesheet" t:render="stylesheet" />
<t:transparent t:render="scripts" />
</head>
<body><main t:render="content" /></body>
</html>""")


class Page(Element):
    """One page: a title, a body (a tag), the assets' base path, and whether the widget is loaded."""

    loader = _SHELL

    def __init__(self, title, content, assets, widget=False):
        super().__init__()
        self._title = title
        self._content = content
        self._assets = assets
        self._widget = widget

    @renderer
    def title(self, request, tag):
        return tag(self._title)

    @renderer
    def stylesheet(self, request, tag):
        return tag(href=self._assets + "page.css")

    @renderer
    def scripts(self, request, tag):
        if not self._widget:
            return ""
        return [
            tags.link(rel="stylesheet", href=self._assets + "altcha.css"),
            tags.script(src=self._assets + "altcha.min.js", defer="defer"),
            tags.script(src=self._assets + "init.js", defer="defer"),
        ]

    @renderer
    def content(self, request, tag):
        return tag(self._content)


def check_form(app_name, action, request_token, csrf, challenge, assets):
    """The form: the ALTCHA widget, the hidden token and CSRF fields, a button, and a noscript note."""
    return Page(
        "%s: confirm you are a person" % (app_name,),
        [
            tags.h1("Confirm you are a person"),
            tags.p("Your %s application is waiting for this check to create your account. "
                   "Tick the box below, wait for it to finish, then press Continue." % (app_name,)),
            tags.form(method="post", action=action)(
                tags.input(type="hidden", name="account_creation_request_token", value=request_token),
                tags.input(type="hidden", name="csrf", value=csrf),
                Tag("altcha-widget")(challenge=json.dumps(challenge), name="altcha",
                                          auto="off"),
                tags.p(id="needs-js", class_="note")(
                    "This check runs in your browser and needs JavaScript."),
                tags.noscript(tags.p(
                    "This check needs JavaScript, which is off in this browser. Turn JavaScript "
                    "on and reload this page, or open the link in another browser; the "
                    "application keeps waiting meanwhile.")),
                tags.button("Continue", type="submit"),
            ),
        ],
        assets,
        widget=True,
    )


def message(title, text, assets):
    """A page that only says something (done, refused, not found)."""
    return Page(title, [tags.h1(title), tags.p(text)], assets)
