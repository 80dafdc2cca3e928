"""
famd's Prometheus metrics (``metrics.listen`` in famd.yaml).

Every famd process counts in plain memory (L{famd.metrics.recorder}) and
writes its counts to one private directory once a second
(L{famd.metrics.shared}); the primary process merges them on each scrape
of its own listener (L{famd.metrics.listener}), which also answers
readiness.  L{famd.metrics.wiring} puts the counting at famd's choke points
at build time; L{famd.metrics.services} adds the flushing and the listener
to the service tree.  L{process_dead} is for the supervisor of workers.
"""

from famd.metrics import shared

directory = None
"""The primary process's metrics directory while metrics are on, else None."""


def process_dead(pid):
    """
    A worker process C{pid} exited: keep its last counts (counters never go
    back) and drop its gauges.  A no-op when metrics are off.
    """
    if directory is not None:
        shared.fold_dead(directory, pid)
