"""
Metrics with workers: the installed ``twistd -n famd`` with ``workers: 2``
and ``metrics.listen`` counts the requests of both processes in one
scrape, and a worker killed by SIGKILL takes none of its counts with it.
"""

import os
import signal

from twisted.internet import defer, reactor, task, threads
from twisted.trial import unittest

from famd.testing.daemon import free_port
from tests.test_metrics import get, samples
from tests.test_workers import connections_by_pid, open_connections, sqlite_storage, start_workers

PINGS = 'famd_http_requests_total{method="GET",route="/api/ping",status="200"}'


class WorkersMetricsTests(unittest.TestCase):
    """One metrics listener sums the counts of the parent and its worker."""

    @defer.inlineCallbacks
    def scrape_until(self, url, wanted, timeout=10.0):
        """The samples of C{url} once its ping count reaches C{wanted} (workers flush once a second)."""
        deadline = reactor.seconds() + timeout
        while True:
            status, text = yield get(url)
            self.assertEqual(status, 200)
            found = samples(text)
            if found.get(PINGS, 0) >= wanted or reactor.seconds() > deadline:
                return found
            yield task.deferLater(reactor, 0.2, lambda: None)

    @defer.inlineCallbacks
    def test_counts_of_both_processes_and_of_a_killed_worker(self):
        """Pings served by both processes are all counted, and still counted after the worker is killed."""
        metrics_port = free_port()
        daemon = yield start_workers(
            self, sqlite_storage(),
            extra='metrics: {listen: "tcp:%d:interface=127.0.0.1"}\n' % (metrics_port,))
        url = "http://127.0.0.1:%d/metrics" % (metrics_port,)
        before = (yield self.scrape_until(url, 0)).get(PINGS, 0)
        worker = daemon.workers()[1]
        held = yield threads.deferToThread(open_connections, daemon.port, 40)
        try:
            counts = connections_by_pid(daemon.port, [daemon.process.pid, worker])
        finally:
            for connection in held:
                connection.close()
        self.assertTrue(all(counts.values()), counts)  # both processes answered some
        found = yield self.scrape_until(url, before + 40)
        self.assertEqual(found[PINGS], before + 40)
        yield task.deferLater(reactor, 1.5, lambda: None)  # the worker's last flush
        os.kill(worker, signal.SIGKILL)
        yield daemon.wait_for_workers(timeout=5.0, other_than=(worker,))
        found = yield self.scrape_until(url, before + 40)
        self.assertGreaterEqual(found[PINGS], before + 40)
