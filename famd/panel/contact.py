"""
Changing the logged-in account's e-mail address and phone number, through
the API's own flows (L{famd.flows.email_change}, L{famd.flows.phone_change}):
the same rules, codes, limits and messages.

 - ``GET /account/email``: the current address, the form asking for a
   change and, while one is pending, the form taking its code;
 - ``POST /account/email`` (email): mails the new address a code (and the
   2021 link), counted by ``throttle.emails_*``; e-mail off or not sent is
   a 503 page;
 - ``POST /account/email/code`` (code): applies the pending change; a wrong
   code is a wrong secret of the client's address and counts against the
   code (void after ``throttle.code_tries``), an expired one is a 410 page;
 - ``GET /account/phone``, ``POST /account/phone`` (phone),
   ``POST /account/phone/code`` (code): the same for the phone number,
   the code sent by SMS (``throttle.sms_*``); as in the API, one wrong
   code voids the pending phone change.
"""

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from famd.api.self_service import NEW_EMAIL, NEW_PHONE
from famd.api.validation import is_text
from famd.client_address import client_address
from famd.errors import Conflict, Forbidden, Gone, Invalid, NotFound, TooMany, Unavailable
from famd.flows import email_change, phone_change
from famd.panel.base import ACCOUNT, OPTIONAL, REQUEST, PanelRoutes, requirer


class ContactPages(PanelRoutes):
    """The e-mail and phone changes (see the module docstring)."""

    app = Klein()

    # ---------------------------------------------------------- shared

    def _page(self, request, account, kind, pending, value="", error=None, code_error=None,
              status=200):
        """The page of C{kind} ('email' or 'phone') with its pending change (or None)."""
        panel = self.panel
        text = panel.text
        current = account.email if kind == "email" else account.phone
        parts = [tags.p(text("%s.current" % kind, **{kind: current}) if current
                        else text("%s.current_none" % kind))]
        if code_error and pending is None:
            parts.append(tags.p(class_="alert", role="alert")(code_error))
        if pending is not None:
            target = pending.email if kind == "email" else pending.phone
            parts.append(tags.p(class_="notice", role="status")(text("%s.sent" % kind, **{kind: target})))
            parts.append(panel.form(
                request, "/account/%s/code" % kind,
                panel.code_field("%s.code" % kind, error=code_error),
                submit="%s.code_submit" % kind,
            ))
        parts.append(panel.form(
            request, "/account/" + kind,
            panel.field(kind, "%s.new" % kind, kind="email" if kind == "email" else "tel",
                        value=value, error=error, autocomplete=kind if kind == "email" else "tel"),
            submit="%s.submit" % kind,
        ))
        return panel.page(request, "%s.title" % kind, *parts, account=account, status=status)

    def _pending(self, kind, account):
        storage = self.panel.storage
        return storage.email_code(account.id) if kind == "email" else storage.phone_change(account.id)

    @inlineCallbacks
    def _show(self, request, account, kind, **kwargs):
        pending = yield self._pending(kind, account)
        return self._page(request, account, kind, pending, **kwargs)

    @inlineCallbacks
    def _request(self, request, account, kind, value):
        """Ask the flow of C{kind} for a change to C{value}; the page to answer."""
        panel = self.panel
        text = panel.text
        value = value.strip()
        if kind == "email":
            _, errors = NEW_EMAIL.check({"email": value})
            problem = "email.invalid" if errors else ("email.same" if value == account.email else None)
        else:
            taken = is_text(value) and value and (yield panel.storage.phone_taken(value, account.id))
            _, errors = NEW_PHONE.check({"phone": value}, taken=("phone",) if taken else ())
            problem = ("phone.taken" if taken else "phone.invalid") if errors else None
        if problem:
            return (yield self._show(request, account, kind, value=value, error=text(problem),
                                     status=400))
        ip, agent = panel.origin(request)
        flow = email_change if kind == "email" else phone_change
        try:
            yield flow.request_change(panel.flows, account, value, ip, agent)
        except Unavailable:
            return (yield self._show(request, account, kind, value=value,
                                     error=text("%s.off" % kind), status=503))
        except TooMany as refusal:
            return panel.refusal_page(request, refusal, account=account)
        return panel.redirect("/account/" + kind)

    @inlineCallbacks
    def _confirm(self, request, account, kind, code):
        """Apply the pending change of C{kind} with C{code}; the page to answer."""
        panel = self.panel
        address = client_address(request, panel.config.proxies)
        try:
            if kind == "email":
                updated = yield email_change.confirm_code(panel.flows, account, code.strip(), address)
            else:
                updated = yield phone_change.confirm_change(panel.flows, account, code.strip(), address)
        except (Invalid, Forbidden):
            return (yield self._show(request, account, kind, code_error=panel.text("code.wrong"),
                                     status=403))
        except NotFound:
            return (yield self._show(request, account, kind, code_error=panel.text("code.none"),
                                     status=404))
        except Gone:
            return (yield self._show(request, account, kind, code_error=panel.text("code.expired"),
                                     status=410))
        except Conflict:
            return (yield self._show(request, account, kind, error=panel.text("phone.taken"),
                                     status=400))
        except TooMany as refusal:
            return panel.refusal_page(request, refusal, account=account)
        value = updated.email if kind == "email" else updated.phone
        return panel.page(request, "%s.title" % kind,
                          panel.notice("%s.done" % kind, **{kind: value}), account=updated)

    # ---------------------------------------------------------- e-mail

    @requirer.require(app.route("/account/email", methods=["GET"]), request=REQUEST, account=ACCOUNT)
    def show_email(self, request, account):
        return self._show(request, account, "email")

    @requirer.require(app.route("/account/email", methods=["POST"]), request=REQUEST,
                      account=ACCOUNT, email=Field.text(**OPTIONAL))
    def request_email(self, request, account, email):
        return self._request(request, account, "email", email)

    @requirer.require(app.route("/account/email/code", methods=["POST"]), request=REQUEST,
                      account=ACCOUNT, code=Field.text(**OPTIONAL))
    def confirm_email(self, request, account, code):
        return self._confirm(request, account, "email", code)

    # ---------------------------------------------------------- phone

    @requirer.require(app.route("/account/phone", methods=["GET"]), request=REQUEST, account=ACCOUNT)
    def show_phone(self, request, account):
        return self._show(request, account, "phone")

    @requirer.require(app.route("/account/phone", methods=["POST"]), request=REQUEST,
                      account=ACCOUNT, phone=Field.text(**OPTIONAL))
    def request_phone(self, request, account, phone):
        return self._request(request, account, "phone", phone)

    @requirer.require(app.route("/account/phone/code", methods=["POST"]), request=REQUEST,
                      account=ACCOUNT, code=Field.text(**OPTIONAL))
    def confirm_phone(self, request, account, code):
        return self._confirm(request, account, "phone", code)
