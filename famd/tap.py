"""
``twistd famd``: command-line options and the service factory.

The configuration is read and checked while options are parsed, so a bad
file stops twistd with every error before anything is bound; the storage
schema is created or upgraded before the service starts.
"""

import gc
import signal

from twisted.application.service import Service
from twisted.internet import defer
from twisted.python import usage

from famd.config import ConfigError, load
from famd.interfaces import SchemaTooNew, StorageUnavailable
from famd.logs import ObservedService, observer_for_twistd
from famd.notifiers.templates import TemplateError
from famd.provisioning.rcfile import RcFileError


class Options(usage.Options):
    """Options of ``twistd famd``."""

    synopsis = "[--config FILE]"
    longdesc = "Serve the Flexisip account manager REST API and Linphone provisioning."
    optParameters = [
        ["config", "c", "famd.yaml", "The famd.yaml configuration file."],
    ]

    def postOptions(self):
        try:
            self["famd_config"] = load(self["config"])
        except ConfigError as error:
            raise usage.UsageError(
                "invalid configuration %s:\n  %s" % (self["config"], "\n  ".join(error.errors))
            )


class ExitZeroOnSignal(Service):
    """
    Stop on SIGTERM/SIGINT with exit status 0.  twistd's own handler makes
    the process die by the signal again, which service managers report as
    a failure; a requested stop is not one.
    """

    def __init__(self, reactor):
        self.reactor = reactor

    def startService(self):
        super().startService()
        # After the reactor installed its own handlers, which it does on start.
        self.reactor.callWhenRunning(self._install)

    def _install(self):
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._stop)

    def _stop(self, number, frame):
        self.reactor.callFromThread(self.reactor.stop)


def serve_on_every_core(service, config, reactor):
    """
    Add the worker processes (L{famd.workers}, with ``workers`` above 1) and
    systemd's readiness datagram (L{famd.sdnotify}: READY=1 once the parent
    and every worker serve) to famd's service tree.  Both stop first when
    famd stops, with the listener.
    """
    from famd import metrics
    from famd.sdnotify import NotifyService
    from famd.workers import Supervisor

    listener = service.getServiceNamed("http")
    waits = [listener.when_listening]
    if config.workers > 1:
        access = service.getServiceNamed("access-log").access
        supervisor = Supervisor(config.path, config.workers - 1, listener, access, reactor)
        supervisor.on_exit(metrics.process_dead)  # a dead worker's gauges go, its counts stay
        supervisor.setServiceParent(service)
        service.first.append(supervisor)
        waits.append(supervisor.ready)
    status = "serving %s with %d process%s" % (config.listen, config.workers,
                                               "es" if config.workers > 1 else "")
    notifier = NotifyService(reactor, lambda: defer.gatherResults([wait() for wait in waits]), status)
    notifier.setServiceParent(service)
    service.first.append(notifier)


def makeService(options):
    """Build famd's service tree from parsed L{Options}."""
    # Imported here, once twistd has installed the reactor of its choice:
    # Klein, under famd.service, imports the global reactor.
    from twisted.internet import reactor

    from famd.service import build_components, build_service

    config = options["famd_config"]
    try:
        components = build_components(config, reactor)
        components["storage"].migrate_blocking()
        service = build_service(config, reactor, components)
    except (SchemaTooNew, StorageUnavailable, RcFileError, TemplateError, ValueError, OSError) as error:
        # Cross-key checks of backends, an unreadable rc file or template, a database
        # that is ahead of us or unreachable: say it and exit 1, unbound.
        raise SystemExit("famd: cannot start: %s" % (error,))
    ExitZeroOnSignal(reactor).setServiceParent(service)
    serve_on_every_core(service, config, reactor)
    # Everything built so far lives as long as famd: keep it out of the
    # garbage collector's full passes, which would otherwise walk it all
    # and pause requests for tens of milliseconds.
    reactor.callWhenRunning(gc.freeze)
    # famd's log observer (log_format, access log batches), handed to
    # twistd's application as it takes the service: see famd.logs.
    return ObservedService(service, observer_for_twistd(config.log_format, options.parent))
