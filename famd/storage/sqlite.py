"""
The embedded default storage: one SQLite file, shared safely with Flexisip and
other processes.

All work runs on one dedicated thread that owns the connection (opened with
sqlite-utils, WAL journal, foreign keys on, a busy timeout), never on the
reactor thread.  Writing transactions start with ``BEGIN IMMEDIATE`` so that
check-then-write sequences are serialized against every other writer of the
file, in this process or another.

Transactions asked for while the thread is busy are sent to it together,
as one batch, when it is done: each still runs as its own transaction, in
the order asked, but a busy server pays one trip to the thread and back for
several of them instead of one each.
"""

import sqlite3

import sqlite_utils
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from zope.interface import implementer

from famd.interfaces import IStorage, StorageUnavailable
from famd.storage.base import SQLStorage
from famd.storage.dialect import Dialect
from famd.storage.migrations import migrate_txn
from famd.storage.transaction import Transaction


CACHE_KIB = 32768
"""SQLite's page cache of the connection, at most (KiB)."""


def connect(path, busy_timeout):
    """A connection to C{path} set up as famd needs it (blocking)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
    database = sqlite_utils.Database(connection)
    database.enable_wal()
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = NORMAL")
    # Room for the hot pages of a large file (a million accounts): count(*)
    # of the admin listing then sums cached index pages instead of reading
    # thousands of them from the OS.  An upper bound, filled as pages are read.
    connection.execute("PRAGMA cache_size = -%d" % (CACHE_KIB,))
    connection.execute("PRAGMA busy_timeout = %d" % (int(busy_timeout * 1000),))
    return connection


def transact(connection, dialect, write, function, args):
    """
    Run C{function(txn, *args)} in one transaction on C{connection}.  A read
    of one statement (L{famd.storage.transaction.one_statement}) is its own
    transaction: two calls into SQLite fewer.
    """
    if not write and getattr(function, "one_statement", False):
        return function(Transaction(connection.cursor(), dialect), *args)
    try:
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    except sqlite3.OperationalError as error:
        raise StorageUnavailable("the SQLite database is busy: %s" % (error,)) from None
    try:
        result = function(Transaction(connection.cursor(), dialect), *args)
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result


def run_batch(calls):
    """
    Run each C{(function, args)} of C{calls} in turn (on the storage
    thread); return their outcomes, C{(True, result)} or C{(False, Failure)}.
    """
    outcomes = []
    for function, args in calls:
        try:
            outcomes.append((True, function(*args)))
        except BaseException:
            outcomes.append((False, Failure()))
    return outcomes


@implementer(IStorage)
class SQLiteStorage(SQLStorage):
    """L{IStorage} on one SQLite file."""

    def __init__(self, path, reactor, busy_timeout=5.0):
        self.path = path
        self.dialect = Dialect()
        self._reactor = reactor
        self._busy_timeout = busy_timeout
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name="famd-sqlite")
        self._connection = None
        self._waiting = []
        self._sending = False

    def migrate_blocking(self):
        connection = connect(self.path, self._busy_timeout)
        try:
            return transact(connection, self.dialect, True, migrate_txn, ())
        finally:
            connection.close()

    def open(self):
        if not self._pool.started:
            self._pool.start()
        return self.write(migrate_txn)

    def close(self):
        def release():
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        d = self._submit(release)
        d.addBoth(lambda result: (self._pool.stop(), result)[1])
        return d

    def _in_thread(self, write, function, args):
        if self._connection is None:
            self._connection = connect(self.path, self._busy_timeout)
        return transact(self._connection, self.dialect, write, function, args)

    def _run(self, write, function, *args):
        return self._submit(self._in_thread, write, function, args)

    def _submit(self, function, *args):
        """Have the thread call C{function(*args)}; a Deferred of the result."""
        d = Deferred()
        self._waiting.append((function, args, d))
        if not self._sending:
            self._send()
        return d

    def _send(self):
        batch, self._waiting = self._waiting, []
        self._sending = True
        calls = [(function, args) for function, args, _ in batch]
        sent = deferToThreadPool(self._reactor, self._pool, run_batch, calls)
        sent.addCallbacks(self._delivered, self._lost, (batch,), None, (batch,))

    def _delivered(self, outcomes, batch):
        self._sending = False
        if self._waiting:
            self._send()  # keep the thread busy while these results are used
        for (_, _, d), (succeeded, value) in zip(batch, outcomes):
            if succeeded:
                d.callback(value)
            else:
                d.errback(value)

    def _lost(self, failure, batch):
        self._delivered([(False, failure)] * len(batch), batch)


def build(options, context):
    """The ``sqlite`` backend's factory."""
    return SQLiteStorage(options["path"], context.reactor, options["busy_timeout"])
