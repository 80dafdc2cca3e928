"""
The differences between SQL engines, in one place.

famd's SQL is written once, in SQLite's spelling: ``?`` parameters and
double-quoted identifiers.  A L{Dialect} rewrites it for its engine and says
how to get an inserted row's id, how to take a lock that serializes
check-then-write sequences, and which driver errors mean "retry" (deadlock,
serialization failure) or "the server is gone".  Nothing else in famd knows
which engine it talks to.
"""

import re
import zlib

from famd.interfaces import StorageUnavailable


class Dialect:
    """SQLite: the SQL as written."""

    name = "sqlite"
    returning_ids = False

    def __init__(self):
        self._cache = {}

    def sql(self, text):
        """C{text} rewritten for this engine (cached)."""
        try:
            return self._cache[text]
        except KeyError:
            rewritten = self._cache[text] = self.rewrite(text)
            return rewritten

    def rewrite(self, text):
        return _FOR_UPDATE.sub("", text)

    def insert_ignore(self, target):
        """An INSERT of C{target} ('table (cols) VALUES (...)') that skips duplicates."""
        return "INSERT OR IGNORE INTO " + target

    def is_unique_violation(self, error):
        """Whether a driver exception is a unique-constraint failure."""
        return "UNIQUE constraint failed" in str(error)

    def lock(self, txn, name):
        """
        Make C{txn} wait for, then hold until it ends, the lock C{name}, so
        that transactions taking it run one after the other in every famd
        process on the database.  SQLite has nothing to do: a writing
        transaction already holds the file's write lock (``BEGIN
        IMMEDIATE``).
        """

    def is_retryable(self, error):
        """Whether a driver exception is a deadlock or serialization failure."""
        return False

    def is_busy(self, error):
        """Whether a driver exception is a lock wait that timed out."""
        return False

    def is_disconnect(self, error):
        """Whether a driver exception means the connection is gone."""
        return False


_FOR_UPDATE = re.compile(r"\s+FOR UPDATE\s*$")
"""SQLite has no row locks (its writers are serialized): the clause is dropped."""

_QMARK = re.compile(r"\?")


class FormatDialect(Dialect):
    """Engines whose drivers take ``%s`` parameters (PyMySQL, psycopg)."""

    quote = '"'

    def rewrite(self, text):
        text = text.replace("%", "%%")
        text = _QMARK.sub("%s", text)
        if self.quote != '"':
            text = text.replace('"', self.quote)
        return text


def _code(error):
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


# Server gone away, lost connection, killed, shut down, can't connect, ...
_MYSQL_GONE = frozenset((1053, 1077, 1152, 1927, 2002, 2003, 2006, 2013, 2055, 4031))


class MySQLDialect(FormatDialect):
    """
    MySQL / MariaDB through PyMySQL: backquoted identifiers.  Its named
    locks (``GET_LOCK``) belong to the connection, not the transaction, so
    they are released once the transaction has ended.
    """

    name = "mysql"
    quote = "`"
    lock_timeout = 20

    def insert_ignore(self, target):
        return "INSERT IGNORE INTO " + target

    def is_unique_violation(self, error):
        return _code(error) == 1062

    def lock(self, txn, name):
        # Lock names are server-wide: the database name makes them ours.
        lock_name = "LEFT(CONCAT(?, DATABASE()), 64)"
        key = "famd.%s." % (name,)
        got = txn.scalar("SELECT GET_LOCK(%s, ?)" % (lock_name,), (key, self.lock_timeout))
        if got != 1:
            raise StorageUnavailable("timed out waiting for the %s lock" % (name,))
        txn.on_end("SELECT RELEASE_LOCK(%s)" % (lock_name,), (key,))

    def is_retryable(self, error):
        return _code(error) == 1213  # deadlock found

    def is_busy(self, error):
        # lock wait timeout exceeded; statement time exceeded (MariaDB, MySQL)
        return _code(error) in (1205, 1969, 3024)

    def is_disconnect(self, error):
        import pymysql

        if isinstance(error, pymysql.err.InterfaceError):
            return True  # PyMySQL's "(0, '')": the connection is closed
        return isinstance(error, pymysql.err.OperationalError) and _code(error) in _MYSQL_GONE


class PostgreSQLDialect(FormatDialect):
    """PostgreSQL through psycopg: ids come back with RETURNING."""

    name = "postgresql"
    returning_ids = True

    def insert_ignore(self, target):
        return "INSERT INTO " + target + " ON CONFLICT DO NOTHING"

    def is_unique_violation(self, error):
        return getattr(error, "sqlstate", None) == "23505"

    def lock(self, txn, name):
        # An advisory lock of the current database, released at commit or rollback.
        txn.execute("SELECT pg_advisory_xact_lock(?)", (zlib.crc32(b"famd." + name.encode()),))

    def is_retryable(self, error):
        return getattr(error, "sqlstate", None) in ("40001", "40P01")

    def is_busy(self, error):
        # lock_timeout; statement_timeout (or a statement cancelled by an admin)
        return getattr(error, "sqlstate", None) in ("55P03", "57014")

    def is_disconnect(self, error):
        import psycopg

        if isinstance(error, psycopg.InterfaceError):
            return True
        if not isinstance(error, psycopg.OperationalError):
            return False
        state = getattr(error, "sqlstate", None)
        # No SQLSTATE: a client-side failure (connection lost or refused).
        return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")
