"""
The embedded default storage: one SQLite file, shared safely with Flexisip and
other processes.

All work runs on one dedicated thread that owns the connection (opened with
sqlite-utils, WAL journal, foreign keys on, a busy timeout), never on the
reactor thread.  Writing transactions start with ``BEGIN IMMEDIATE`` so that
check-then-write sequences are serialized against every other writer of the
file, in this process or another.
"""

import sqlite3

import sqlite_utils
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from zope.interface import implementer

from famd.interfaces import IStorage, StorageUnavailable
from famd.storage.base import SQLStorage
from famd.storage.dialect import Dialect
from famd.storage.migrations import migrate_txn
from famd.storage.transaction import Transaction


def connect(path, busy_timeout):
    """A connection to C{path} set up as famd needs it (blocking)."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
    database = sqlite_utils.Database(connection)
    database.enable_wal()
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA busy_timeout = %d" % (int(busy_timeout * 1000),))
    return connection


def transact(connection, dialect, write, function, args):
    """Run C{function(txn, *args)} in one transaction on C{connection}."""
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

        d = deferToThreadPool(self._reactor, self._pool, release)
        d.addBoth(lambda result: (self._pool.stop(), result)[1])
        return d

    def _in_thread(self, write, function, args):
        if self._connection is None:
            self._connection = connect(self.path, self._busy_timeout)
        return transact(self._connection, self.dialect, write, function, args)

    def _run(self, write, function, *args):
        return deferToThreadPool(
            self._reactor, self._pool, self._in_thread, write, function, args
        )


def build(options, context):
    """The ``sqlite`` backend's factory."""
    return SQLiteStorage(options["path"], context.reactor, options["busy_timeout"])
