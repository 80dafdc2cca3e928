"""
One account, for administrators (``{id}`` an account id; an unknown one is
the 404 page):

 - ``GET /admin/accounts/{id}``: its facts, the edit form and its actions;
 - ``POST /admin/accounts/{id}``: the edit, with the rules of ``PUT
   /api/accounts/{id}`` (L{famd.api.admin_accounts2.account_changes}, the
   same uniqueness check; an empty password keeps the passwords; the
   states are left as they are);
 - ``POST /admin/accounts/{id}/activate``, ``/deactivate``, ``/block``,
   ``/unblock``, ``/admin``, ``/unadmin``: the storage calls of the API's
   routes; blocking also ends the account's panel sessions;
 - ``POST /admin/accounts/{id}/provisioning``: the provisioning e-mail
   (L{famd.flows.provisioning.send_provisioning_email}, as ``POST
   /api/accounts/{id}/send_provisioning_email`` does);
 - ``GET /admin/accounts/{id}/delete`` (the confirmation),
   ``POST /admin/accounts/{id}/delete``: the account deleted.

Every action answers with a redirect to the account's page (or the list)
carrying the notice to show (POST-redirect-GET).
"""

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger
from twisted.web.template import tags

from famd.accounts import password_rows
from famd.api import validation
from famd.api.admin_accounts import no_account
from famd.api.admin_accounts2 import CHANGES, DEFAULT_ALGORITHM, account_changes, fields_taken_by_others
from famd.errors import Conflict, Forbidden
from famd.flows.provisioning import send_provisioning_email
from famd.model import AccountChanges
from famd.panel.account import facts
from famd.panel.admin.common import (
    blank_to_none,
    button_form,
    done_notice,
    field_errors,
    when,
)
from famd.panel.base import ADMIN, OPTIONAL, REQUEST, PanelRoutes, requirer

log = Logger(namespace="famd.panel.admin")


class AdminAccountPages(PanelRoutes):
    """One account's page and actions (see the module docstring)."""

    app = Klein()

    @inlineCallbacks
    def load(self, account_id):
        """Fire with the account, or fail with the API's 404 refusal."""
        account = yield self.panel.storage.get_account(account_id)
        if account is None:
            raise no_account(account_id)
        return account

    def account_page(self, request, admin, account, values=None, errors=None, alert=None,
                     status=200):
        """The account's page: facts, edit form (with C{values} and C{errors}), actions."""
        panel = self.panel
        text = panel.text
        values = values if values is not None else {
            "username": account.username, "email": account.email or "",
            "phone": account.phone or "", "display_name": account.display_name or ""}
        errors = errors or {}
        base = "/admin/accounts/%d" % (account.id,)
        yes_no = lambda value: text("account.yes" if value else "account.no")  # noqa: E731
        is_admin = account.admin is not None
        actions = [
            button_form(panel, request, base + ("/deactivate" if account.activated else "/activate"),
                        "admin.action.deactivate" if account.activated else "admin.action.activate"),
            button_form(panel, request, base + ("/unblock" if account.blocked else "/block"),
                        "admin.action.unblock" if account.blocked else "admin.action.block",
                        danger=not account.blocked),
            button_form(panel, request, base + ("/unadmin" if is_admin else "/admin"),
                        "admin.action.unadmin" if is_admin else "admin.action.admin"),
        ]
        if account.email:
            actions.append(button_form(panel, request, base + "/provisioning",
                                       "admin.action.provisioning"))
        return panel.page(
            request, "admin.account.title",
            alert if alert is not None else done_notice(panel, request),
            facts(text, (
                ("account.sip_address", account.sip_address),
                ("account.email", account.email),
                ("account.phone", account.phone),
                ("account.activated", yes_no(account.activated)),
                ("admin.accounts.blocked", yes_no(account.blocked)),
                ("admin.account.admin", yes_no(is_admin)),
                ("admin.account.created", when(panel, account.creation_time)),
            )),
            tags.h2(text("admin.account.actions")),
            tags.div(class_="actions")(*actions),
            tags.h2(text("admin.account.edit")),
            panel.alert("admin.invalid") if errors else "",
            panel.form(
                request, base,
                panel.field("username", "admin.field.username", value=values["username"],
                            error=errors.get("username"), autocomplete="off"),
                panel.field("password", "admin.field.new_password", kind="password",
                            error=errors.get("password"), required=False,
                            autocomplete="new-password", **{"aria-describedby": "rename-hint"}),
                tags.p(id="rename-hint", class_="hint")(text("admin.field.rename_hint")),
                panel.field("email", "account.email", kind="email", value=values["email"],
                            error=errors.get("email"), required=False, autocomplete="off"),
                panel.field("phone", "admin.field.phone", kind="tel", value=values["phone"],
                            error=errors.get("phone"), required=False, autocomplete="off"),
                panel.field("display_name", "admin.field.display_name",
                            value=values["display_name"], error=errors.get("display_name"),
                            required=False, autocomplete="off"),
                submit="admin.account.save",
            ),
            tags.h2(text("admin.account.danger")),
            tags.p(tags.a(href=base + "/delete", class_="button danger")(
                text("admin.action.delete"))),
            tags.p(tags.a(href="/admin/accounts")(text("admin.accounts.back"))),
            account=admin, status=status, username=account.username,
        )

    @requirer.require(app.route("/admin/accounts/<int:account_id>", methods=["GET"]),
                      request=REQUEST, admin=ADMIN)
    @inlineCallbacks
    def show(self, request, admin, account_id):
        account = yield self.load(account_id)
        return self.account_page(request, admin, account)

    # ---------------------------------------------------------- edit

    @requirer.require(
        app.route("/admin/accounts/<int:account_id>", methods=["POST"]),
        request=REQUEST, admin=ADMIN,
        username=Field.text(**OPTIONAL), password=Field.password(**OPTIONAL),
        email=Field.text(**OPTIONAL), phone=Field.text(**OPTIONAL),
        display_name=Field.text(**OPTIONAL),
    )
    @inlineCallbacks
    def edit(self, request, admin, account_id, username, password, email, phone, display_name):
        panel = self.panel
        account = yield self.load(account_id)
        sent = {"username": username, "email": email, "phone": phone,
                "display_name": display_name}
        data = {
            "username": username, "password": blank_to_none(password),
            "algorithm": DEFAULT_ALGORITHM, "email": blank_to_none(email),
            "display_name": blank_to_none(display_name), "phone": blank_to_none(phone),
            "dtmf_protocol": account.dtmf_protocol,
        }
        values, errors = account_changes(data, account.username)
        if errors:
            taken = yield self.taken(account, data)
            return self.account_page(request, admin, account, sent, field_errors(
                validation.with_taken(errors.fields, taken, CHANGES.names)), status=422)
        passwords = None
        if values["password"] is not None:
            passwords = password_rows(panel.config, values["username"], account.domain,
                                      values["password"], values["algorithm"])
        changes = AccountChanges(
            username=values["username"], email=values["email"],
            display_name=values["display_name"], dtmf_protocol=values["dtmf_protocol"],
            phone=values["phone"], passwords=passwords,
        )
        try:
            updated = yield panel.storage.update_account(account.id, changes, panel.now())
        except Conflict as conflict:
            taken = yield self.taken(account, data)
            return self.account_page(request, admin, account, sent, field_errors(
                validation.with_taken({}, set(taken) | {conflict.field}, CHANGES.names)),
                status=422)
        if updated is None:
            raise no_account(account_id)
        log.info("account {id} edited by administrator {admin}", id=account.id, admin=admin.id)
        return panel.redirect("/admin/accounts/%d?done=saved" % (account.id,))

    def taken(self, account, data):
        """The unique fields of C{data} an account other than C{account} uses (the API's check)."""
        return fields_taken_by_others(self.panel.storage, account, data)

    # ---------------------------------------------------------- states

    @inlineCallbacks
    def change(self, admin, account_id, done, write):
        """Run C{write(storage)} on an existing account, then back to its page with C{done}."""
        yield self.load(account_id)
        yield write(self.panel.storage)
        log.info("account {id}: {done} by administrator {admin}", id=account_id, done=done,
                 admin=admin.id)
        return self.panel.redirect("/admin/accounts/%d?done=%s" % (account_id, done))

    @requirer.require(app.route("/admin/accounts/<int:account_id>/activate", methods=["POST"]),
                      admin=ADMIN)
    def activate(self, admin, account_id):
        return self.change(admin, account_id, "activated",
                           lambda storage: storage.set_activated(account_id, True))

    @requirer.require(app.route("/admin/accounts/<int:account_id>/deactivate", methods=["POST"]),
                      admin=ADMIN)
    def deactivate(self, admin, account_id):
        return self.change(admin, account_id, "deactivated",
                           lambda storage: storage.set_activated(account_id, False))

    @requirer.require(app.route("/admin/accounts/<int:account_id>/block", methods=["POST"]),
                      admin=ADMIN)
    def block(self, admin, account_id):
        @inlineCallbacks
        def write(storage):
            yield storage.set_blocked(account_id, True)
            yield storage.delete_account_web_sessions(account_id)
        return self.change(admin, account_id, "blocked", write)

    @requirer.require(app.route("/admin/accounts/<int:account_id>/unblock", methods=["POST"]),
                      admin=ADMIN)
    def unblock(self, admin, account_id):
        return self.change(admin, account_id, "unblocked",
                           lambda storage: storage.set_blocked(account_id, False))

    @requirer.require(app.route("/admin/accounts/<int:account_id>/admin", methods=["POST"]),
                      admin=ADMIN)
    def make_admin(self, admin, account_id):
        return self.change(admin, account_id, "admin",
                           lambda storage: storage.set_admin(account_id, True, self.panel.now()))

    @requirer.require(app.route("/admin/accounts/<int:account_id>/unadmin", methods=["POST"]),
                      admin=ADMIN)
    def revoke_admin(self, admin, account_id):
        return self.change(admin, account_id, "unadmin",
                           lambda storage: storage.set_admin(account_id, False, self.panel.now()))

    # ---------------------------------------------------------- provisioning e-mail

    @requirer.require(
        app.route("/admin/accounts/<int:account_id>/provisioning", methods=["POST"]),
        request=REQUEST, admin=ADMIN)
    @inlineCallbacks
    def provisioning(self, request, admin, account_id):
        panel = self.panel
        account = yield self.load(account_id)
        try:
            yield send_provisioning_email(panel.flows, account, *panel.origin(request))
        except Forbidden:
            return self.account_page(request, admin, account,
                                     alert=panel.alert("admin.provisioning.no_email"), status=422)
        return panel.redirect("/admin/accounts/%d?done=provisioning" % (account.id,))

    # ---------------------------------------------------------- delete

    @requirer.require(app.route("/admin/accounts/<int:account_id>/delete", methods=["GET"]),
                      request=REQUEST, admin=ADMIN)
    @inlineCallbacks
    def confirm_delete(self, request, admin, account_id):
        panel = self.panel
        account = yield self.load(account_id)
        base = "/admin/accounts/%d" % (account.id,)
        return panel.page(
            request, "admin.delete.title",
            tags.p(panel.text("admin.delete.text", sip_address=account.sip_address)),
            panel.form(request, base + "/delete", submit="admin.delete.submit", danger=True),
            tags.p(tags.a(href=base)(panel.text("admin.delete.cancel"))),
            account=admin, username=account.username,
        )

    @requirer.require(app.route("/admin/accounts/<int:account_id>/delete", methods=["POST"]),
                      admin=ADMIN)
    @inlineCallbacks
    def delete(self, admin, account_id):
        if not (yield self.panel.storage.delete_account(account_id)):
            raise no_account(account_id)
        log.info("account {id} deleted by administrator {admin}", id=account_id, admin=admin.id)
        return self.panel.redirect("/admin/accounts?done=deleted")
