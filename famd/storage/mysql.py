"""
The MySQL / MariaDB storage, through PyMySQL.

Every connection talks utf8mb4, reads and writes TIMESTAMP columns in UTC,
runs in strict SQL mode (a NULL or too long value is an error, not a
warning) and at READ COMMITTED isolation: each statement sees what was
committed before it, so a check made under account creation's named lock
sees every account created before.  UPDATEs report the rows they matched
(FOUND_ROWS), as on SQLite and PostgreSQL.  The server cancels a statement
that runs longer than the storage's C{statement_timeout} (MariaDB's
``max_statement_time``, MySQL's ``max_execution_time``); famd cuts a
connection whose server does not even do that (L{famd.storage.pooled}).
"""

from zope.interface import implementer

from famd.interfaces import IStorage
from famd.storage.dialect import MySQLDialect
from famd.storage.pooled import PooledStorage, shut_down

SQL_MODE = (
    "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)

IO_TIMEOUT = 60
"""Seconds without an answer before a connection counts as lost (network cut);
the storage's C{statement_timeout} answers a caller long before (see
L{famd.storage.pooled}), but the schema migration may take this long."""

LOCK_WAIT_TIMEOUT = 20
"""Seconds a statement waits for a row lock (below L{IO_TIMEOUT})."""


def statement_time_variable(connection):
    """
    The session variable that has the server cancel a long statement, and
    its unit per second: MariaDB's ``max_statement_time`` (seconds, every
    statement) or MySQL's ``max_execution_time`` (milliseconds, SELECTs).
    """
    if "MariaDB" in connection.get_server_info():
        return "max_statement_time", 1
    return "max_execution_time", 1000


def _number(value):
    return "%d" % (round(value),) if value >= 100 else "%.3f" % (value,)


@implementer(IStorage)
class MySQLStorage(PooledStorage):
    """L{IStorage} on a MySQL or MariaDB database."""

    driver = "pymysql"
    engine = "mysql"

    def __init__(self, url, reactor, *args, **kwargs):
        self.dialect = MySQLDialect()
        super().__init__(url, reactor, *args, **kwargs)

    def connect_arguments(self):
        from pymysql.constants import CLIENT

        url = self.url
        kwargs = dict(
            host=url.host,
            port=url.port or 3306,
            user=url.user or "",
            password=url.password or "",
            database=url.database,
            charset="utf8mb4",
            autocommit=False,
            connect_timeout=self.connect_timeout,
            read_timeout=IO_TIMEOUT,
            write_timeout=IO_TIMEOUT,
            client_flag=CLIENT.FOUND_ROWS,
        )
        for key, value in url.query:
            if key == "unix_socket":
                kwargs[key] = value
        return (), kwargs

    def setup(self, connection):
        cursor = connection.cursor()
        try:
            cursor.execute(
                "SET SESSION sql_mode = %s, time_zone = '+00:00', "
                "innodb_lock_wait_timeout = %s",
                (SQL_MODE, LOCK_WAIT_TIMEOUT),
            )
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            name, scale = statement_time_variable(connection)
            cursor.execute(
                "SET SESSION %s = %s" % (name, _number(self.statement_timeout * scale)))
        finally:
            cursor.close()

    def unbounded(self, txn):
        name, scale = statement_time_variable(txn.cursor.connection)
        txn.execute("SET SESSION %s = 0" % (name,))
        txn.on_end("SET SESSION %s = %s" % (name, _number(self.statement_timeout * scale)))

    def cut(self, connection):
        shut_down(connection._sock.fileno())  # PyMySQL's socket; None once closed


def build(options, context):
    """The ``mysql`` backend's factory."""
    try:
        import pymysql  # noqa: F401
    except ImportError:
        raise ValueError(
            "the mysql storage backend needs PyMySQL: pip install 'famd[mysql]'"
        ) from None
    return MySQLStorage(
        options["url"],
        context.reactor,
        pool_min=options["pool_min"],
        pool_max=options["pool_max"],
        connect_timeout=options["connect_timeout"],
        statement_timeout=options["statement_timeout"],
        pool_timeout=options["pool_timeout"],
    )
