"""
``GET /admin``: the administrator pages' home, the links to the accounts
and to the administrator's API key.
"""

from klein import Klein
from twisted.web.template import tags

from famd.panel.base import ADMIN, REQUEST, PanelRoutes, requirer


class AdminIndex(PanelRoutes):
    """The administrator pages' home."""

    app = Klein()

    @requirer.require(app.route("/admin", methods=["GET"]), request=REQUEST, admin=ADMIN)
    def index(self, request, admin):
        text = self.panel.text
        return self.panel.page(
            request, "admin.title",
            tags.ul(
                tags.li(tags.a(href="/admin/accounts")(text("admin.accounts.title")),
                        " — ", text("admin.index.accounts")),
                tags.li(tags.a(href="/admin/api-key")(text("admin.key.title")),
                        " — ", text("admin.index.key")),
            ),
            account=admin,
        )
