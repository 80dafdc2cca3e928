"""
The SQL servers' pools give up in seconds: a server frozen with its port
open (famd.testing.frozen), a statement running too long, or every pooled
connection taken, each answers StorageUnavailable (HTTP 503) within a
bounded time, and the storage works again afterwards; on MariaDB and
PostgreSQL.
"""

import threading
import time
from urllib.parse import urlsplit, urlunsplit

from twisted.internet import defer
from twisted.trial import unittest

from famd.interfaces import StorageUnavailable
from famd.testing.databases import SERVERS, fresh_database, open_server_storage, storage_class
from famd.testing.frozen import relay
from famd.testing.storage_contract import new
from tests.serving import serve

SLEEP = {"mysql": "SELECT SLEEP(%d)", "postgresql": "SELECT pg_sleep(%d)"}
"""A statement that takes that many seconds, on each engine."""


class PoolLimits:
    """What a pool does when the server does not answer in time."""

    engine = None

    @property
    def server(self):
        return SERVERS[self.engine]

    @defer.inlineCallbacks
    def open_through_relay(self, **options):
        """A migrated storage on a fresh database, reached through a relay that can freeze."""
        from twisted.internet import reactor

        name = yield fresh_database(self, self.server)
        parts = urlsplit(self.server.database_url(name))
        frozen, port = relay(self, parts.hostname or "127.0.0.1", parts.port)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = (credentials + "@" if credentials else "") + "127.0.0.1:%d" % (port,)
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        storage = storage_class(self.engine)(url, reactor, **options)
        self.addCleanup(storage.close)
        self.addCleanup(frozen.drop)  # first: no pool thread stays blocked on the relay
        yield storage.open()
        return frozen, storage

    @defer.inlineCallbacks
    def failures_within(self, calls, seconds):
        """Assert that every one of C{calls} fails with StorageUnavailable within C{seconds}."""
        started = time.monotonic()
        outcomes = yield defer.DeferredList(calls, consumeErrors=True)
        elapsed = time.monotonic() - started
        for succeeded, failure in outcomes:
            self.assertFalse(succeeded)
            failure.trap(StorageUnavailable)
        self.assertLess(elapsed, seconds)
        return [str(failure.value) for _, failure in outcomes]

    @defer.inlineCallbacks
    def test_frozen_server_gives_up_in_seconds(self):
        """With the server frozen mid-connection, more calls than the pool holds all fail within seconds; it recovers."""
        frozen, storage = yield self.open_through_relay(
            pool_max=2, statement_timeout=1.0, pool_timeout=1.0)
        account_id = yield storage.create_account(new())
        frozen.frozen = True
        messages = yield self.failures_within(
            [storage.get_account(account_id) for _ in range(3)]
            + [storage.create_account(new("bob"))], 5.0)
        self.assertTrue(any("no answer from the database" in text for text in messages), messages)
        self.assertTrue(any("no database connection free" in text for text in messages), messages)
        frozen.frozen = False
        account = yield storage.get_account(account_id)
        self.assertEqual(account.username, "alice")

    @defer.inlineCallbacks
    def test_frozen_server_answers_503(self):
        """Through the API, a frozen server answers 503 with a JSON message within seconds."""
        frozen, storage = yield self.open_through_relay(
            pool_max=1, statement_timeout=1.0, pool_timeout=1.0)
        api = yield serve(self, storage=storage)
        frozen.frozen = True
        started = time.monotonic()
        answers = yield defer.gatherResults([
            api.json("GET", "/accounts/user@sip.example.org/info", sip=None) for _ in range(3)])
        self.assertLess(time.monotonic() - started, 5.0)
        self.assertEqual({code for code, _, _ in answers}, {503})
        self.assertTrue(all(body["message"] for _, body, _ in answers))

    @defer.inlineCallbacks
    def test_long_statement_hits_the_statement_timeout(self):
        """A statement running past statement_timeout fails within seconds, and the storage goes on."""
        storage = yield open_server_storage(self, self.engine, statement_timeout=1.0)
        messages = yield self.failures_within(
            [storage.read("probe", lambda txn: txn.scalar(SLEEP[self.engine] % 30))], 4.0)
        self.assertIn("the database is busy", messages[0])  # the server cancelled it
        self.assertIsNone((yield storage.find_account("nobody", "sip.example.org")))

    @defer.inlineCallbacks
    def test_migration_runs_unbounded(self):
        """The schema migration alone may run past statement_timeout; the next transaction is bounded again."""
        storage = yield open_server_storage(self, self.engine, statement_timeout=1.0)

        def migrating(txn):
            storage.unbounded(txn)
            return txn.scalar(SLEEP[self.engine] % 2)

        yield storage.write("migrate", migrating)
        messages = yield self.failures_within(
            [storage.read("probe", lambda txn: txn.scalar(SLEEP[self.engine] % 30))], 4.0)
        self.assertIn("the database is busy", messages[0])

    @defer.inlineCallbacks
    def test_pool_wait_is_bounded(self):
        """With the only pooled connection held, another call fails after pool_timeout, then works once it is free."""
        storage = yield open_server_storage(
            self, self.engine, pool_min=1, pool_max=1, pool_timeout=0.5, statement_timeout=30.0)
        release = threading.Event()
        self.addCleanup(release.set)
        held = storage.read("hold", lambda txn: release.wait(20))
        messages = yield self.failures_within(
            [storage.find_account("alice", "sip.example.org")], 3.0)
        self.assertIn("no database connection free within 0.5s", messages[0])
        self.assertIn("(transaction find_account)", messages[0])
        release.set()
        self.assertTrue((yield held))
        self.assertIsNone((yield storage.find_account("alice", "sip.example.org")))


class MySQLPoolTests(PoolLimits, unittest.TestCase):
    """The pool's limits on MariaDB."""

    engine = "mysql"


class PostgreSQLPoolTests(PoolLimits, unittest.TestCase):
    """The pool's limits on PostgreSQL."""

    engine = "postgresql"
