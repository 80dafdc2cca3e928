"""
The storage on an SQL server (MySQL/MariaDB, PostgreSQL), through a pool of
connections.

Every transaction runs on a thread of an C{adbapi.ConnectionPool}, never on
the reactor thread; each thread keeps its own connection.  Around that pool,
L{PooledStorage} adds what a shared, remote database needs:

 - calls made before the schema is migrated wait for it (and start it if
   nobody did);
 - a deadlock or serialization failure is retried a few times, after a
   growing delay scheduled on the reactor; a lock wait that timed out is
   L{StorageUnavailable};
 - a connection found dead before the commit was sent is dropped and the
   transaction replayed on a fresh one, so a server restart costs no error;
   a server that cannot be reached, or a connection lost while committing
   (whose outcome is unknown), fails with L{StorageUnavailable} (HTTP 503);
 - at most C{pool_max} transactions hold a connection at once; a call
   that finds them all taken waits up to C{pool_timeout} seconds for one,
   then fails with L{StorageUnavailable}, so a slow or stuck server never
   piles up waiting requests;
 - a transaction that has not ended after C{statement_timeout} seconds
   fails with L{StorageUnavailable} at once and its connection is cut
   (its socket shut down), which also frees the pool's thread: a server
   frozen with its TCP port open (stopped with SIGSTOP, or hung) gives 503
   in seconds, never a minute of hanging requests.  A provider may also
   have the server cancel long statements itself (PostgreSQL's
   ``statement_timeout``, MariaDB's ``max_statement_time``; see
   L{PooledStorage.unbounded}).  The schema migration is exempt: creating
   an index on a large table may take long;
 - the URL's password never appears in a message;
 - its log lines (replays after a deadlock, after a lost connection) name
   the transaction (L{famd.storage.base.SQLStorage.read}).

A provider subclass says which driver to load and how to connect and set up
a connection (L{PooledStorage.connect_arguments}, L{PooledStorage.setup}).
"""

import collections
import os
import socket
import threading

from twisted.enterprise import adbapi
from twisted.internet import defer, task
from twisted.logger import Logger
from twisted.python.failure import Failure

from famd.interfaces import StorageUnavailable
from famd.storage.base import SQLStorage
from famd.storage.migrations import migrate_txn
from famd.storage.transaction import Transaction
from famd.storage.url import parse

log = Logger()

BUSY_RETRIES = 5
"""Replays of a transaction that hit a deadlock or serialization failure."""

BUSY_DELAY = 0.05
"""Seconds before the first replay; doubled at each one."""


GRACE = 1.0
"""Seconds past C{statement_timeout} before famd cuts a connection itself:
a server that can cancel the statement (PostgreSQL, MariaDB) does it first."""


class _Attempt:
    """
    What one try of a transaction learnt, read back on the reactor thread;
    and the connection it runs on, so that the reactor thread can cut it.
    """

    committing = False
    dead = False

    def __init__(self):
        self._lock = threading.Lock()
        self._connection = None
        self._cut = None

    def running_on(self, connection, cut):
        """(pool thread) The transaction now runs on C{connection}; C{cut(connection)} ends it."""
        with self._lock:
            self._connection, self._cut = connection, cut

    def ended(self):
        """(pool thread) The transaction no longer uses its connection."""
        with self._lock:
            self._connection = None

    def interrupt(self):
        """
        (reactor thread) Cut the connection if the transaction still runs on
        it: its thread's blocked read or write then fails as a lost
        connection.  Never touches a connection handed to another
        transaction since.
        """
        with self._lock:
            if self._connection is not None:
                try:
                    self._cut(self._connection)
                except Exception:
                    pass  # already closed


def shut_down(fileno):
    """Shut down the socket of file descriptor C{fileno} (not closing it)."""
    duplicate = socket.socket(fileno=os.dup(fileno))
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    finally:
        duplicate.close()


def transact(connection, dialect, function, args, attempt):
    """
    Run C{function(txn, *args)} in one transaction on a DB-API connection
    (blocking), then run the statements the transaction asked for at its
    end (L{Transaction.on_end}).
    """
    txn = Transaction(connection.cursor(), dialect)
    try:
        try:
            result = function(txn, *args)
            attempt.committing = True
            connection.commit()
            return result
        except BaseException as error:
            attempt.dead = dialect.is_disconnect(error)
            if not attempt.dead:
                try:
                    connection.rollback()
                except Exception:
                    attempt.dead = True
            raise
    finally:
        if txn.ending and not attempt.dead:
            _finish(connection, txn, attempt)


def _finish(connection, txn, attempt):
    try:
        for sql, params in txn.ending:
            txn.execute(sql, params)
        connection.commit()
    except Exception:
        # The server drops the connection's locks with it.
        attempt.dead = True


class _Connection(adbapi.Connection):
    """
    adbapi's per-thread connection wrapper, for L{transact}: it commits and
    rolls back itself, so the pool's own commit and rollback only drop a
    connection that was found dead; the next transaction on that thread
    connects afresh.  (This replaces adbapi's C{cp_reconnect}, which logs a
    traceback and raises C{ConnectionLost} instead of letting the
    transaction be replayed.)
    """

    attempt = None

    def commit(self):
        self._drop_if_dead()

    def rollback(self):
        self._drop_if_dead()

    def _drop_if_dead(self):
        if self.attempt is not None and self.attempt.dead:
            self._pool.disconnect(self._connection)


class _Pool(adbapi.ConnectionPool):
    """A ConnectionPool that reports failures to connect as StorageUnavailable."""

    connectionFactory = _Connection

    def __init__(self, describe, *args, **kwargs):
        self._describe = describe
        super().__init__(*args, **kwargs)

    def connect(self):
        try:
            return super().connect()
        except Exception as error:
            raise StorageUnavailable(self._describe(error)) from None

    def _close(self, connection):
        try:
            connection.close()
        except Exception:
            pass  # already closed by the server


class PooledStorage(SQLStorage):
    """
    L{famd.interfaces.IStorage} on an SQL server.  Subclasses set C{dialect},
    C{driver} (the DB-API module name) and C{engine}, and implement
    C{connect_arguments()} and C{setup(connection)}.

    @param url: the database URL (its password is never shown).
    @raise ValueError: the URL is unusable (the message omits it).
    """

    dialect = None
    driver = None
    engine = None

    def __init__(self, url, reactor, pool_min=1, pool_max=8, connect_timeout=5.0,
                 statement_timeout=10.0, pool_timeout=5.0):
        self.url = parse(url, self.engine)
        self._reactor = reactor
        self._pool_min = pool_min
        self._pool_max = max(pool_min, pool_max)
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self._pool_timeout = pool_timeout
        self._taken = 0
        self._queue = collections.deque()
        self._pool = None
        self._version = None
        self._opening = False
        self._waiting = []
        self._closed = False
        self._busy = 0
        self._idle = []

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.url.redacted())

    # What a provider says

    def connect_arguments(self):
        """The (args, kwargs) for the driver's C{connect}."""
        raise NotImplementedError()

    def setup(self, connection):
        """Prepare a new connection (blocking): session settings."""

    def cut(self, connection):
        """
        Shut down the socket of C{connection} (a driver connection in use by
        another thread), so that what that thread waits for fails.
        """
        raise NotImplementedError()

    def unbounded(self, txn):
        """Lift, for the rest of transaction C{txn}, the server's own statement timeout."""

    def _migrate_txn(self, txn):
        self.unbounded(txn)
        return migrate_txn(txn)

    # Connections

    def _describe(self, error):
        return "cannot connect to the database %s: %s" % (
            self.url.redacted(),
            self.url.scrub(str(error)),
        )

    def _prepare(self, connection):
        try:
            self.setup(connection)
            connection.commit()
        except BaseException:
            connection.close()
            raise

    def connect_blocking(self):
        """A new connection, set up (blocking); L{StorageUnavailable} on failure."""
        module = __import__(self.driver)
        args, kwargs = self.connect_arguments()
        try:
            connection = module.connect(*args, **kwargs)
            self._prepare(connection)
        except Exception as error:
            raise StorageUnavailable(self._describe(error)) from None
        return connection

    def _make_pool(self):
        args, kwargs = self.connect_arguments()
        pool = _Pool(
            self._describe,
            self.driver,
            *args,
            cp_min=self._pool_min,
            cp_max=self._pool_max,
            cp_name="famd-" + self.engine,
            cp_openfun=self._prepare,
            cp_reactor=self._reactor,
            **kwargs,
        )
        pool.start()
        return pool

    # IStorageLifecycle

    def migrate_blocking(self):
        connection = self.connect_blocking()
        try:
            return transact(connection, self.dialect, self._migrate_txn, (), _Attempt())
        except Exception as error:
            if self.dialect.is_disconnect(error):
                raise StorageUnavailable(self._lost(error)) from None
            raise
        finally:
            try:
                connection.close()
            except Exception:
                pass

    def open(self):
        if self._closed:
            return defer.fail(StorageUnavailable("the storage is closed"))
        if self._pool is None:
            self._pool = self._make_pool()
        waiter = defer.Deferred()
        self._waiting.append(waiter)
        if not self._opening:
            self._opening = True
            self._busy += 1
            self._attempts("migrate", self._migrate_txn, ()).addBoth(self._done).addBoth(
                self._opened)
        return waiter

    def _opened(self, result):
        self._opening = False
        if isinstance(result, int):
            self._version = result
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            waiter.callback(result)

    def close(self):
        self._closed = True
        if self._busy or self._taken:
            idle = defer.Deferred()
            self._idle.append(idle)
        else:
            idle = defer.succeed(None)
        return idle.addCallback(lambda _: self._close_pool())

    def _close_pool(self):
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    def pool_use(self):
        """(connections in use, most connections) of this process's pool, for metrics."""
        return self._taken, self._pool_max

    # Running transactions

    def _run(self, name, write, function, args):
        if self._closed:
            return defer.fail(StorageUnavailable("the storage is closed"))
        self._busy += 1
        if self._version is not None:
            d = self._attempts(name, function, args)
        else:
            d = self.open().addCallback(lambda _: self._attempts(name, function, args))
        return d.addBoth(self._done)

    def _done(self, result):
        self._busy -= 1
        self._maybe_idle()
        return result

    def _maybe_idle(self):
        """
        Fire the waiters of L{close} once no call is waiting and no thread
        works (a thread whose caller was answered early may still).
        """
        if not self._busy and not self._taken:
            idle, self._idle = self._idle, []
            for waiter in idle:
                waiter.callback(None)

    def _with_connection(self, connection, function, args, attempt):
        connection.attempt = attempt
        attempt.running_on(connection._connection, self.cut)
        try:
            return transact(connection._connection, self.dialect, function, args, attempt)
        finally:
            attempt.ended()

    # A bounded wait for a connection, a bounded transaction

    def _take(self):
        """
        A Deferred firing once one of the C{pool_max} connections is this
        caller's; failing with L{StorageUnavailable} after C{pool_timeout}.
        """
        if self._taken < self._pool_max:
            self._taken += 1
            return defer.succeed(None)
        waiter = defer.Deferred()

        def expire():
            self._queue.remove(entry)
            waiter.errback(StorageUnavailable(
                "no database connection free within %gs (all %d busy)"
                % (self._pool_timeout, self._pool_max)))

        entry = (waiter, self._reactor.callLater(self._pool_timeout, expire))
        self._queue.append(entry)
        return waiter

    def _give_back(self, result):
        if self._queue:
            waiter, timer = self._queue.popleft()
            timer.cancel()
            waiter.callback(None)  # the connection passes straight to it
        else:
            self._taken -= 1
            self._maybe_idle()
        return result

    def _bounded(self, name, function, args, attempt):
        """
        One try of the transaction on a pooled connection, taken within
        C{pool_timeout}; failed with L{StorageUnavailable} once it has run
        for C{statement_timeout} (+ L{GRACE}), its connection cut.
        """
        def run(_):
            work = self._pool.runWithConnection(self._with_connection, function, args, attempt)
            work.addBoth(self._give_back)
            if name == "migrate" or not self.statement_timeout:
                return work
            outcome = defer.Deferred()
            limit = self.statement_timeout

            def late():
                attempt.interrupt()
                outcome.errback(StorageUnavailable(
                    "no answer from the database %s within %gs" % (self.url.redacted(), limit)))

            timer = self._reactor.callLater(limit + GRACE, late)

            def settled(result):
                if timer.active():
                    timer.cancel()
                    if isinstance(result, Failure):
                        outcome.errback(result)
                    else:
                        outcome.callback(result)
                # else: the caller was answered already; the late outcome is dropped.

            work.addBoth(settled)
            return outcome

        return self._take().addCallback(run)

    def _lost(self, error):
        return "lost the connection to the database %s: %s" % (
            self.url.redacted(),
            self.url.scrub(str(error)),
        )

    @defer.inlineCallbacks
    def _attempts(self, name, function, args):
        """
        Run the transaction called C{name} until it commits, fails for good
        or runs out of replays (the one place that would time it).
        """
        busy = lost = 0
        while True:
            attempt = _Attempt()
            try:
                result = yield self._bounded(name, function, args, attempt)
            except Exception as error:
                if self.dialect.is_retryable(error):
                    if busy < BUSY_RETRIES:
                        busy += 1
                        delay = BUSY_DELAY * 2 ** (busy - 1)
                        log.info(
                            "transaction {txn} hit a deadlock or serialization failure;"
                            " replay {n} of {most} in {delay}s",
                            txn=name, n=busy, most=BUSY_RETRIES, delay=delay,
                        )
                        yield task.deferLater(self._reactor, delay, lambda: None)
                        continue
                    raise StorageUnavailable(
                        "the database stayed busy (%s)" % (self.url.scrub(str(error)),)
                    ) from None
                if self.dialect.is_busy(error):
                    raise StorageUnavailable(
                        "the database is busy (%s)" % (self.url.scrub(str(error)),)
                    ) from None
                if self.dialect.is_disconnect(error):
                    if attempt.committing:
                        raise StorageUnavailable(
                            self._lost(error) + " (while committing; outcome unknown)"
                        ) from None
                    if lost <= self._pool_max:
                        # Every pooled connection may have died with the server.
                        lost += 1
                        log.info(
                            "connection to {db} lost during transaction {txn}; replaying it"
                            " on a new connection",
                            db=self.url.redacted(), txn=name,
                        )
                        continue
                    raise StorageUnavailable(self._lost(error)) from None
                raise
            return result
