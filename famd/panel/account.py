"""
The logged-in account's own pages: who you are, and deleting the account.

 - ``GET /account``: who you are (SIP address, e-mail, phone, activation)
   and links to the other account pages;
 - ``GET /account/delete``: the confirmation form; ``POST /account/delete``
   (password): a right password deletes the account (its sessions go with
   it, L{famd.interfaces.IWebSessionStore}); a wrong one is a wrong secret
   of the client's address (L{famd.panel.panel.Panel.password_proves}).
"""

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger
from twisted.web.template import tags

from famd.errors import TooMany
from famd.panel.base import ACCOUNT, OPTIONAL, REQUEST, SESSION, PanelRoutes, requirer

log = Logger(namespace="famd.panel.account")

LINKS = (
    ("/account/password", "account.change_password"),
    ("/account/email", "account.change_email"),
    ("/account/phone", "account.change_phone"),
    ("/account/devices", "account.devices"),
    ("/account/provisioning", "account.provisioning"),
    ("/account/delete", "account.delete"),
)
"""The account pages, as the account page lists them."""


def facts(text, pairs):
    """A definition list of (catalogue key, value) pairs; None shows as the text for none."""
    items = []
    for key, value in pairs:
        items.append(tags.dt(text(key)))
        items.append(tags.dd(text("account.none") if value is None else value))
    return tags.dl(class_="facts")(*items)


class AccountPages(PanelRoutes):
    """The account's page and its deletion (see the module docstring)."""

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
            tags.h2(text("account.actions")),
            tags.ul(*[tags.li(tags.a(href=path)(text(key))) for path, key in LINKS]),
            account=account,
        )

    def delete_page(self, request, account, error=None, status=200):
        panel = self.panel
        return panel.page(
            request, "delete.title",
            tags.p(panel.text("delete.intro")),
            panel.form(
                request, "/account/delete",
                panel.field("password", "delete.password", kind="password", error=error,
                            autocomplete="current-password"),
                submit="delete.submit", danger=True,
            ),
            account=account, status=status,
        )

    @requirer.require(app.route("/account/delete", methods=["GET"]), request=REQUEST,
                      account=ACCOUNT)
    def confirm_delete(self, request, account):
        return self.delete_page(request, account)

    @requirer.require(app.route("/account/delete", methods=["POST"]), request=REQUEST,
                      session=SESSION, account=ACCOUNT, password=Field.password(**OPTIONAL))
    @inlineCallbacks
    def delete(self, request, session, account, password):
        panel = self.panel
        try:
            proven = yield panel.password_proves(request, account, password)
        except TooMany as refusal:
            return panel.refusal_page(request, refusal, account=account)
        if not proven:
            return self.delete_page(request, account, panel.text("delete.wrong"), status=403)
        yield panel.storage.delete_account(account.id)
        log.info("account {id} deleted by its owner (panel)", id=account.id)
        fresh = yield panel.sessions.newSession(session.isConfidential, session.authenticatedBy)
        panel.procurer.set_cookie(request, fresh)
        return panel.page(request, "delete.title", panel.notice("delete.done"))
