"""
The services of metrics in famd's service tree: a worker flushes its
counts to the shared directory once a second and when it stops
(L{FlushService}); the primary process owns the directory (creates it at
build, removes it at stop), listens on ``metrics.listen`` and keeps its own
counts in memory, read at each scrape (L{build_metrics_services}).
"""

import os

from twisted.application import strports
from twisted.application.internet import TimerService
from twisted.application.service import MultiService, Service
from twisted.internet import threads
from twisted.logger import Logger

import famd.metrics
from famd.metrics import shared

log = Logger(namespace="famd.metrics")

FLUSH_INTERVAL = 1.0
"""Seconds between two flushes of a process's counts."""


class FlushService(TimerService):
    """Write this process's counts to the directory every L{FLUSH_INTERVAL} and at stop."""

    def __init__(self, reactor, directory, recorder):
        super().__init__(FLUSH_INTERVAL, self.flush)
        self.clock = reactor
        self._reactor, self._directory, self._recorder = reactor, directory, recorder

    def flush(self):
        snapshot = self._recorder.snapshot()
        return threads.deferToThreadPool(
            self._reactor, self._reactor.getThreadPool(),
            shared.flush, self._directory, os.getpid(), snapshot,
        ).addErrback(lambda failure: log.failure("flushing metrics failed", failure))

    def stopService(self):
        super().stopService()
        # Blocking, once: the reactor's pool may already be stopping.
        shared.flush(self._directory, os.getpid(), self._recorder.snapshot())


class DirectoryService(Service):
    """Removes the primary's metrics directory when famd stops (after the last flush)."""

    def __init__(self, directory):
        self.directory = directory

    def stopService(self):
        super().stopService()
        if famd.metrics.directory == self.directory:
            famd.metrics.directory = None
        shared.remove(self.directory)


class SchemaVersion(Service):
    """
    The schema version for the exposition: asked of the storage when famd
    starts (opening an open storage again changes nothing and gives it);
    None until it answered.
    """

    version = None

    def __init__(self, storage):
        self._storage = storage

    def startService(self):
        super().startService()
        self._storage.open().addCallbacks(self._opened, lambda failure: None)

    def _opened(self, version):
        self.version = version

    def __call__(self):
        return self.version


def build_metrics_services(config, reactor, components, primary):
    """
    The metrics services of one process (an empty MultiService when metrics
    are off or, in a worker, no directory was inherited).
    """
    top = MultiService()
    recorder = components.get("metrics")
    if recorder is None or not recorder.enabled:
        return top
    if primary:
        # Imported only when metrics are on: prometheus-client is not loaded otherwise.
        from famd.metrics import listener

        directory = shared.create()
        DirectoryService(directory).setServiceParent(top)
        famd.metrics.directory = directory
        schema = SchemaVersion(components["storage"])
        schema.setServiceParent(top)
        site = listener.make_site(reactor, directory, recorder, components["storage"], schema)
        strports.service(config.metrics["listen"], site, reactor=reactor).setServiceParent(top)
        return top
    directory = shared.inherited()
    if directory is None:
        log.warn("metrics are on but no metrics directory was inherited: this worker is not counted")
        return top
    FlushService(reactor, directory, recorder).setServiceParent(top)
    return top
