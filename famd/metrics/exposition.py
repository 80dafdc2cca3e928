"""
The Prometheus text exposition of the merged counts of every famd process
(L{famd.metrics.shared.merge}), written by prometheus-client from a
collector of its own registry (never the client's global one).
"""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from famd import __version__
from famd.metrics import recorder as r

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"

COUNTERS = (
    # (recorded family, name, help, labels)
    (r.DELIVERIES, "famd_notifier_deliveries_total",
     "Messages handed to a notifier, by backend and outcome (sent, refused, timed_out).",
     ("backend", "outcome")),
    (r.SIGNUP, "famd_signup_events_total",
     "Sign-up funnel steps (token_pushed, account_created, activated) by API generation.",
     ("event", "generation")),
    (r.THROTTLED, "famd_throttle_refusals_total",
     "Requests refused by a throttle limit (429), by limit name.", ("limit",)),
    (r.REGISTRAR, "famd_registrar_calls_total",
     "Registrar calls by operation and outcome (ok, unavailable, error).",
     ("operation", "outcome")),
)

HISTOGRAMS = (
    # (recorded family, counter name, histogram name, labels kept by the histogram, helps)
    (r.REQUESTS, "famd_http_requests_total", "famd_http_request_duration_seconds",
     ("route", "method", "status"), 2,
     "HTTP requests answered, by route template, method and status.",
     "Seconds from a request received (head and body) to its answer, by route template and method."),
    (r.TRANSACTIONS, "famd_storage_transactions_total", "famd_storage_transaction_duration_seconds",
     ("transaction", "outcome"), 1,
     "Storage transactions by name and outcome (ok, conflict, unavailable, error).",
     "Seconds a storage transaction took, queueing included, by name."),
)

GAUGES = (
    ("pool_in_use", "famd_storage_pool_connections_in_use",
     "Database connections in use (all processes)."),
    ("pool_max", "famd_storage_pool_connections_max",
     "Database connections the pools may open (all processes)."),
)


def _cumulative(cells):
    total, buckets = 0, []
    for bound, count in zip(r.BUCKETS + (float("inf"),), cells[:-1]):
        total += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), total))
    return buckets


class MergedCollector:
    """A prometheus-client collector of one merged reading and famd's constants."""

    def __init__(self, merged, schema_version):
        self.merged = merged
        self.schema_version = schema_version

    def collect(self):
        merged = self.merged
        info = GaugeMetricFamily("famd_build_info", "famd's version (always 1).", labels=("version",))
        info.add_metric((__version__,), 1)
        yield info
        if self.schema_version is not None:
            yield GaugeMetricFamily("famd_schema_version", "The database schema's version.",
                                    value=self.schema_version)
        for family, counter_name, histogram_name, labels, kept, count_help, time_help in HISTOGRAMS:
            counter = CounterMetricFamily(counter_name, count_help, labels=labels)
            histogram = HistogramMetricFamily(histogram_name, time_help, labels=labels[:kept])
            summed = {}
            for (name, values), cells in sorted(merged["histograms"].items()):
                if name != family:
                    continue
                values = tuple(map(str, values))
                counter.add_metric(values, sum(cells[:-1]))
                into = summed.setdefault(tuple(values[:kept]), [0] * len(cells))
                for index, value in enumerate(cells):
                    into[index] += value
            for values, cells in summed.items():
                histogram.add_metric(values, _cumulative(cells), cells[-1])
            yield counter
            yield histogram
        for family, name, text, labels in COUNTERS:
            counter = CounterMetricFamily(name, text, labels=labels)
            for (kind, values), value in sorted(merged["counters"].items()):
                if kind == family:
                    counter.add_metric(tuple(map(str, values)), value)
            yield counter
        for family, name, text in GAUGES:
            values = [value for (kind, _), value in merged["gauges"].items() if kind == family]
            if values:
                yield GaugeMetricFamily(name, text, value=sum(values))


def exposition(merged, schema_version=None):
    """The text exposition (bytes) of C{merged}."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MergedCollector(merged, schema_version))
    return generate_latest(registry)
