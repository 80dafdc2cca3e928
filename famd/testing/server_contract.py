"""
What a storage on an SQL server (MySQL/MariaDB, PostgreSQL) owes beyond the
storage contract: the 2021 schema, kept and reproduced exactly; migrations
safe when several famd start at once; uniqueness under concurrency through a
pool; surviving a server that drops its connections; 503 while the server is
unreachable; no password in messages.

Mix L{ServerStorageContract} into a C{twisted.trial.unittest.TestCase} that
sets C{engine} ('mysql' or 'postgresql') and C{reference_file} (the 2021
DDL dumped on that engine).
"""

import threading
from datetime import datetime, timezone

from twisted.internet import defer, threads
from twisted.logger import globalLogPublisher
from zope.interface.verify import verifyObject

from famd.backends import BackendContext, find
from famd.interfaces import IStorage, SchemaTooNew, StorageUnavailable
from famd.errors import Conflict
from famd.storage.migrations import latest
from famd.testing.databases import (
    SERVERS,
    fresh_database,
    open_server_storage,
    storage_class,
)
from famd.testing.reference_schemas import FAM_2X_TABLES, reference_schema, without_2x_additions
from famd.testing.storage_contract import new

FAM_TABLES = (
    "accounts", "passwords", "nonces", "admins", "email_changed", "api_keys",
    "aliases", "phone_change_codes", "tokens", "activation_expirations",
)
"""The 2021 tables famd creates when they are missing."""

LARAVEL_TABLES = ("migrations", "users", "password_resets", "failed_jobs")
"""FAM's housekeeping tables: famd never creates nor touches them."""

SEED = (
    "INSERT INTO accounts (username, domain, email, activated, confirmation_key, ip_address,"
    " user_agent, creation_time) VALUES ('user', 'sip.example.org', 'user@example.org', true,"
    " NULL, '127.0.0.1', 'seed', '2021-06-01 10:00:00');\n"
    "INSERT INTO passwords (account_id, password, algorithm) SELECT id,"
    " 'd9b7b6c197ee4e1e7dae43c701a46a9c', 'MD5' FROM accounts WHERE username = 'user';\n"
    "INSERT INTO admins (account_id, created_at, updated_at) SELECT id, '2021-06-01 10:00:00',"
    " '2021-06-01 10:00:00' FROM accounts WHERE username = 'user';\n"
    "INSERT INTO migrations (migration, batch) VALUES"
    " ('2014_10_12_000000_create_users_table', 1);\n"
)


def capture_log(test_case):
    """The list every log event goes to until C{test_case} ends."""
    events = []
    globalLogPublisher.addObserver(events.append)
    test_case.addCleanup(globalLogPublisher.removeObserver, events.append)
    return events


def without_famd(schema):
    """
    A schema snapshot without famd's own objects (named famd_*) and without
    the columns famd adds to the 2021 tables for FAM 2.x's concepts.
    """
    return without_2x_additions({
        kind: [row for row in rows if not any(str(v).startswith("famd_") for v in row[:2])]
        for kind, rows in schema.items()
    })


def first_columns(rows, reference):
    """C{rows} ({table: rows}) cut to the columns of C{reference}'s rows: without the appended 2.x columns."""
    return {
        table: [tuple(row[:len(reference[table][0])]) if reference[table] else tuple(row)
                for row in table_rows]
        for table, table_rows in rows.items()
    }


class ServerStorageContract:
    """The SQL-server-only behaviour of a storage provider."""

    engine = None
    reference_file = None

    @property
    def server(self):
        return SERVERS[self.engine]

    def open(self, **options):
        return open_server_storage(self, self.engine, **options)

    def in_thread(self, function, *args):
        return threads.deferToThread(function, *args)

    @defer.inlineCallbacks
    def make_2021_database(self):
        name = yield fresh_database(self, self.server)
        script = reference_schema(self.reference_file)
        yield self.in_thread(self.server.run_script, name, script)
        yield self.in_thread(self.server.run_script, name, SEED)
        return name

    @defer.inlineCallbacks
    def snapshot(self, name):
        schema = yield self.in_thread(self.server.schema, name, FAM_TABLES + LARAVEL_TABLES)
        rows = {}
        for table in ("accounts", "passwords", "admins", "migrations"):
            rows[table] = yield self.in_thread(self.server.dump, name, table)
        return without_famd(schema), rows

    @defer.inlineCallbacks
    def test_2021_database_left_as_it_was(self):
        """On a database the 2021 application created, famd adds only its own objects and FAM 2.x's, and reads the rows."""
        name = yield self.make_2021_database()
        before = yield self.snapshot(name)
        storage = yield self.open(database=name)
        account = yield storage.find_account("user", "sip.example.org")
        self.assertEqual(account.passwords[0].password, "d9b7b6c197ee4e1e7dae43c701a46a9c")
        self.assertIsNotNone(account.admin)
        self.assertEqual(account.creation_time, datetime(2021, 6, 1, 10, tzinfo=timezone.utc))
        schema_now, rows_now = yield self.snapshot(name)
        self.assertEqual(schema_now, before[0])
        self.assertEqual(first_columns(rows_now, before[1]), before[1])
        yield storage.create_account(new(username="newone"))
        schema_after, _ = yield self.snapshot(name)
        self.assertEqual(schema_after, before[0])

    @defer.inlineCallbacks
    def test_migrate_blocking_creates_the_schema(self):
        """The blocking start-up migration creates every table on an empty database, once."""
        name = yield fresh_database(self, self.server)
        storage = storage_class(self.engine)(self.server.database_url(name), None)
        version = yield self.in_thread(storage.migrate_blocking)
        self.assertEqual(version, latest(self.engine))
        self.assertEqual((yield self.in_thread(storage.migrate_blocking)), version)
        schema = yield self.in_thread(self.server.schema, name, FAM_TABLES + ("famd_settings",))
        tables = {row[0] for row in schema["columns"]}
        self.assertEqual(tables, set(FAM_TABLES) | {"famd_settings"})
        added = yield self.in_thread(self.server.schema, name, FAM_2X_TABLES)
        self.assertEqual({row[0] for row in added["columns"]}, set(FAM_2X_TABLES))
        versions = yield self.in_thread(
            self.server.query, name, "SELECT version FROM famd_schema ORDER BY 1")
        self.assertEqual(versions, [(v,) for v in range(1, version + 1)])

    @defer.inlineCallbacks
    def test_created_schema_is_the_2021_schema(self):
        """Tables famd creates have the columns, types, keys and indexes the 2021 application made, plus the FAM 2.x additions."""
        reference = yield fresh_database(self, self.server)
        yield self.in_thread(
            self.server.run_script, reference, reference_schema(self.reference_file))
        storage = yield self.open()
        expected = yield self.in_thread(self.server.schema, reference, FAM_TABLES)
        actual = yield self.in_thread(self.server.schema, storage.test_database, FAM_TABLES)
        for kind in expected:
            self.assertEqual(without_famd(actual)[kind], expected[kind], kind)

    @defer.inlineCallbacks
    def test_refuses_newer_schema(self):
        """A database migrated by a newer famd is refused with a clear message."""
        storage = yield self.open()
        yield storage.write(
            "probe", lambda txn: txn.execute(
                'INSERT INTO "famd_schema" VALUES (999, ?)', ("2030-01-01 00:00:00",)))
        error = yield self.assertFailure(storage.open(), SchemaTooNew)
        self.assertIn("upgrade famd", str(error))

    @defer.inlineCallbacks
    def test_simultaneous_starts_migrate_once(self):
        """Several famd opening one empty database at once all succeed and record each version once."""
        from twisted.internet import reactor

        name = yield fresh_database(self, self.server)
        storages = [storage_class(self.engine)(self.server.database_url(name), reactor)
                    for _ in range(4)]
        for storage in storages:
            self.addCleanup(storage.close)
        versions = yield defer.gatherResults([storage.open() for storage in storages])
        self.assertEqual(set(versions), {latest(self.engine)})
        rows = yield self.in_thread(
            self.server.query, name, "SELECT version FROM famd_schema ORDER BY 1")
        self.assertEqual(rows, [(v,) for v in range(1, latest(self.engine) + 1)])

    @defer.inlineCallbacks
    def test_concurrent_same_username_creates_one(self):
        """Of several creations of one username racing on separate connections, exactly one succeeds."""
        storage = yield self.open(pool_min=8, pool_max=8)
        # Open every connection first, so that the creations really overlap.
        yield defer.gatherResults([storage.phone_in_use("+33600000000") for _ in range(16)])
        for attempt in range(3):
            username = "same%d" % (attempt,)
            results = yield defer.DeferredList(
                [storage.create_account(new(username=username)) for _ in range(8)],
                consumeErrors=True)
            self.assertEqual(sum(1 for ok, _ in results if ok), 1)
            for ok, result in results:
                if not ok:
                    result.trap(Conflict)
                    self.assertEqual(result.value.field, "username")
        _, total = yield storage.list_accounts(0, 10)
        self.assertEqual(total, 3)

    @defer.inlineCallbacks
    def test_deadlock_victim_is_replayed(self):
        """Of two transactions that deadlock, the one the server aborts is replayed and both succeed."""
        storage = yield self.open(pool_min=2, pool_max=2)
        events = capture_log(self)
        first = yield storage.create_account(new(username="first"))
        second = yield storage.create_account(new(username="second"))
        both_hold_a_row = threading.Barrier(2, timeout=10)
        runs = []

        def cross_txn(txn, mine, other):
            runs.append(mine)
            update = 'UPDATE "accounts" SET "user_agent" = ? WHERE "id" = ?'
            txn.execute(update, ("mine", mine))
            if len(runs) <= 2:
                both_hold_a_row.wait()
            txn.execute(update, ("other", other))
            return mine

        done = yield defer.gatherResults([
            storage.write("cross", cross_txn, first, second),
            storage.write("cross", cross_txn, second, first),
        ])
        self.assertEqual(sorted(done), sorted([first, second]))
        self.assertEqual(len(runs), 3)
        self.assertEqual([event.get("txn") for event in events if "replay" in event["log_format"]],
                         ["cross"])

    @defer.inlineCallbacks
    def test_reconnects_after_the_server_drops_connections(self):
        """Connections killed server-side are replaced: calls succeed again and nothing committed is lost."""
        storage = yield self.open(pool_min=3, pool_max=3)
        account_id = yield storage.create_account(new())
        # Open every pooled connection, then kill them all from the outside.
        yield defer.gatherResults([storage.phone_in_use("+33600000000") for _ in range(6)])
        killed = yield self.in_thread(self.server.kill_connections, storage.test_database)
        self.assertGreaterEqual(killed, 1)
        events = capture_log(self)
        try:
            account = yield storage.get_account(account_id)
            self.assertEqual(account.username, "alice")
        except StorageUnavailable:
            pass  # allowed once: the next call must work
        account = yield storage.get_account(account_id)
        self.assertEqual(account.username, "alice")
        yield storage.create_account(new(username="bob"))
        _, total = yield storage.list_accounts(0, 10)
        self.assertEqual(total, 2)
        replays = {event.get("txn") for event in events if "lost" in event["log_format"]}
        self.assertEqual(replays, {"get_account"})

    @defer.inlineCallbacks
    def test_unreachable_server_is_unavailable(self):
        """An unreachable server fails calls with StorageUnavailable, naming it without its password."""
        from twisted.internet import reactor

        url = "%s://famd:s3cret-pw@127.0.0.1:1/famd" % (self.engine,)
        storage = storage_class(self.engine)(url, reactor, connect_timeout=2)
        self.addCleanup(storage.close)
        error = yield self.assertFailure(storage.open(), StorageUnavailable)
        self.assertIn("127.0.0.1:1", str(error))
        self.assertNotIn("s3cret-pw", str(error))
        error = yield self.assertFailure(storage.find_account("a", "b"), StorageUnavailable)
        self.assertNotIn("s3cret-pw", str(error))
        self.assertIn("(transaction find_account)", str(error))
        blocking = yield self.assertFailure(
            self.in_thread(storage.migrate_blocking), StorageUnavailable)
        self.assertNotIn("s3cret-pw", str(blocking))
        self.assertNotIn("s3cret-pw", repr(storage))

    @defer.inlineCallbacks
    def test_calls_before_open_wait_for_the_schema(self):
        """A call made before open() waits for the schema instead of failing."""
        from twisted.internet import reactor

        name = yield fresh_database(self, self.server)
        storage = storage_class(self.engine)(self.server.database_url(name), reactor)
        self.addCleanup(storage.close)
        created = storage.create_account(new())
        opened = storage.open()
        account_id = yield created
        self.assertEqual((yield opened), latest(self.engine))
        self.assertEqual((yield storage.get_account(account_id)).username, "alice")

    @defer.inlineCallbacks
    def test_text_is_utf8mb4(self):
        """Text outside the Basic Multilingual Plane is stored and read back unchanged."""
        storage = yield self.open()
        account_id = yield storage.create_account(new(user_agent="Linphone \U0001F4DE été"))
        self.assertEqual(
            (yield storage.get_account(account_id)).user_agent, "Linphone \U0001F4DE été")

    @defer.inlineCallbacks
    def test_work_runs_off_the_reactor_thread(self):
        """Transactions run on the pool's threads, never the reactor's."""
        storage = yield self.open()
        seen = yield defer.gatherResults(
            [storage.read("probe", lambda txn: threading.get_ident()) for _ in range(4)])
        self.assertNotIn(threading.get_ident(), seen)

    def test_backend_builds_from_options(self):
        """The backend declared in famd/plugins builds a provider whose repr hides the password."""
        from twisted.internet import reactor

        backend = find("storage", self.engine)
        self.assertEqual(
            {option.key for option in backend.options},
            {"url", "pool_min", "pool_max", "connect_timeout", "statement_timeout",
             "pool_timeout"})
        storage = backend.build(
            {"url": "%s://famd:pw-secret@db.example.org/famd" % (self.engine,),
             "pool_min": 1, "pool_max": 4, "connect_timeout": 5.0, "statement_timeout": 3.0,
             "pool_timeout": 2.0},
            BackendContext(reactor, None))
        self.assertTrue(verifyObject(IStorage, storage))
        self.assertEqual((storage.statement_timeout, storage._pool_timeout), (3.0, 2.0))
        self.assertNotIn("pw-secret", repr(storage))
        self.assertIn("db.example.org", repr(storage))
