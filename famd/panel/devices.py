"""
The logged-in account's devices, from the registrar backend
(L{famd.interfaces.IRegistrar}, as ``/api/accounts/me/devices`` reads them).

 - ``GET /account/devices``: the devices registered now, each with a
   removal button; with the ``none`` registrar, a page saying the feature
   is off; a registrar that cannot be reached is a 503 page;
 - ``POST /account/devices/remove`` (uuid): unregisters one device of the
   account, then back to the list (a uuid the account has not is a 404
   page).
"""

from klein import Field, Klein
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger
from twisted.web.template import tags

from famd.panel.base import ACCOUNT, OPTIONAL, REQUEST, PanelRoutes, post_form, requirer

log = Logger(namespace="famd.panel.devices")


class DevicePages(PanelRoutes):
    """The devices page (see the module docstring)."""

    app = Klein()

    def _table(self, request, devices):
        text = self.panel.text

        def shown(value):
            return value if value else text("devices.unknown")

        rows = []
        for device in devices:
            rows.append(tags.tr(
                tags.td(shown(device.user_agent)),
                tags.td(shown(device.update_time)),
                tags.td(shown(device.expires_at)),
                tags.td(post_form(
                    request, "/account/devices/remove",
                    tags.input(type="hidden", name="uuid", value=device.uuid),
                    tags.button(type="submit", class_="danger")(text("devices.remove")),
                )),
            ))
        return tags.table(
            tags.thead(tags.tr(
                tags.th(scope="col")(text("devices.agent")),
                tags.th(scope="col")(text("devices.updated")),
                tags.th(scope="col")(text("devices.expires")),
                tags.td(),
            )),
            tags.tbody(*rows),
        )

    @requirer.require(app.route("/account/devices", methods=["GET"]), request=REQUEST,
                      account=ACCOUNT)
    @inlineCallbacks
    def show(self, request, account, notice=None):
        panel = self.panel
        if panel.registrar is None:
            return panel.page(request, "devices.title", tags.p(panel.text("devices.off")),
                              account=account)
        devices = yield panel.registrar.list_devices(account.username, account.domain)
        content = [tags.p(panel.text("devices.intro"))]
        if notice:
            content.insert(0, panel.notice(notice))
        content.append(self._table(request, devices) if devices
                       else tags.p(panel.text("devices.none")))
        return panel.page(request, "devices.title", *content, account=account)

    @requirer.require(app.route("/account/devices/remove", methods=["POST"]), request=REQUEST,
                      account=ACCOUNT, uuid=Field.text(**OPTIONAL))
    @inlineCallbacks
    def remove(self, request, account, uuid):
        panel = self.panel
        if panel.registrar is None:
            return panel.page(request, "devices.title", tags.p(panel.text("devices.off")),
                              account=account, status=404)
        removed = uuid and (yield panel.registrar.remove_device(account.username, account.domain, uuid))
        if not removed:
            return panel.page(request, "devices.title", panel.alert("devices.gone"),
                              tags.p(tags.a(href="/account/devices")(panel.text("devices.title"))),
                              account=account, status=404)
        log.info("a device of account {id} removed (panel)", id=account.id)
        return panel.redirect("/account/devices")
