"""
The logged-in account's own pages.

 - ``GET /account``: who you are (SIP address, e-mail, phone, activation).
"""

from klein import Klein
from twisted.web.template import tags

from famd.panel.base import ACCOUNT, REQUEST, PanelRoutes, requirer


def facts(text, pairs):
    """A definition list of (catalogue key, value) pairs; None shows as the text for none."""
    items = []
    for key, value in pairs:
        items.append(tags.dt(text(key)))
        items.append(tags.dd(text("account.none") if value is None else value))
    return tags.dl(class_="facts")(*items)


class AccountPages(PanelRoutes):
    """The pages of the logged-in account (see the module docstring)."""

    app = Klein()

    @requirer.require(app.route("/account", methods=["GET"]), request=REQUEST, account=ACCOUNT)
    def show(self, request, account):
        text = self.panel.text
        return self.panel.page(
            request, "account.title",
            facts(text, (
                ("account.sip_address", account.sip_address),
                ("account.email", account.email),
                ("account.phone", account.phone),
                ("account.activated", text("account.yes" if account.activated else "account.no")),
            )),
            account=account,
        )
