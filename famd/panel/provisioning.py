"""
A QR code that sets a Linphone app up with the logged-in account in one
scan: a new provisioning token (L{famd.flows.provisioning.issue}, which
voids the account's older ones) whose ``/provisioning/{token}`` URL the QR
code holds (L{famd.provisioning.qr}); the app fetches its document, with
the account's credentials, from that URL once.

 - ``GET /account/provisioning``: what the QR code does, and the button;
 - ``POST /account/provisioning``: issues the token and shows its QR code
   (an inline PNG: ``img-src data:``) and URL, never cached.
"""

import base64

from klein import Klein
from twisted.internet.defer import inlineCallbacks
from twisted.web.template import tags

from famd.flows.provisioning import expire_at, issue, provisioning_url
from famd.panel.base import ACCOUNT, REQUEST, PanelRoutes, requirer
from famd.provisioning import qr


class ProvisioningPages(PanelRoutes):
    """The provisioning QR code page (see the module docstring)."""

    app = Klein()

    @requirer.require(app.route("/account/provisioning", methods=["GET"]), request=REQUEST,
                      account=ACCOUNT)
    def show(self, request, account):
        panel = self.panel
        return panel.page(
            request, "provisioning.title",
            tags.p(panel.text("provisioning.intro")),
            panel.form(request, "/account/provisioning", submit="provisioning.submit"),
            account=account,
        )

    @requirer.require(app.route("/account/provisioning", methods=["POST"]), request=REQUEST,
                      account=ACCOUNT)
    @inlineCallbacks
    def make(self, request, account):
        panel = self.panel
        ip, agent = panel.origin(request)
        issued = yield issue(panel.flows, account.id, ip, agent)
        url = provisioning_url(panel.config, issued.token)
        image = "data:image/png;base64," + base64.b64encode(qr.png(url, box_size=6)).decode("ascii")
        content = [
            panel.alert("provisioning.warning"),
            tags.p(tags.img(class_="qr", src=image,
                            alt=panel.text("provisioning.image", address=account.sip_address))),
            tags.p(panel.text("provisioning.link")),
            tags.p(tags.code(url)),
        ]
        until = expire_at(panel.config, issued)
        if until is not None:
            content.append(tags.p(panel.text("provisioning.expires",
                                              moment=until.strftime("%Y-%m-%d %H:%M"))))
        return panel.page(request, "provisioning.title", *content, account=account)
