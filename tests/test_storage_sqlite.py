"""
The SQLite storage: the storage contract, plus what only SQLite has (the
2021 file format, WAL, its dedicated thread, other processes on the file).
"""

import os
import sqlite3
import stat
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

from twisted.internet import defer, reactor, utils
from twisted.trial import unittest

from famd.interfaces import SchemaTooNew, StorageUnavailable
from famd.model import Password, Timestamps
from famd.storage import sql_accounts
from famd.storage.sqlite import SQLiteStorage, StorageThread, connect, run_batch
from famd.storage.dialect import Dialect
from famd.storage.transaction import Transaction
from famd.testing.reference_schemas import FAM_2X_ADDITIONS, reference_schema
from famd.testing.storage import open_sqlite
from famd.testing.storage_contract import new
from tests.api_helpers import BOB_KEY
from tests.serving import serve

class Lookups:
    """A function the storage thread may call for a run at once (see run_batch)."""

    def __init__(self):
        self.runs = []

    def __call__(self, value):
        self.runs.append([value])
        if value == "bad":
            raise ValueError(value)
        return value * 2

    def many(self, arguments):
        self.runs.append([value for value, in arguments])
        if ("bad",) in arguments:
            raise ValueError("bad")
        return [value * 2 for value, in arguments]


class RunBatchTests(unittest.TestCase):
    """The storage thread's batches."""

    def test_runs_of_one_function_made_at_once(self):
        """Consecutive calls of a function with `many` become one call; the outcomes keep their order."""
        lookups = Lookups()
        other = lambda value: value + "!"  # noqa: E731
        calls = [(lookups, ("a",)), (lookups, ("b",)), (other, ("c",)), (lookups, ("d",)),
                 (lookups, ("e",)), (lookups, ("f",))]
        outcomes = run_batch(calls)
        self.assertEqual(outcomes, [(True, "aa"), (True, "bb"), (True, "c!"), (True, "dd"),
                                    (True, "ee"), (True, "ff")])
        self.assertEqual(lookups.runs, [["a", "b"], ["d", "e", "f"]])

    def test_a_failing_run_fails_only_its_calls(self):
        """When the run's call fails, each call of that run gets the failure, the others their results."""
        lookups = Lookups()
        outcomes = run_batch([(lookups, ("a",)), (lookups, ("bad",)), (str.upper, ("c",)),
                              (lookups, ("bad",))])
        self.assertEqual([succeeded for succeeded, _ in outcomes], [False, False, True, False])
        self.assertEqual(outcomes[2], (True, "C"))
        for _, failure in (outcomes[0], outcomes[1], outcomes[3]):
            self.assertIsInstance(failure.value, ValueError)


class StorageThreadTests(unittest.TestCase):
    """The thread's side: what it is handed, and when."""

    def thread(self):
        thread = StorageThread(reactor, "famd-test")
        thread.start()
        self.addCleanup(thread.stop)
        return thread

    @defer.inlineCallbacks
    def test_calls_of_one_turn_reach_the_thread_together(self):
        """
        Five calls sent in one turn of the reactor are one batch (one `many`
        call for all five), even when the thread is idle and the reactor
        thread lets it run between them (as its socket calls do).
        """
        thread, lookups = self.thread(), Lookups()
        sent = []
        for value in "abcde":
            sent.append(thread.submit(lookups, value))
            time.sleep(0.01)  # the thread may run: it has nothing yet
        results = yield defer.gatherResults(sent)
        self.assertEqual(results, ["aa", "bb", "cc", "dd", "ee"])
        self.assertEqual(lookups.runs, [["a", "b", "c", "d", "e"]])

    @defer.inlineCallbacks
    def test_next_turn_next_batch(self):
        """A call sent after the first batch's answer is a batch of its own."""
        thread, lookups = self.thread(), Lookups()
        yield thread.submit(lookups, "a")
        yield thread.submit(lookups, "b")
        self.assertEqual(lookups.runs, [["a"], ["b"]])

    @defer.inlineCallbacks
    def test_stop_runs_what_was_sent(self):
        """Calls sent in the turn that stops the thread still run before it ends."""
        thread = StorageThread(reactor, "famd-test")
        thread.start()
        sent = thread.submit(str.upper, "last")
        thread.stop()
        self.assertEqual((yield sent), "LAST")


class FindAccountsTests(unittest.TestCase):
    """The statement that looks up a run of addresses at once."""

    def test_same_as_one_by_one(self):
        """For every run length up to the largest, each address gets what find_account_txn gives."""
        path = os.path.join(self.mktemp() + ".sqlite")
        storage = SQLiteStorage(path, None)
        storage.migrate_blocking()
        connection = connect(path, 5.0)
        self.addCleanup(connection.close)
        txn = Transaction(connection.cursor(), Dialect())
        for number in range(10):
            passwords = tuple(Password("%032d" % (n,), "MD5") for n in range(number % 3))
            sql_accounts.create_account_txn(txn, new(
                "user%d" % (number,), passwords=passwords, api_key="key%d" % (number,) if number % 2 else None,
                phone="+336000000%02d" % (number,) if number % 4 == 0 else None, admin=number == 3,
            ))
        names = ["user%d" % (number % 12) for number in range(70)]
        addresses = [(name, "sip.example.org") for name in names]
        for length in (1, 2, 3, 9, 33, 64):
            run = (addresses[length:] + addresses)[:length]
            self.assertEqual(
                sql_accounts.find_accounts_txn(txn, run),
                [sql_accounts.find_account_txn(txn, *address) for address in run],
            )


def schema_of(path):
    """
    Every table's columns, indexes and foreign keys as SQLite reports them
    (not famd's own objects, nor the columns famd adds to the 2021 tables
    for FAM 2.x's concepts, L{FAM_2X_ADDITIONS}).
    """
    connection = sqlite3.connect(path)
    try:
        schema = {}
        for (table,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'famd%'"
                " AND name NOT LIKE 'sqlite%'"):
            columns = tuple(row for row in connection.execute('PRAGMA table_xinfo("%s")' % (table,))
                            if (table, row[1]) not in FAM_2X_ADDITIONS)
            keys = tuple(row for row in connection.execute('PRAGMA foreign_key_list("%s")' % (table,))
                         if (table, row[3]) not in FAM_2X_ADDITIONS)
            indexes = tuple(sorted(
                (name, sql) for name, sql in connection.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                    " AND name NOT LIKE 'famd%'", (table,))))
            schema[table] = (columns, keys, indexes)
        return schema
    finally:
        connection.close()


def dump(path, table):
    connection = sqlite3.connect(path)
    try:
        return connection.execute('SELECT * FROM "%s" ORDER BY id' % (table,)).fetchall()
    finally:
        connection.close()


class SQLiteFileTests(unittest.TestCase):
    """What the SQLite backend does to its file."""

    def setUp(self):
        self.path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "famd.sqlite")

    def make_2021_database(self):
        connection = sqlite3.connect(self.path)
        connection.executescript(reference_schema("fam-2021-schema.sql"))
        connection.executescript("""
            INSERT INTO accounts VALUES (1, 'user', 'sip.example.org', 'user@example.org', 1, NULL,
                '127.0.0.1', 'seed', '2021-06-01 10:00:00', NULL);
            INSERT INTO passwords VALUES (1, 1, 'd9b7b6c197ee4e1e7dae43c701a46a9c', 'MD5');
            INSERT INTO admins VALUES (1, 1, '2021-06-01 10:00:00', '2021-06-01 10:00:00');
            INSERT INTO migrations VALUES (1, '2014_10_12_000000_create_users_table', 1);
        """)
        connection.commit()
        connection.close()

    @defer.inlineCallbacks
    def test_2021_database_left_as_it_was(self):
        """On a 2021 database famd adds only its own objects and reads the existing rows."""
        self.make_2021_database()
        before = schema_of(self.path)
        rows_before = {t: dump(self.path, t) for t in ("accounts", "passwords", "admins", "migrations")}
        storage = yield open_sqlite(self, path=self.path)
        account = yield storage.find_account("user", "sip.example.org")
        self.assertEqual(account.passwords[0].password, "d9b7b6c197ee4e1e7dae43c701a46a9c")
        self.assertIsNotNone(account.admin)
        after = schema_of(self.path)
        self.assertEqual({k: v for k, v in after.items() if k in before}, before)
        # The 2.x columns come after the 2021 ones: the 2021 values are unchanged.
        self.assertEqual(
            {t: [row[:len(rows_before[t][0])] for row in dump(self.path, t)] for t in rows_before},
            rows_before)
        yield storage.create_account(new(username="newone"))
        self.assertEqual(schema_of(self.path), after)

    @defer.inlineCallbacks
    def test_stored_times_of_any_form(self):
        """Times another program wrote in another ISO form read as that time; text that is no time reads as None."""
        storage = yield open_sqlite(self, path=self.path)
        connection = sqlite3.connect(self.path)
        for username, created, admin_since, expires in (
            ("iso", "2021-06-01T12:00:00+02:00", "2021-06-01T10:00:00.5Z", "2040-01-01T00:00:00"),
            ("junk", "yesterday", "", "soon"),
        ):
            account_id = connection.execute(
                "INSERT INTO accounts (username, domain, activated, ip_address, user_agent,"
                " creation_time) VALUES (?, 'sip.example.org', 0, '::1', 'other', ?)",
                (username, created)).lastrowid
            connection.execute("INSERT INTO admins (account_id, created_at, updated_at) VALUES (?, ?, NULL)",
                               (account_id, admin_since))
            connection.execute("INSERT INTO activation_expirations (account_id, expires) VALUES (?, ?)",
                               (account_id, expires))
        connection.commit()
        connection.close()
        june = datetime(2021, 6, 1, 10, tzinfo=timezone.utc)
        iso = yield storage.find_account("iso", "sip.example.org")
        self.assertEqual((iso.creation_time, iso.admin, iso.activation_expiration.expires),
                         (june, Timestamps(june, None), datetime(2040, 1, 1, tzinfo=timezone.utc)))
        junk = yield storage.find_account("junk", "sip.example.org")
        self.assertEqual((junk.creation_time, junk.admin, junk.activation_expiration.expires),
                         (None, Timestamps(None, None), None))
        listed, _ = yield storage.list_accounts(0, 10)
        self.assertEqual([account.creation_time for account in listed], [june, None])

    def test_refuses_newer_schema(self):
        """A database migrated by a newer famd is refused with a clear message."""
        SQLiteStorage(self.path, None).migrate_blocking()
        connection = sqlite3.connect(self.path)
        connection.execute("INSERT INTO famd_schema VALUES (999, '2030-01-01 00:00:00')")
        connection.commit()
        connection.close()
        error = self.assertRaises(SchemaTooNew, SQLiteStorage(self.path, None).migrate_blocking)
        self.assertIn("999", str(error))
        self.assertIn("upgrade famd", str(error))

    @defer.inlineCallbacks
    def test_wal_and_foreign_keys(self):
        """The file is in WAL mode and the connection enforces foreign keys."""
        storage = yield open_sqlite(self, path=self.path)
        mode = yield storage.read("probe", lambda txn: txn.scalar("PRAGMA journal_mode"))
        keys = yield storage.read("probe", lambda txn: txn.scalar("PRAGMA foreign_keys"))
        self.assertEqual((mode, keys), ("wal", 1))

    @defer.inlineCallbacks
    def test_work_runs_off_the_reactor_thread(self):
        """Reads run on one thread of the storage, writes on another, never on the reactor's."""
        storage = yield open_sqlite(self, path=self.path)
        seen = yield defer.gatherResults([
            storage.read("probe", lambda txn: threading.get_ident()) for _ in range(5)
        ] + [storage.create_account(new()).addCallback(
            lambda _: storage.read("probe", lambda txn: threading.get_ident()))])
        writers = yield defer.gatherResults([
            storage.write("probe", lambda txn: threading.get_ident()) for _ in range(3)])
        self.assertNotIn(threading.get_ident(), seen + writers)
        self.assertEqual(len(set(seen)), 1)
        self.assertEqual(len(set(writers)), 1)
        self.assertNotEqual(seen[0], writers[0])

    @defer.inlineCallbacks
    def test_closed_then_opened_again(self):
        """A closed storage opened again runs every transaction asked of it, in order, on a new thread."""
        storage = yield open_sqlite(self, path=self.path)
        first = yield storage.read("probe", lambda txn: threading.current_thread())
        yield storage.close()
        yield storage.open()
        account_id = yield storage.create_account(new())
        results = yield defer.gatherResults(
            [storage.read("probe", lambda txn: threading.current_thread())]
            + [storage.find_account("alice", "sip.example.org") for _ in range(3)]
        )
        self.assertIsNot(results[0], first)
        first.join(10)
        self.assertFalse(first.is_alive())
        self.assertEqual([account.id for account in results[1:]], [account_id] * 3)

    @defer.inlineCallbacks
    def test_another_process_writing_at_the_same_time(self):
        """famd and another process creating accounts in the same file at once both succeed."""
        storage = yield open_sqlite(self, path=self.path)
        script = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)\n"
            "for i in range(200):\n"
            "    c.execute('BEGIN IMMEDIATE')\n"
            "    c.execute(\"INSERT INTO accounts (username, domain, activated, ip_address, user_agent,"
            " creation_time) VALUES (?, 'sip.example.org', 1, '::1', 'script', '2026-01-01 00:00:00')\","
            " ('ext%d' % i,))\n"
            "    c.execute('COMMIT')\n"
        )
        other = utils.getProcessOutputAndValue(sys.executable, ["-c", script, self.path])
        mine = defer.gatherResults(
            [storage.create_account(new(username="famd%03d" % i)) for i in range(200)])
        (out, err, code), ids = yield defer.gatherResults([other, mine])
        self.assertEqual(code, 0, err)
        _, total = yield storage.list_accounts(0, 1)
        self.assertEqual(total, 400)


class NonceIndexTests(unittest.TestCase):
    """SQLite's plan for the nonce check."""

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield open_sqlite(self)

    @defer.inlineCallbacks
    def test_nonce_lookup_uses_both_columns(self):
        """SQLite finds a nonce through the unique (nonce, account_id) index, whatever the account holds."""
        plan = yield self.storage.read("probe", lambda txn: txn.all(
            'EXPLAIN QUERY PLAN UPDATE "nonces" SET "nc" = 1 WHERE "nonce" = ? AND "account_id" = ? '
            'AND "nc" < 1 AND "created_at" >= ?', ("n", 1, "x")))
        self.assertIn("famd_nonces_nonce_account_id_unique", repr(plan))


class BlockedWriterTests(unittest.TestCase):
    """Reads while another process holds the file's write lock (BEGIN IMMEDIATE)."""

    @defer.inlineCallbacks
    def test_reads_answer_while_a_write_waits(self):
        """Lookups asked after a write that waits for another connection's lock answer at once; the write gets 503 after busy_timeout."""
        from twisted.internet import reactor

        path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "famd.sqlite")
        storage = SQLiteStorage(path, reactor, busy_timeout=2.0)
        yield storage.open()
        self.addCleanup(storage.close)
        account_id = yield storage.create_account(new(api_key="k" * 40))
        other = sqlite3.connect(path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        write = storage.create_account(new("bob"))
        found = yield defer.gatherResults(
            [storage.find_account("alice", "sip.example.org") for _ in range(3)]
            + [storage.get_account(account_id)])
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual([account.id for account in found], [account_id] * 4)
        self.assertFalse(write.called)
        error = yield self.assertFailure(write, StorageUnavailable)
        self.assertGreaterEqual(time.monotonic() - started, 1.5)
        self.assertIn("busy", str(error))
        other.execute("ROLLBACK")
        self.assertIsNotNone((yield storage.create_account(new("bob"))))

    @defer.inlineCallbacks
    def test_info_and_me_answer_while_a_write_waits(self):
        """Public info and API-key me answer at once while a write waits for another process's lock."""
        api = yield serve(self)
        other = sqlite3.connect(api.storage.path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute("BEGIN IMMEDIATE")
        self.addCleanup(other.execute, "ROLLBACK")
        write = api.storage.create_account(new("waiting"))
        write.addErrback(lambda failure: failure.trap(StorageUnavailable))
        started = time.monotonic()
        info = yield api.request("GET", "/accounts/user@sip.example.org/info", sip=None)
        me = yield api.json("GET", "/accounts/me", sip="sip:bob@sip.example.org", key=BOB_KEY)
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual((info[0], me[0], me[1]["username"]), (200, 200, "bob"))
        self.assertFalse(write.called)
        yield write

    @defer.inlineCallbacks
    def test_reader_cannot_write(self):
        """A transaction sent as a read runs on a connection that refuses to write."""
        storage = yield open_sqlite(self)
        failure = yield self.assertFailure(
            storage.read("probe", lambda txn: txn.execute('DELETE FROM "accounts"')),
            sqlite3.OperationalError)
        self.assertIn("readonly", str(failure).replace(" ", ""))


class FileModeTests(unittest.TestCase):
    """The database file holds secrets: who may read it."""

    def setUp(self):
        self.path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "famd.sqlite")

    def modes(self):
        return [stat.S_IMODE(os.stat(self.path + suffix).st_mode) for suffix in ("", "-wal", "-shm")]

    @defer.inlineCallbacks
    def test_new_file_is_private(self):
        """A database file famd creates, and its -wal and -shm files, are readable by their owner only."""
        storage = yield open_sqlite(self, path=self.path)
        yield storage.create_account(new())
        yield storage.find_account("alice", "sip.example.org")
        self.assertEqual(self.modes(), [0o600] * 3)

    @defer.inlineCallbacks
    def test_existing_file_keeps_its_mode(self):
        """A file the operator created with another mode keeps it, and its -wal and -shm files get it."""
        open(self.path, "w").close()
        os.chmod(self.path, 0o640)
        storage = yield open_sqlite(self, path=self.path)
        yield storage.create_account(new())
        self.assertEqual(self.modes(), [0o640] * 3)

