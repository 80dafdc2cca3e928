"""
Changing the logged-in account's password.

 - ``GET /account/password``: the form (current password, new one twice);
 - ``POST /account/password``: a right current password (a wrong one is a
   wrong secret of the client's address) and a new one of
   L{famd.api.validation.PASSWORD_LENGTH} to L{famd.panel.login.MOST}
   characters replace every stored HA1 of the account in one transaction:
   the algorithms it had (both when ``passwords.both_algorithms``, or when
   it had none: L{famd.flows.provisioning.replacement_rows}), each with the
   account's realm.  Every session of the account ends with the old
   passwords (L{famd.interfaces.IWebSessionStore}); this browser goes on
   with a new session.
"""

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger
from twisted.web.template import tags

from famd.api.validation import PASSWORD_LENGTH
from famd.errors import NotFound, TooMany
from famd.flows.provisioning import replacement_rows
from famd.panel.base import ACCOUNT, OPTIONAL, REQUEST, SESSION, PanelRoutes, requirer
from famd.panel.login import MOST

log = Logger(namespace="famd.panel.password")


class PasswordPages(PanelRoutes):
    """The password change (see the module docstring)."""

    app = Klein()

    def form_page(self, request, account, errors=None, status=200):
        panel = self.panel
        errors = errors or {}
        return panel.page(
            request, "password.title",
            tags.p(panel.text("password.intro")),
            panel.form(
                request, "/account/password",
                panel.field("old_password", "password.old", kind="password",
                            error=errors.get("old_password"), autocomplete="current-password"),
                panel.field("password", "password.new", kind="password",
                            error=errors.get("password"), autocomplete="new-password",
                            minlength=str(PASSWORD_LENGTH)),
                panel.field("password_confirmation", "password.confirm", kind="password",
                            error=errors.get("password_confirmation"), autocomplete="new-password"),
                submit="password.submit",
            ),
            account=account, status=status,
        )

    @requirer.require(app.route("/account/password", methods=["GET"]), request=REQUEST,
                      account=ACCOUNT)
    def show(self, request, account):
        return self.form_page(request, account)

    def _new_password_errors(self, password, confirmation):
        text = self.panel.text
        if len(password) < PASSWORD_LENGTH:
            return {"password": text("password.too_short", minimum=PASSWORD_LENGTH)}
        if len(password) > MOST:
            return {"password": text("password.too_long", maximum=MOST)}
        if password != confirmation:
            return {"password_confirmation": text("password.mismatch")}
        return {}

    @requirer.require(
        app.route("/account/password", methods=["POST"]),
        request=REQUEST, session=SESSION, account=ACCOUNT,
        old_password=Field.password(**OPTIONAL), password=Field.password(**OPTIONAL),
        password_confirmation=Field.password(**OPTIONAL),
    )
    @inlineCallbacks
    def change(self, request, session, account, old_password, password, password_confirmation):
        panel = self.panel
        errors = self._new_password_errors(password, password_confirmation)
        if errors:
            return self.form_page(request, account, errors, status=400)
        try:
            proven = yield panel.password_proves(request, account, old_password)
        except TooMany as refusal:
            return panel.refusal_page(request, refusal, account=account)
        if not proven:
            return self.form_page(request, account, {"old_password": panel.text("password.wrong_old")},
                                  status=403)
        rows = replacement_rows(panel.config, account, password)
        # The replacement ends every session of the account, this one too
        # (IWebSessionStore): this browser goes on with a new one.
        if not (yield panel.storage.replace_passwords(account.id, rows)):
            raise NotFound("the account is gone")
        fresh = yield panel.sessions.log_in(session, account.id)
        panel.procurer.set_cookie(request, fresh)
        log.info("password of account {id} changed (panel); its sessions ended", id=account.id)
        return panel.page(request, "password.title", panel.notice("password.done"), account=account)
