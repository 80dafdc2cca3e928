"""
The administrator's own API key, the specification's "generate your API
key in your account panel":

 - ``GET /admin/api-key``: whether the administrator has a key, and when it
   was made;
 - ``POST /admin/api-key``: a new key (replacing the old one, through
   L{famd.flows.provisioning.new_api_key} as ``/api/accounts/me/api_key``
   does), shown on this answer only, as selectable text, with a copy
   button that C{admin.js} shows and wires (no inline script);
 - ``POST /admin/api-key/revoke``: the key deleted (``/api`` refuses it);
 - ``GET /assets/admin.js``: that script.

The key is never logged, never put in a URL, never stored in the session.
"""

import hashlib
import os

from klein import Klein
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger
from twisted.web.template import tags

from famd.flows.provisioning import new_api_key
from famd.panel.account import facts
from famd.panel.admin.common import button_form, done_notice, when
from famd.panel.base import ADMIN, REQUEST, PanelRoutes, requirer
from famd.panel.layout import ASSET_CACHE, ASSETS

log = Logger(namespace="famd.panel.admin")

SCRIPT = "admin.js"
"""The administrator pages' one script (copy to clipboard), in famd/panel/assets."""


def read_script():
    """The text of L{SCRIPT}."""
    with open(os.path.join(ASSETS, SCRIPT), "rb") as source:
        return source.read()


class AdminApiKeyPage(PanelRoutes):
    """The administrator's API key (see the module docstring)."""

    app = Klein()

    def __init__(self, panel):
        super().__init__(panel)
        self.script = read_script()
        self.script_path = "/assets/%s?v=%s" % (
            SCRIPT, hashlib.sha256(self.script).hexdigest()[:16])

    @requirer.require(app.route("/assets/%s" % (SCRIPT,), methods=["GET"]), request=REQUEST)
    def serve_script(self, request):
        request.setHeader(b"Content-Type", b"text/javascript; charset=utf-8")
        request.setHeader(b"Cache-Control", ASSET_CACHE)
        return self.script

    @inlineCallbacks
    def key_page(self, request, admin, shown=None):
        """The page; C{shown} is a key just made, displayed this once."""
        panel = self.panel
        text = panel.text
        made = yield panel.storage.api_key_made(admin.id)
        content = [done_notice(panel, request)]
        if shown is not None:
            content += [
                tags.div(class_="notice", role="status")(
                    tags.p(text("admin.key.shown")),
                    tags.p(tags.code(id="api-key-value", class_="secret")(shown)),
                    tags.p(tags.button(type="button", id="copy-api-key", class_="button",
                                       hidden="hidden", **{"data-copy": "api-key-value",
                                                           "data-copied": text("admin.key.copied")})(
                        text("admin.key.copy"))),
                ),
                tags.script(src=self.script_path, defer="defer"),
            ]
        content += [
            tags.p(text("admin.key.intro", header="x-api-key")),
            facts(text, (
                ("admin.key.exists", text("account.yes" if made is not None else "account.no")),
                ("admin.key.made", when(panel, made)),
            )),
            panel.form(request, "/admin/api-key",
                       submit="admin.key.replace" if made is not None else "admin.key.generate"),
        ]
        if made is not None:
            content.append(button_form(panel, request, "/admin/api-key/revoke",
                                       "admin.key.revoke", danger=True))
        return panel.page(request, "admin.key.title", *content, account=admin)

    @requirer.require(app.route("/admin/api-key", methods=["GET"]), request=REQUEST, admin=ADMIN)
    def show(self, request, admin):
        return self.key_page(request, admin)

    @requirer.require(app.route("/admin/api-key", methods=["POST"]), request=REQUEST, admin=ADMIN)
    @inlineCallbacks
    def generate(self, request, admin):
        key = yield new_api_key(self.panel.storage, admin.id, self.panel.now())
        page = yield self.key_page(request, admin, shown=key)
        return page

    @requirer.require(app.route("/admin/api-key/revoke", methods=["POST"]), request=REQUEST,
                      admin=ADMIN)
    @inlineCallbacks
    def revoke(self, request, admin):
        if (yield self.panel.storage.delete_api_key(admin.id)):
            log.info("API key of account {id} revoked", id=admin.id)
        return self.panel.redirect("/admin/api-key?done=revoked")
