"""
The embedded default storage: one SQLite file, shared safely with Flexisip and
other processes.

Work runs on two dedicated threads, never on the reactor thread, each
owning its connection (opened with sqlite-utils, WAL journal, foreign keys
on, a busy timeout):

 - the writer runs every transaction that may write, one at a time, each
   starting with ``BEGIN IMMEDIATE`` so that check-then-write sequences are
   serialized against every other writer of the file, in this process or
   another;
 - the reader runs the read-only transactions, on a connection that cannot
   write (``query_only``).  In WAL mode a reader never waits for the write
   lock, so while another process holds ``BEGIN IMMEDIATE`` (or famd's own
   writer waits for it up to ``busy_timeout``) account lookups, and so every
   request's authentication, are still answered at once.  A read sees every
   write whose Deferred fired before it was asked for.

Transactions asked of a thread during one turn of the reactor are handed
to it together, and those asked while it is busy are taken by it together,
as one batch, when it is done: each still runs as its own transaction, in
the order asked, but a busy server pays one trip to the thread and back for
several of them instead of one each.  Account lookups that are next to
each other in a batch (every authenticated request starts with one) are
read with one statement for all of them.

A database file famd creates is readable and writable by its owner only
(``0600``; SQLite gives the ``-wal`` and ``-shm`` files the database file's
mode): it holds API keys and HA1s.  An existing file keeps its mode.
"""

import os
import queue
import sqlite3
import threading

import sqlite_utils
from twisted.internet import defer
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from zope.interface import implementer

from famd.interfaces import IStorage, StorageUnavailable
from famd.storage.base import SQLStorage, name_failure
from famd.storage.dialect import Dialect
from famd.storage import sql_accounts as accounts
from famd.storage.migrations import migrate_txn
from famd.storage.transaction import Transaction


CACHE_KIB = 32768
"""SQLite's page cache of the connection, at most (KiB)."""


FILE_MODE = 0o600
"""The mode of a database file famd creates: its owner's only."""


def create_private(path):
    """
    Create C{path} as an empty file of mode L{FILE_MODE} (an empty file is
    an empty SQLite database) unless it exists; leave anything else to
    SQLite (its own message for a folder that does not exist, ...).
    """
    if path in ("", ":memory:") or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except OSError:
        pass  # it exists (kept as it is), or SQLite will say what is wrong


def connect(path, busy_timeout, reader=False):
    """
    A connection to C{path} set up as famd needs it (blocking); a C{reader}
    connection refuses to write.
    """
    create_private(path)
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
    if reader:
        connection.execute("PRAGMA query_only = ON")
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

    A run of consecutive calls of one function that has a C{many}
    attribute is made as one call of C{function.many(list of their args)},
    which returns the list of their results (or fails for all of them).
    """
    outcomes = []
    index = 0
    while index < len(calls):
        function, args = calls[index]
        many = getattr(function, "many", None)
        end = index + 1
        if many is not None:
            while end < len(calls) and calls[end][0] is function:
                end += 1
        try:
            if many is None or end - index == 1:
                outcomes.append((True, function(*args)))
            else:
                results = many([arguments for _, arguments in calls[index:end]])
                outcomes.extend((True, result) for result in results)
        except BaseException:
            outcomes.extend([(False, Failure())] * (end - index))
        index = end
    return outcomes


class AccountLookups:
    """
    The storage thread's side of C{find_account}: one call looks up one
    address; a run of them sent together is looked up with one statement per
    L{FIND_MANY_SIZES<famd.storage.sql_accounts.FIND_MANY_SIZES>} addresses
    (every authenticated request starts with one, so a busy server sends
    dozens at a time, and one statement spares dozens of trips into SQLite).
    """

    def __init__(self, storage):
        self._storage = storage

    def __call__(self, username, domain):
        return self._storage._in_thread(
            "find_account", False, accounts.find_account_txn, (username, domain)
        )

    def many(self, addresses):
        found = []
        largest = accounts.FIND_MANY_SIZES[-1]
        for start in range(0, len(addresses), largest):
            found.extend(
                self._storage._in_thread(
                    "find_accounts", False, accounts.find_accounts_txn,
                    (addresses[start:start + largest],),
                )
            )
        return found


class StorageThread:
    """
    One thread that runs calls in the order they were sent and hands their
    outcomes back to the reactor thread.

    The calls sent during one turn of the reactor (the requests of every
    connection that was readable) are handed to the thread together, at the
    start of the next turn: one C{SimpleQueue.put} and one wake-up of the
    thread for all of them, instead of a wake-up per call (which, measured,
    cost about two context switches per request: the thread, faster than
    the reactor, woke for each call and found only that one).  Whenever it
    is free the thread takes every call waiting (it stops taking once it
    has C{most}) as one batch (see L{run_batch}), then hands the whole
    batch's outcomes back with one C{callFromThread}; nothing waits for the
    reactor to ask for the next batch, so the thread keeps working while
    the reactor writes answers.
    """

    _STOP = object()

    def __init__(self, reactor, name, most=256):
        self._reactor = reactor
        self._name = name
        self._most = most
        self._queue = queue.SimpleQueue()
        self._sent = []
        self._thread = None

    @property
    def started(self):
        return self._thread is not None

    def start(self):
        self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
        self._thread.start()

    def submit(self, function, *args):
        """Have the thread call C{function(*args)}; a Deferred of the result."""
        d = Deferred()
        self._sent.append((function, args, d))
        if len(self._sent) == 1:
            self._reactor.callLater(0, self._hand_over)
        return d

    def _hand_over(self):
        """Give the thread the calls sent since the last hand-over (in the reactor thread)."""
        sent, self._sent = self._sent, []
        if sent:
            self._queue.put(sent)

    def stop(self):
        """
        Let the thread end once what was sent before has run (a thread
        started afterwards takes its calls from a queue of its own).
        """
        if self._thread is not None:
            self._hand_over()
            self._queue.put(self._STOP)
            self._queue = queue.SimpleQueue()
            self._thread = None

    def _work(self):
        get, get_nowait = self._queue.get, self._queue.get_nowait
        call_from_thread, most = self._reactor.callFromThread, self._most
        stopping = False
        while not stopping:
            batch = []
            taken = get()
            try:
                while True:
                    if taken is self._STOP:
                        stopping = True
                        break
                    batch.extend(taken)
                    if len(batch) >= most:
                        break
                    taken = get_nowait()
            except queue.Empty:
                pass
            if batch:
                outcomes = run_batch([(function, args) for function, args, _ in batch])
                call_from_thread(_deliver, batch, outcomes)


def _deliver(batch, outcomes):
    """Fire each call's Deferred with its outcome (in the reactor thread)."""
    for (_, _, d), (succeeded, value) in zip(batch, outcomes):
        if succeeded:
            d.callback(value)
        else:
            d.errback(value)


@implementer(IStorage)
class SQLiteStorage(SQLStorage):
    """L{IStorage} on one SQLite file: a writer thread and a reader thread."""

    def __init__(self, path, reactor, busy_timeout=5.0):
        self.path = path
        self.dialect = Dialect()
        self._reactor = reactor
        self._busy_timeout = busy_timeout
        self._writer = StorageThread(reactor, "famd-sqlite")
        self._reader = StorageThread(reactor, "famd-sqlite-read")
        # Each used only by its thread: index True for the writer's.
        self._connections = {True: None, False: None}
        self._lookups = AccountLookups(self)

    def migrate_blocking(self):
        connection = connect(self.path, self._busy_timeout)
        try:
            return transact(connection, self.dialect, True, migrate_txn, ())
        finally:
            connection.close()

    def open(self):
        for thread in (self._writer, self._reader):
            if not thread.started:
                thread.start()
        return self.write("migrate", migrate_txn)

    def close(self):
        def release(write):
            connection, self._connections[write] = self._connections[write], None
            if connection is not None:
                connection.close()

        def stopped(result, thread):
            thread.stop()
            return result

        return defer.gatherResults([
            thread.submit(release, write).addBoth(stopped, thread)
            for write, thread in ((True, self._writer), (False, self._reader))
        ], consumeErrors=True).addCallbacks(
            lambda _: None, lambda failure: failure.value.subFailure)

    def _in_thread(self, name, write, function, args):
        """
        Run the transaction called C{name} (on the writer thread when it
        may C{write}, else on the reader thread; the one place that would
        time it).
        """
        connection = self._connections[write]
        if connection is None:
            connection = self._connections[write] = connect(
                self.path, self._busy_timeout, reader=not write)
        return transact(connection, self.dialect, write, function, args)

    def find_account(self, username, domain):
        d = self._reader.submit(self._lookups, username, domain).addErrback(
            name_failure, "find_account")
        return d if self.observe is None else self.observe("find_account", d)

    def _run(self, name, write, function, args):
        thread = self._writer if write else self._reader
        return thread.submit(self._in_thread, name, write, function, args)


def build(options, context):
    """The ``sqlite`` backend's factory."""
    return SQLiteStorage(options["path"], context.reactor, options["busy_timeout"])
