"""
The account panel's resource, as famd mounts it at ``/`` (L{famd.service}):
L{build_panel} makes the L{famd.panel.panel.Panel} from the configuration,
L{panel_resource} the resource serving every route class with the panel's
headers, and L{answer_failure} turns any failure into an HTML page (the
API's refusals, klein's routing misses, a request posted without a
session), never JSON.
"""

from klein.interfaces import NoSuchSession
from klein.resource import KleinResource
from twisted.logger import Logger

from famd import errors
from famd.config import PANEL
from famd.logsafe import printable, redact
from famd.panel.account import AccountPages
from famd.panel.admin.account import AdminAccountPages
from famd.panel.admin.accounts import AdminAccountsPages
from famd.panel.admin.api_key import AdminApiKeyPage
from famd.panel.admin.index import AdminIndex
from famd.panel.catalogue import Catalogue
from famd.panel.contact import ContactPages
from famd.panel.devices import DevicePages
from famd.panel.layout import Layout, set_headers
from famd.panel.panel import Panel
from famd.panel.password import PasswordPages
from famd.panel.provisioning import ProvisioningPages
from famd.panel.public import PublicPages
from famd.panel.recovery import RecoveryPages
from famd.panel.sessions import PanelProcurer, PanelSessionStore
from famd.panel.signup import SignUpPages
from famd.web import mount, refusal_of

log = Logger(namespace="famd.panel")

ROUTE_CLASSES = [
    PublicPages, AccountPages, PasswordPages, ContactPages, DevicePages, ProvisioningPages,
    SignUpPages, RecoveryPages,
    AdminIndex, AdminAccountsPages, AdminAccountPages, AdminApiKeyPage,
]
"""The route classes the panel serves; a new family of pages adds its class here."""


def settings_of(config):
    """famd.yaml's ``panel:`` values, defaults filled in (a Config made in code may have none)."""
    values = {option.key: option.default for option in PANEL}
    values.update(config.panel or {})
    return values


def build_panel(config, storage, now, throttle, flows, registrar):
    """The L{Panel} of C{config} (reads the catalogue and style sheet: call at start-up)."""
    settings = settings_of(config)
    text = Catalogue.load(settings["catalogue"])
    layout = Layout(text, config.app_name, config.sip_domain)
    sessions = PanelSessionStore(storage, now, settings["session_idle"],
                                 settings["session_lifetime"], config.everyone_is_admin)
    panel = Panel(config, settings, storage, now, throttle, flows, registrar, text, layout,
                  sessions, None)
    panel.procurer = PanelProcurer(sessions, panel.secure)
    return panel


def answer_failure(panel):
    """The panel's error handler: an HTML page for every failure."""

    def answer(request, failure):
        if failure.check(NoSuchSession):
            return panel.csrf_refusal(request)
        refusal = refusal_of(failure.value, request)
        if refusal is None:
            log.failure("unexpected error answering {method} {path}", failure,
                        method=printable(request.method), path=printable(redact(request.path)))
            return panel.refusal_page(request, errors.Refusal("internal"), status=500)
        return panel.refusal_page(request, refusal)

    return answer


class PanelResource(KleinResource):
    """A Klein resource whose every answer carries the panel's headers (L{set_headers})."""

    def render(self, request):
        set_headers(request)
        return super().render(request)


def panel_resource(panel, route_classes=None):
    """The resource serving the panel's routes (L{ROUTE_CLASSES} unless told)."""
    routes = [kind(panel) for kind in (route_classes or ROUTE_CLASSES)]
    return PanelResource(mount(*routes, on_failure=answer_failure(panel)))
