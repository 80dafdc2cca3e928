"""
The accounts, for administrators:

 - ``GET /admin/accounts``: the accounts by id, twenty a page
   (``?page=``, as ``GET /api/accounts``), searched by SIP address,
   username, e-mail or phone (``?q=``) and filtered by ``?activated=``,
   ``?admin=``, ``?blocked=`` (``yes``/``no``; anything else: any), through
   L{famd.interfaces.IAccountAdminStore.search_accounts};
 - ``GET /admin/accounts/new``, ``POST /admin/accounts/new``: an account
   created with the rules of ``POST /api/accounts``
   (L{famd.api.admin_accounts.NEW_ACCOUNT}, the same uniqueness check,
   L{famd.accounts.new_account}), then its page.
"""

from urllib.parse import urlencode

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger
from twisted.web.template import tags

from famd.accounts import USER_AGENT, new_account
from famd.api import validation
from famd.api.admin_accounts import NEW_ACCOUNT, PER_PAGE, fields_taken, page_number
from famd.errors import Conflict
from famd.panel.admin.common import (
    blank_to_none,
    checkbox,
    done_notice,
    field_errors,
    select,
    ticked,
)
from famd.panel.base import ADMIN, OPTIONAL, REQUEST, PanelRoutes, requirer

log = Logger(namespace="famd.panel.admin")

FILTERS = ("activated", "admin", "blocked")
"""The state filters of the list, each ``yes``, ``no`` or any."""
STATES = {"yes": True, "no": False}
DEFAULT_ALGORITHM = "SHA-256"
"""The algorithm of a password set on the panel (FAM 2.x's default)."""


def query_value(request, name):
    """The text of query argument C{name} ('' when absent or not UTF-8)."""
    values = (request.args or {}).get(name.encode("ascii")) or [b""]
    try:
        return values[-1].decode("utf-8")
    except UnicodeDecodeError:
        return ""


class AdminAccountsPages(PanelRoutes):
    """The accounts list and the creation form (see the module docstring)."""

    app = Klein()

    # ---------------------------------------------------------- list

    @requirer.require(app.route("/admin/accounts", methods=["GET"]), request=REQUEST,
                      admin=ADMIN)
    @inlineCallbacks
    def listing(self, request, admin):
        panel = self.panel
        text = panel.text
        search = query_value(request, "q").strip()[:255]
        chosen = {name: query_value(request, name) for name in FILTERS}
        states = {name: STATES.get(chosen[name]) for name in FILTERS}
        number = page_number(request)
        accounts, total = yield panel.storage.search_accounts(
            search or None, states["activated"], states["admin"], states["blocked"],
            (number - 1) * PER_PAGE, PER_PAGE)
        kept = [("q", search)] + [(name, chosen[name]) for name in FILTERS
                                  if chosen[name] in STATES]
        search_form = tags.form(method="get", action="/admin/accounts", class_="panel filters",
                                role="search")(
            panel.field("q", "admin.accounts.search", kind="search", value=search,
                        required=False),
            *[select(panel, name, "admin.accounts.filter." + name,
                     (("", "admin.accounts.any"), ("yes", "account.yes"), ("no", "account.no")),
                     chosen[name] if chosen[name] in STATES else "")
              for name in FILTERS],
            tags.button(type="submit", class_="button")(text("admin.accounts.find")),
        )
        content = [
            done_notice(panel, request),
            tags.p(tags.a(href="/admin/accounts/new", class_="button")(text("admin.new.title"))),
            search_form,
            tags.p(role="status")(text("admin.accounts.count", total=total)),
        ]
        if accounts:
            content.append(self.table(accounts))
        content.append(self.pager(kept, number, total))
        return panel.page(request, "admin.accounts.title", *content, account=admin)

    def table(self, accounts):
        """The table of one page of accounts."""
        text = self.panel.text
        yes_no = lambda value: text("account.yes" if value else "account.no")  # noqa: E731
        head = tags.tr(*[tags.th(scope="col")(text(key)) for key in (
            "account.sip_address", "account.email", "account.phone", "account.activated",
            "admin.accounts.blocked")])
        rows = [
            tags.tr(
                tags.td(tags.a(href="/admin/accounts/%d" % (account.id,))(account.sip_address)),
                tags.td(account.email or ""),
                tags.td(account.phone or ""),
                tags.td(yes_no(account.activated)),
                tags.td(yes_no(account.blocked)),
            )
            for account in accounts
        ]
        return tags.table(tags.caption(text("admin.accounts.caption")), tags.thead(head),
                          tags.tbody(*rows))

    def pager(self, kept, number, total):
        """The previous and next page links, keeping the search and filters."""
        text = self.panel.text
        last = max(1, -(-total // PER_PAGE))
        links = []

        def link(page, key):
            query = urlencode([pair for pair in kept if pair[1]] + [("page", page)])
            return tags.a(href="/admin/accounts?" + query)(text(key))

        if number > 1:
            links.append(link(min(number - 1, last), "admin.accounts.previous"))
        links.append(tags.span(text("admin.accounts.page", page=number, pages=last)))
        if number < last:
            links.append(link(number + 1, "admin.accounts.next"))
        return tags.nav(class_="pager", **{"aria-label": text("admin.accounts.pages")})(*links)

    # ---------------------------------------------------------- create

    def new_page(self, request, admin, values=None, errors=None, status=200):
        """The creation form, with the values sent and their errors."""
        panel = self.panel
        values = values or {}
        errors = errors or {}
        return panel.page(
            request, "admin.new.title",
            panel.alert("admin.invalid") if errors else "",
            panel.form(
                request, "/admin/accounts/new",
                panel.field("username", "admin.field.username", value=values.get("username", ""),
                            error=errors.get("username"), autocomplete="off"),
                panel.field("password", "admin.field.password", kind="password",
                            error=errors.get("password"), autocomplete="new-password"),
                panel.field("email", "account.email", kind="email", value=values.get("email", ""),
                            error=errors.get("email"), required=False, autocomplete="off"),
                panel.field("phone", "admin.field.phone", kind="tel", value=values.get("phone", ""),
                            error=errors.get("phone"), required=False, autocomplete="off"),
                checkbox(panel, "activated", "admin.field.activated",
                         ticked(values.get("activated", "on"))),
                checkbox(panel, "make_admin", "admin.field.admin", ticked(values.get("make_admin"))),
                submit="admin.new.submit",
            ),
            account=admin, status=status,
        )

    @requirer.require(app.route("/admin/accounts/new", methods=["GET"]), request=REQUEST,
                      admin=ADMIN)
    def show_new(self, request, admin):
        return self.new_page(request, admin)

    @requirer.require(
        app.route("/admin/accounts/new", methods=["POST"]), request=REQUEST, admin=ADMIN,
        username=Field.text(**OPTIONAL), password=Field.password(**OPTIONAL),
        email=Field.text(**OPTIONAL), phone=Field.text(**OPTIONAL),
        activated=Field.text(**OPTIONAL), make_admin=Field.text(**OPTIONAL),
    )
    @inlineCallbacks
    def create(self, request, admin, username, password, email, phone, activated, make_admin):
        panel = self.panel
        config = panel.config
        sent = {"username": username, "email": email, "phone": phone,
                "activated": activated, "make_admin": make_admin}
        data = {
            "username": username, "password": password, "algorithm": DEFAULT_ALGORITHM,
            "email": blank_to_none(email), "phone": blank_to_none(phone),
            "activated": ticked(activated), "admin": ticked(make_admin),
        }
        values, errors = NEW_ACCOUNT.check(data)
        if errors:
            taken = yield self.taken(data)
            return self.new_page(request, admin, sent, field_errors(
                validation.with_taken(errors.fields, taken, NEW_ACCOUNT.names)), status=422)
        fresh = new_account(
            config, panel.now(), values["username"], values["password"], values["algorithm"],
            domain=config.sip_domain, activated=values["activated"], admin=values["admin"],
            email=values["email"], phone=values["phone"],
            ip_address=panel.origin(request)[0], user_agent=USER_AGENT,
        )
        try:
            account = yield panel.storage.create_and_load_account(fresh)
        except Conflict as conflict:
            taken = yield self.taken(data)
            return self.new_page(request, admin, sent, field_errors(validation.with_taken(
                {}, set(taken) | {conflict.field}, NEW_ACCOUNT.names)), status=422)
        log.info("account {id} created by administrator {admin}", id=account.id, admin=admin.id)
        return panel.redirect("/admin/accounts/%d?done=created" % (account.id,))

    def taken(self, data):
        """Fire with the unique fields of C{data} another account already uses (the API's check)."""
        return fields_taken(self.panel.storage, self.panel.config.sip_domain, data)
