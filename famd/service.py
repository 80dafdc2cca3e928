"""
The service tree of a running famd.

storage -> nonce janitor -> web listener -> throttle count janitor -> auth
token janitor -> panel session janitor -> access log writer, under one
MultiService.  Factory
functions build each piece from a L{famd.config.Config} and a reactor; only
L{famd.tap} hands them the global reactor.
"""

from twisted.application.internet import TimerService
from twisted.application.service import Service
from twisted.internet.endpoints import serverFromString
from twisted.logger import Logger

from famd import accesslog
from famd.accesslog import AccessLogService
from famd.api.app import api
from famd.auth import Authenticator
from famd.backends import BackendContext
from famd.clock import ago, reactor_clock
from famd.connections import descriptor_budget
from famd.creation_page import SEGMENT as CREATION_PAGE, CreationPage
from famd.flows import Context
from famd.flows.provisioning import auth_token_cutoff
from famd.listener import Listener, StopFirst
from famd.metrics.recorder import NO_RECORDER
from famd.metrics.services import build_metrics_services
from famd.metrics.wiring import instrument_components, meter_site, recorder_for
from famd.panel import site as panel_site
from famd.provisioning import web as provisioning_web
from famd.throttle import LONGEST_WINDOW, Throttle
from famd.web import make_site, mount

log = Logger()


class StorageService(Service):
    """Opens the storage when famd starts and closes it when famd stops."""

    def __init__(self, storage):
        self.storage = storage

    def startService(self):
        super().startService()
        d = self.storage.open()
        d.addCallback(lambda version: log.info("storage ready, schema version {v}", v=version))
        d.addErrback(lambda failure: log.failure("storage failed to open", failure))
        return d

    def stopService(self):
        super().stopService()
        return self.storage.close()


def purge_nonces(storage, now, lifetime):
    """Delete nonces unused for C{lifetime} seconds; log how many."""
    def purged(count):
        if count:
            log.debug("purged {count} nonces", count=count)
        return count

    d = storage.delete_nonces(ago(now(), lifetime))
    d.addCallback(purged)
    d.addErrback(lambda failure: log.failure("purging nonces failed", failure))
    return d


def purge_counts(storage, now):
    """Delete throttle counts older than the longest window (L{famd.throttle})."""
    d = storage.forget_expired_attempts(ago(now(), LONGEST_WINDOW))
    d.addErrback(lambda failure: log.failure("purging throttle counts failed", failure))
    return d


def purge_auth_tokens(storage, now):
    """Delete the QR login's auth tokens too old to be used (L{famd.flows.provisioning})."""
    d = storage.delete_auth_tokens(auth_token_cutoff(now()))
    d.addErrback(lambda failure: log.failure("purging auth tokens failed", failure))
    return d


def build_components(config, reactor):
    """
    Build every provider named in C{config}.

    @return: a dict: storage, email, sms, push, registrar, hooks, now,
        metrics (the L{famd.metrics.recorder} at their choke points).
    """
    context = BackendContext(reactor, config)
    return instrument_components(config, {
        "storage": config.storage.build(context),
        "email": config.email.build(context),
        "sms": config.sms.build(context),
        "push": config.push.build(context),
        "registrar": config.registrar.build(context),
        "hooks": [hook.build(context) for hook in config.provisioning_hooks],
        "now": reactor_clock(reactor),
        "reactor": reactor,
    }, recorder_for(config))


def build_applications(config, components):
    """
    The routers of ``/api`` and ``/provisioning`` by prefix, as
    L{famd.api.openapi.document} reads them, and the L{famd.flows.Context}
    (reads the message templates and the provisioning rc file: call at
    start-up).
    """
    storage, now = components["storage"], components["now"]
    throttle = Throttle.from_config(config, storage, now)
    recorder = components.get("metrics", NO_RECORDER)
    throttle.refused = recorder.throttled
    context = Context.from_config(
        config, storage, now,
        email=components["email"], sms=components["sms"], push=components["push"],
        throttle=throttle, metrics=recorder,
    )
    authenticator = Authenticator.from_config(
        config, storage, now, throttle, components.get("reactor")
    )
    provisioning = provisioning_web.from_config(
        config, storage, components["hooks"], now, throttle, authenticator
    )
    applications = {}
    api(config, storage, now, authenticator, context, components["registrar"], applications)
    applications["/provisioning"] = mount(provisioning)
    return applications, context


def build_resources(config, components):
    """
    The applications of the site, by first path segment: ``/api``,
    ``/provisioning`` and ``/creation_token`` (reads the message templates,
    the provisioning rc file and the page's assets: call at start-up).
    """
    applications, context = build_applications(config, components)
    components["panel"] = build_panel(config, components, context)
    return {
        b"api": applications["/api"].resource(),
        b"provisioning": applications["/provisioning"].resource(),
        CREATION_PAGE: mount(CreationPage(context)).resource(),
    }


def build_panel(config, components, context):
    """
    The account panel (L{famd.panel.panel.Panel}) of C{config}, or None
    when ``panel.enabled`` is false (reads its catalogue and style sheet).
    """
    if not panel_site.settings_of(config)["enabled"]:
        return None
    return panel_site.build_panel(config, components["storage"], components["now"], context.throttle, context,
                    components["registrar"])


def purge_sessions(panel):
    """Delete the account panel's expired sessions (L{famd.panel.sessions})."""
    d = panel.sessions.purge()
    d.addErrback(lambda failure: log.failure("purging panel sessions failed", failure))
    return d


def build_site(config, components, reactor, access=None):
    """
    The HTTP site serving /api, /provisioning, /creation_token and, at
    every other path, the account panel (when enabled); access log lines
    go to C{access}.
    """
    children = build_resources(config, components)
    panel = components.get("panel")
    return make_site(
        children, config.max_body_size, reactor, access=access,
        header_timeout=config.header_timeout, body_timeout=config.body_timeout,
        max_connections=config.max_connections,
        fallback=panel_site.panel_resource(panel) if panel is not None else None,
    )


def build_listener(config, site, reactor, listen=None):
    """
    The service listening on C{config.listen} for C{site} (or on what
    C{listen(site)} opens), whose connection cap is fitted to the process's
    open-file limit (raised when it can be, see
    L{famd.connections.descriptor_budget}).  With several workers, they
    take the socket's connections in turns (L{famd.listener.accept_in_turns}).
    """
    site.max_connections = descriptor_budget(config.max_connections)
    if listen is None:
        listen = serverFromString(reactor, config.listen).listen
    return Listener(listen, site, reactor, shared=config.workers > 1)


def build_service(config, reactor, components=None, worker=None):
    """
    The whole service tree (storage must already be migrated).  With
    C{worker} (a L{famd.worker.Role}), a worker process's tree: it serves
    the socket inherited from the parent, sends its access lines to the
    parent, and runs no timers (the parent alone purges).
    """
    primary = worker is None
    if components is None:
        components = build_components(config, reactor)
    top = StopFirst()
    StorageService(components["storage"]).setServiceParent(top)
    janitor = TimerService(
        max(60, config.nonce_lifetime // 4),
        purge_nonces,
        components["storage"],
        components["now"],
        config.nonce_lifetime,
    )
    janitor.clock = reactor
    if primary:
        janitor.setServiceParent(top)
    access = (accesslog.from_setting(config.access_log, reactor) if primary
              else worker.access(config.access_log))
    site = build_site(config, components, reactor, access)
    recorder = components.get("metrics", NO_RECORDER)
    if recorder.enabled:
        meter_site(site, recorder)
    listener = build_listener(config, site, reactor, None if primary else worker.listen)
    listener.setServiceParent(top)
    top.first.append(listener)  # stop accepting and answer what is in flight first
    counts = TimerService(3600, purge_counts, components["storage"], components["now"])
    counts.clock = reactor
    auth_tokens = TimerService(600, purge_auth_tokens, components["storage"], components["now"])
    auth_tokens.clock = reactor
    if primary:
        counts.setServiceParent(top)
        auth_tokens.setServiceParent(top)
        if components.get("panel") is not None:
            sessions = TimerService(600, purge_sessions, components["panel"])
            sessions.clock = reactor
            sessions.setServiceParent(top)
    if recorder.enabled:
        build_metrics_services(config, reactor, components, primary).setServiceParent(top)
    AccessLogService(access).setServiceParent(top)
    return top
