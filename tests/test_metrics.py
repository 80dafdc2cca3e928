"""
Prometheus metrics and readiness (L{famd.metrics}): the listener of a real
``twistd famd``, the counts of two processes merged from one directory, the
notifier and registrar wrappers against real servers, readiness against
databases that answer and ones that cannot be reached.
"""

import os
import stat
import subprocess
import sys
import tempfile

import treq
from twisted.internet import defer, reactor, threads
from twisted.internet.protocol import Protocol
from twisted.trial import unittest

from famd import metrics
from famd.config import ConfigError, from_mapping
from famd.interfaces import DeliveryFailed, RegistrarUnavailable, StorageUnavailable
from famd.metrics import listener, shared
from famd.metrics.recorder import Recorder
from famd.metrics.services import build_metrics_services
from famd.metrics.wiring import CountedNotifier, CountedRegistrar
from famd.notifiers.smtp import SMTPEmailSender
from famd.registrar.redis import RedisRegistrar
from famd.service import build_components
from famd.storage.mysql import MySQLStorage
from famd.storage.postgresql import PostgreSQLStorage
from famd.storage.sqlite import SQLiteStorage
from famd.testing.daemon import free_port, start_daemon
from famd.testing.databases import SERVERS, open_server_storage
from famd.testing.memory import MemoryStorage
from famd.testing.pusher import FakePusher
from famd.testing.smtp_server import RecordingDelivery, SilentFactory, SMTPServerFactory

SECRET_SEGMENT = "Zq8secretPathSegment"
"""A path segment standing for a secret (a token, a key): never in the exposition."""

DAEMON_CONFIG = """
listen: "tcp:{port}:interface=127.0.0.1"
sip_domain: sip.example.org
throttle: {anonymous_writes: 1}
metrics: {listen: "tcp:%d:interface=127.0.0.1"}
"""


def samples(text):
    """The exposition's sample lines as {'name{labels}': value}."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


@defer.inlineCallbacks
def get(url, **kwargs):
    """(status, text) of a GET."""
    response = yield treq.get(url, persistent=False, **kwargs)
    body = yield response.content()
    return response.code, body.decode("utf-8")


class DaemonMetricsTests(unittest.TestCase):
    """The metrics listener of a real ``twistd -n famd`` (the installed copy)."""

    @defer.inlineCallbacks
    def setUp(self):
        self.metrics_port = free_port()
        # The daemon's temporary folder, so that its metrics directory can be watched.
        self.tmp = tempfile.mkdtemp(prefix="famd-metrics-test-")
        saved = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = self.tmp
        try:
            self.daemon = yield start_daemon(self, DAEMON_CONFIG % (self.metrics_port,))
        finally:
            if saved is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = saved
        self.metrics_url = "http://127.0.0.1:%d" % (self.metrics_port,)

    @defer.inlineCallbacks
    def test_families_and_labels_after_requests(self):
        """A few API requests show up by route template, method and status, with storage and throttle counts."""
        url = self.daemon.url
        _, before = yield get(self.metrics_url + "/metrics")  # the start-up's pings
        pings_before = samples(before)['famd_http_requests_total{method="GET",route="/api/ping",status="200"}']
        yield get(url + "/api/ping")
        yield get(url + "/api/ping")
        yield get(url + "/api/accounts/%s@sip.example.org/info" % (SECRET_SEGMENT,))
        yield get(url + "/api/nowhere/" + SECRET_SEGMENT)
        for _ in range(2):  # the second is refused by throttle.anonymous_writes: 1
            response = yield treq.post(url + "/api/accounts/with-token", json={"token": SECRET_SEGMENT},
                                       persistent=False)
            yield response.content()
        self.assertEqual(response.code, 429)
        status, text = yield get(self.metrics_url + "/metrics")
        self.assertEqual(status, 200)
        found = samples(text)
        self.assertEqual(
            found['famd_http_requests_total{method="GET",route="/api/ping",status="200"}'], pings_before + 2)
        self.assertEqual(
            found['famd_http_requests_total{method="GET",route="/api/accounts/{sip}/info",status="404"}'], 1)
        self.assertEqual(found['famd_http_requests_total{method="GET",route="unmatched",status="404"}'], 1)
        self.assertEqual(
            found['famd_http_requests_total{method="POST",route="/api/accounts/with-token",status="429"}'], 1)
        self.assertEqual(
            found['famd_http_request_duration_seconds_count{method="GET",route="/api/ping"}'], pings_before + 2)
        self.assertEqual(found['famd_throttle_refusals_total{limit="anonymous"}'], 1)
        self.assertGreaterEqual(
            found['famd_storage_transactions_total{outcome="ok",transaction="find_account"}'], 1)
        self.assertIn('famd_storage_transaction_duration_seconds_bucket{le="+Inf",transaction="find_account"}',
                      found)
        self.assertEqual(found['famd_build_info{version="0.1.0"}'], 1)
        self.assertGreaterEqual(found["famd_schema_version"], 1)
        self.assertNotIn(SECRET_SEGMENT, text)
        self.assertNotIn("sip.example.org", text)

    @defer.inlineCallbacks
    def test_ready_and_nothing_else(self):
        """/ready answers 200 while the database answers; other paths are 404; the API port serves no metrics."""
        status, text = yield get(self.metrics_url + "/ready")
        self.assertEqual((status, text), (200, "ready\n"))
        status, _ = yield get(self.metrics_url + "/api/ping")
        self.assertEqual(status, 404)
        status, _ = yield get(self.daemon.url + "/metrics")
        self.assertEqual(status, 404)

    @defer.inlineCallbacks
    def test_private_directory_removed_at_stop(self):
        """The metrics directory is private (0700) while famd runs and gone once it stopped."""
        directories = [name for name in os.listdir(self.tmp) if name.startswith("famd-metrics-")]
        self.assertEqual(len(directories), 1)
        path = os.path.join(self.tmp, directories[0])
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o700)
        code = yield self.daemon.stop()
        self.assertEqual(code, 0)
        self.assertFalse(os.path.exists(path))


class DaemonFunnelTests(unittest.TestCase):
    """The sign-up funnel and push deliveries of a real daemon pushing with a fake flexisip_pusher."""

    @defer.inlineCallbacks
    def test_token_pushed_and_account_created(self):
        """A 2021 token pushed then used to create an account counts both steps and one push sent."""
        metrics_port = free_port()
        fake = FakePusher(os.path.abspath(self.mktemp()))
        config = (DAEMON_CONFIG.replace("throttle: {anonymous_writes: 1}\n", "") % (metrics_port,)
                  + "push: {backend: flexisip-pusher, path: %s}\n" % (fake.path,))
        daemon = yield start_daemon(self, config)
        device = {"pn_provider": "fcm", "pn_param": "ABCD1234", "pn_prid": "device-token-1"}
        response = yield treq.post(daemon.url + "/api/tokens", json=device, persistent=False)
        self.assertEqual(response.code, 200)
        yield response.content()
        token = fake.pushed()[-1][3]["token"]
        response = yield treq.post(daemon.url + "/api/accounts/with-token", persistent=False, json={
            "username": "alice1", "password": "secret1", "algorithm": "MD5", "token": token})
        body = yield response.content()
        self.assertEqual(response.code, 200, body)
        _, text = yield get("http://127.0.0.1:%d/metrics" % (metrics_port,))
        found = samples(text)
        self.assertEqual(found['famd_signup_events_total{event="token_pushed",generation="2021"}'], 1)
        self.assertEqual(found['famd_signup_events_total{event="account_created",generation="2021"}'], 1)
        self.assertEqual(
            found['famd_notifier_deliveries_total{backend="flexisip-pusher",outcome="sent"}'], 1)
        self.assertNotIn(token, text)


CHILD = """
import sys
from famd.metrics import shared
from famd.metrics.recorder import Recorder
recorder = Recorder()
for _ in range(2):
    recorder.request("/ping", b"api", b"GET", 200, 0.002)
recorder.throttled("anonymous")
recorder.gauge(lambda: (("pool_in_use", (), 3), ("pool_max", (), 8)))
assert shared.flush(shared.inherited(), __import__("os").getpid(), recorder.snapshot())
print(__import__("os").getpid())
"""


class MultiprocessTests(unittest.TestCase):
    """Two processes writing to one directory are scraped as one."""

    def setUp(self):
        self.directory = shared.create()
        self.addCleanup(shared.remove, self.directory)
        self.patch(metrics, "directory", self.directory)
        self.recorder = Recorder()
        site = listener.make_site(reactor, self.directory, self.recorder, MemoryStorage(), lambda: 7)
        self.port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(self.port.stopListening)
        self.url = "http://127.0.0.1:%d/metrics" % (self.port.getHost().port,)

    @defer.inlineCallbacks
    def test_counts_of_two_processes_summed(self):
        """A child process's flushed counts are added to the scraping process's, and survive its death."""
        for _ in range(3):
            self.recorder.request("/ping", b"api", b"GET", 200, 0.0004)
        self.recorder.gauge(lambda: (("pool_in_use", (), 1), ("pool_max", (), 8)))
        child = subprocess.run([sys.executable, "-c", CHILD], env=dict(os.environ),
                               capture_output=True, text=True, check=True)
        child_pid = int(child.stdout)
        _, text = yield get(self.url)
        found = samples(text)
        self.assertEqual(found['famd_http_requests_total{method="GET",route="/api/ping",status="200"}'], 5)
        self.assertEqual(
            found['famd_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/ping"}'], 3)
        self.assertEqual(
            found['famd_http_request_duration_seconds_bucket{le="0.0025",method="GET",route="/api/ping"}'], 5)
        self.assertEqual(found['famd_throttle_refusals_total{limit="anonymous"}'], 1)
        self.assertEqual(found["famd_storage_pool_connections_in_use"], 4)
        self.assertEqual(found["famd_storage_pool_connections_max"], 16)
        self.assertEqual(found["famd_schema_version"], 7)

        metrics.process_dead(child_pid)
        self.recorder.request("/ping", b"api", b"GET", 200, 0.0004)
        _, text = yield get(self.url)
        found = samples(text)
        self.assertEqual(found['famd_http_requests_total{method="GET",route="/api/ping",status="200"}'], 6)
        self.assertEqual(found['famd_throttle_refusals_total{limit="anonymous"}'], 1)
        self.assertEqual(found["famd_storage_pool_connections_max"], 8)
        self.assertFalse(os.path.exists(os.path.join(self.directory, "%d.json" % (child_pid,))))


class WorkerServicesTests(unittest.TestCase):
    """A worker (primary=False) flushes to the inherited directory and listens on nothing."""

    def test_worker_flushes_to_inherited_directory(self):
        """Its services are only the flusher, whose stop writes this process's counts."""
        directory = tempfile.mkdtemp()
        self.addCleanup(shared.remove, directory)
        self.patch(os, "environ", dict(os.environ, **{shared.ENVIRONMENT: directory}))
        config = from_mapping({"sip_domain": "x.org", "metrics": {"listen": "tcp:0"}}, "/")
        recorder = Recorder()
        recorder.throttled("secret")
        services = build_metrics_services(config, reactor, {"metrics": recorder}, primary=False)
        self.assertEqual([type(service).__name__ for service in services], ["FlushService"])
        services.startService()
        services.stopService()
        self.assertEqual(shared.merge(directory)["counters"], {("throttled", ("secret",)): 1})

    def test_metrics_off_builds_nothing(self):
        """With metrics off, no service, no directory, and the storage and site are left plain."""
        config = from_mapping({"sip_domain": "x.org", "storage": {"backend": "sqlite",
                                                                  "path": self.mktemp()}}, "/")
        components = build_components(config, reactor)
        self.assertIsNone(components["storage"].observe)
        self.assertFalse(components["metrics"].enabled)
        self.assertEqual(list(build_metrics_services(config, reactor, components, primary=True)), [])


class NotifierAndRegistrarTests(unittest.TestCase):
    """The notifier and registrar wrappers count outcomes of real exchanges."""

    def serve(self, factory):
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    @defer.inlineCallbacks
    def test_deliveries_sent_refused_timed_out(self):
        """An SMTP relay that accepts, one that refuses the recipient, one that never answers."""
        recorder = Recorder()
        delivery = RecordingDelivery(refuse=["bad@example.org"])
        relay = self.serve(SMTPServerFactory(delivery))
        silent = self.serve(SilentFactory())
        sender = CountedNotifier(
            SMTPEmailSender(reactor, "127.0.0.1", relay, "famd@example.org", tls="none"), "smtp", recorder)
        yield sender.send("good@example.org", "s", "t")
        yield self.assertFailure(sender.send("bad@example.org", "s", "t"), DeliveryFailed)
        mute = CountedNotifier(SMTPEmailSender(reactor, "127.0.0.1", silent, "famd@example.org",
                                               tls="none", timeout=0.3), "smtp", recorder)
        yield self.assertFailure(mute.send("good@example.org", "s", "t"), DeliveryFailed)
        self.assertEqual(recorder.counters, {
            ("deliveries", ("smtp", "sent")): 1,
            ("deliveries", ("smtp", "refused")): 1,
            ("deliveries", ("smtp", "timed_out")): 1,
        })

    @defer.inlineCallbacks
    def test_registrar_unavailable(self):
        """A registrar whose Redis cannot be reached is counted unavailable."""
        recorder = Recorder()
        registrar = CountedRegistrar(
            RedisRegistrar(reactor, "redis://127.0.0.1:%d/0" % (free_port(),), timeout=1.0),
            recorder)
        yield self.assertFailure(registrar.list_devices("alice", "sip.example.org"), RegistrarUnavailable)
        self.assertEqual(recorder.counters, {("registrar", ("list_devices", "unavailable")): 1})


class ReadinessTests(unittest.TestCase):
    """Readiness says 503 while the database cannot be reached."""

    def unreachable(self, kind):
        port = free_port()  # nothing listens there
        if kind == "mysql":
            return MySQLStorage("mysql://root@127.0.0.1:%d/famd" % (port,), reactor, connect_timeout=1.0)
        if kind == "postgresql":
            return PostgreSQLStorage("postgresql://postgres@127.0.0.1:%d/famd" % (port,), reactor,
                                     connect_timeout=1.0)
        return SQLiteStorage(os.path.join(self.mktemp(), "missing", "famd.sqlite"), reactor)

    @defer.inlineCallbacks
    def check_503(self, storage):
        site = listener.make_site(reactor, tempfile.mkdtemp(), Recorder(), storage, lambda: None)
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(storage.close)
        if isinstance(storage, SQLiteStorage):
            storage.open().addErrback(lambda _: None)
        status, text = yield get("http://127.0.0.1:%d/ready" % (port.getHost().port,))
        self.assertEqual(status, 503)
        self.assertEqual(text, "not ready: the database does not answer\n")
        yield self.assertFailure(storage.ready(2.0), StorageUnavailable)

    def test_mysql_closed_port(self):
        """A MariaDB pool pointed at a closed port is not ready."""
        return self.check_503(self.unreachable("mysql"))

    def test_postgresql_closed_port(self):
        """A PostgreSQL pool pointed at a closed port is not ready."""
        return self.check_503(self.unreachable("postgresql"))

    def test_sqlite_missing_folder(self):
        """An SQLite file in a folder that does not exist is not ready."""
        return self.check_503(self.unreachable("sqlite"))

    @defer.inlineCallbacks
    def check_database_goes_away(self, engine):
        storage = yield open_server_storage(self, engine)
        site = listener.make_site(reactor, tempfile.mkdtemp(), Recorder(), storage, lambda: None)
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        url = "http://127.0.0.1:%d/ready" % (port.getHost().port,)
        status, _ = yield get(url)
        self.assertEqual(status, 200)
        server = SERVERS[engine]
        yield threads.deferToThread(server.kill_connections, storage.test_database)
        yield threads.deferToThread(server.drop, storage.test_database)
        status, text = yield get(url)
        self.assertEqual((status, text), (503, "not ready: the database does not answer\n"))

    def test_mysql_database_dropped(self):
        """A MariaDB database dropped under a running pool turns readiness from 200 to 503."""
        return self.check_database_goes_away("mysql")

    def test_postgresql_database_dropped(self):
        """A PostgreSQL database dropped under a running pool turns readiness from 200 to 503."""
        return self.check_database_goes_away("postgresql")

    @defer.inlineCallbacks
    def test_silent_server_times_out(self):
        """A server that accepts connections and never answers fails readiness within its timeout."""
        silent = SilentFactory()
        accepted = []
        silent.buildProtocol = lambda addr: accepted.append(Protocol()) or accepted[-1]
        port = reactor.listenTCP(0, silent, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.addCleanup(lambda: [p.transport.abortConnection() for p in accepted])
        storage = PostgreSQLStorage("postgresql://postgres@127.0.0.1:%d/famd" % (port.getHost().port,),
                                    reactor, connect_timeout=1.5)
        failure = yield self.assertFailure(storage.ready(0.5), StorageUnavailable)
        # Its own deadline, not the 1.5 s connect timeout of the pool.
        self.assertIn("within 0.5s", str(failure))
        yield storage.close()


class MetricsConfigTests(unittest.TestCase):
    """``metrics`` in famd.yaml is parsed strictly."""

    def test_defaults_off(self):
        """Without a metrics section there is no metrics listener."""
        self.assertIsNone(from_mapping({"sip_domain": "x.org"}, "/").metrics["listen"])

    def test_listen_read(self):
        """An endpoint string is kept."""
        config = from_mapping({"sip_domain": "x.org", "metrics": {"listen": "tcp:9102"}}, "/")
        self.assertEqual(config.metrics["listen"], "tcp:9102")

    def test_bad_values_named(self):
        """A wrong type and an unknown key are errors naming their dotted key."""
        error = self.assertRaises(ConfigError, from_mapping,
                                  {"sip_domain": "x.org", "metrics": {"listen": 9102, "port": 1}}, "/")
        self.assertEqual(sorted(e.split(":")[0] for e in error.errors), ["metrics.listen", "metrics.port"])
