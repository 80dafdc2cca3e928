"""
What one famd process counts, in plain dicts, between two flushes.

A L{Recorder} keeps every count in memory (a dict update per event, about a
tenth of what prometheus-client's multiprocess mode costs: its every
increment writes a memory-mapped file under a lock) and hands a snapshot to
L{famd.metrics.shared}, which writes it once a second.  L{NO_RECORDER}
stands in when metrics are off: the hot paths are not instrumented at all
then (L{famd.metrics.wiring} chooses at build time), and the rare events
(sign-ups, throttle refusals) call its methods, which do nothing.

Families (their Prometheus names and help texts are in
L{famd.metrics.exposition}): requests by (route, method, status) with their
latency; storage transactions by (name, outcome) with their latency;
deliveries by (backend, outcome); the sign-up funnel by (event,
generation); throttle refusals by limit; registrar calls by (operation,
outcome); gauges read at flush time (database pool use).
"""

import functools
import re
from bisect import bisect_left
from time import perf_counter

from twisted.python.failure import Failure

from famd.errors import Conflict
from famd.interfaces import StorageUnavailable

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the latency histograms' buckets; +Inf is implied."""

METHODS = frozenset((b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"))
"""Methods counted by name; any other is counted as ``other`` (a client chooses it)."""

UNMATCHED = "unmatched"
"""The route label of a request no route answered (an unknown path, a refused head)."""

REQUESTS, TRANSACTIONS = "requests", "transactions"
DELIVERIES, SIGNUP, THROTTLED, REGISTRAR = "deliveries", "signup", "throttled", "registrar"


def transaction_outcome(result):
    """The outcome label of a finished storage transaction: ok, conflict, unavailable or error."""
    if type(result) is not Failure:
        return "ok"
    if result.check(Conflict):
        return "conflict"
    if result.check(StorageUnavailable):
        return "unavailable"
    return "error"


def _cells():
    """A histogram's cells: one count per bucket of L{BUCKETS} and +Inf (not cumulative), then the sum."""
    return [0] * (len(BUCKETS) + 2)


class Recorder:
    """
    The counts of one process, kept as cheaply as they can be on the hot
    paths (a tuple, a dict lookup, a bisection and two additions):

     - C{requests}: (Klein rule or None, application prefix, method, status)
       -> histogram cells (one count per bucket of L{BUCKETS} and +Inf, not
       cumulative, then the sum of the seconds); L{snapshot} turns the rule
       into the route label (L{route_label});
     - C{transactions}: (name, outcome) -> histogram cells;
     - C{counters}: (family, labels) -> number;
     - C{gauges}: callables read at each snapshot, returning ((family,
       labels, value), ...).
    """

    enabled = True

    def __init__(self):
        self.requests = {}
        self.transactions = {}
        self.counters = {}
        self.gauges = []

    def request(self, rule, prefix, method, status, seconds):
        """One HTTP request answered (C{rule} a Klein rule or None, C{method} bytes)."""
        key = (rule, prefix, method if method in METHODS else b"other", status)
        cells = self.requests.get(key)
        if cells is None:
            cells = self.requests[key] = _cells()
        cells[bisect_left(BUCKETS, seconds)] += 1
        cells[-1] += seconds

    def transaction(self, name, d):
        """Time the storage transaction C{name} whose outcome C{d} (a Deferred) fires with; return C{d}."""
        return d.addBoth(self._transaction_done, name, perf_counter())

    def _transaction_done(self, result, name, started):
        seconds = perf_counter() - started
        key = (name, "ok" if type(result) is not Failure else transaction_outcome(result))
        cells = self.transactions.get(key)
        if cells is None:
            cells = self.transactions[key] = _cells()
        cells[bisect_left(BUCKETS, seconds)] += 1
        cells[-1] += seconds
        return result

    def count(self, family, labels):
        """Count one event of C{family} with C{labels}."""
        key = (family, labels)
        self.counters[key] = self.counters.get(key, 0) + 1

    def delivery(self, backend, outcome):
        """One message handed to a notifier: sent, refused or timed_out."""
        self.count(DELIVERIES, (backend, outcome))

    def signup(self, event, generation):
        """One step of the sign-up funnel (token_pushed, account_created, activated) of an API generation."""
        self.count(SIGNUP, (event, generation))

    def throttled(self, limit):
        """One request refused by the throttle limit C{limit}."""
        self.count(THROTTLED, (limit,))

    def registrar(self, operation, outcome):
        """One registrar call (list_devices, remove_device) and its outcome (ok, unavailable, error)."""
        self.count(REGISTRAR, (operation, outcome))

    def gauge(self, read):
        """Read C{read()} at every snapshot: ((family, labels, value), ...)."""
        self.gauges.append(read)

    def snapshot(self):
        """Everything counted so far, as plain data (lists, strings and numbers) for JSON."""
        histograms = {}
        for (rule, prefix, method, status), cells in self.requests.items():
            labels = (route_label(rule, prefix), method.decode("ascii"), str(status))
            _add_cells(histograms, (REQUESTS, labels), cells)
        for labels, cells in self.transactions.items():
            _add_cells(histograms, (TRANSACTIONS, labels), cells)
        gauges = []
        for read in self.gauges:
            gauges.extend([family, list(labels), value] for family, labels, value in read())
        return {
            "histograms": [[family, list(labels), cells] for (family, labels), cells in histograms.items()],
            "counters": [[family, list(labels), value]
                         for (family, labels), value in self.counters.items()],
            "gauges": gauges,
        }


def _add_cells(histograms, key, cells):
    total = histograms.get(key)
    if total is None:
        histograms[key] = list(cells)
    else:
        for index, value in enumerate(cells):
            total[index] += value


_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


@functools.lru_cache(maxsize=1024)
def route_label(rule, prefix):
    """
    The route label of a request: the application's C{prefix} (bytes, the
    first path segment) and the Klein C{rule} that matched, its variables
    written C{{name}} (``/api/accounts/{id}``), or L{UNMATCHED} when no
    rule did.  Never the raw path.
    """
    if rule is None:
        return UNMATCHED
    return "/%s%s" % (prefix.decode("ascii", "replace"), _VARIABLE.sub(r"{\1}", rule))


class NoRecorder:
    """Metrics off: every event is dropped."""

    enabled = False

    def request(self, rule, prefix, method, status, seconds):
        pass

    def transaction(self, name, d):
        return d

    def delivery(self, backend, outcome):
        pass

    def signup(self, event, generation):
        pass

    def throttled(self, limit):
        pass

    def registrar(self, operation, outcome):
        pass

    def gauge(self, read):
        pass


NO_RECORDER = NoRecorder()
"""The recorder of a famd whose metrics are off."""
