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

from bisect import bisect_left
from time import perf_counter

from famd.errors import Conflict
from famd.interfaces import StorageUnavailable

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the latency histograms' buckets; +Inf is implied."""

UNMATCHED = "unmatched"
"""The route label of a request no route answered (an unknown path, a refused head)."""

REQUESTS, TRANSACTIONS = "requests", "transactions"
DELIVERIES, SIGNUP, THROTTLED, REGISTRAR = "deliveries", "signup", "throttled", "registrar"


def transaction_outcome(result):
    """The outcome label of a finished storage transaction: ok, conflict, unavailable or error."""
    value = getattr(result, "value", None)
    if value is None or not hasattr(result, "check"):
        return "ok"
    if isinstance(value, Conflict):
        return "conflict"
    if isinstance(value, StorageUnavailable):
        return "unavailable"
    return "error"


class Recorder:
    """
    The counts of one process.  C{histograms} maps (family, labels) to a
    list: one count per bucket of L{BUCKETS} and +Inf (not cumulative),
    then the sum of the observed seconds; C{counters} maps (family, labels)
    to a number; C{gauges} are callables, read at each snapshot, returning
    ((family, labels, value), ...).
    """

    enabled = True

    def __init__(self):
        self.histograms = {}
        self.counters = {}
        self.gauges = []

    def observe(self, family, labels, seconds):
        """Count one event of C{family} with C{labels} that lasted C{seconds}."""
        key = (family, labels)
        cells = self.histograms.get(key)
        if cells is None:
            cells = self.histograms[key] = [0] * (len(BUCKETS) + 2)
        cells[bisect_left(BUCKETS, seconds)] += 1
        cells[-1] += seconds

    def count(self, family, labels):
        """Count one event of C{family} with C{labels}."""
        key = (family, labels)
        self.counters[key] = self.counters.get(key, 0) + 1

    # What famd counts

    def request(self, route, method, status, seconds):
        """One HTTP request answered (C{route} is a template, never a path)."""
        self.observe(REQUESTS, (route, method, status), seconds)

    def transaction(self, name, d):
        """Time the storage transaction C{name} whose outcome C{d} (a Deferred) fires with; return C{d}."""
        started = perf_counter()

        def done(result):
            self.observe(TRANSACTIONS, (name, transaction_outcome(result)), perf_counter() - started)
            return result

        return d.addBoth(done)

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
        """Everything counted so far, as plain data (lists and numbers) for JSON."""
        gauges = []
        for read in self.gauges:
            gauges.extend([family, list(labels), value] for family, labels, value in read())
        return {
            "histograms": [[family, list(labels), cells]
                           for (family, labels), cells in self.histograms.items()],
            "counters": [[family, list(labels), value]
                         for (family, labels), value in self.counters.items()],
            "gauges": gauges,
        }


class NoRecorder:
    """Metrics off: every event is dropped."""

    enabled = False

    def request(self, route, method, status, seconds):
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
