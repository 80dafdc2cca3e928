"""
The PostgreSQL storage, through psycopg 3.

Parameters are sent untyped, so a ``YYYY-MM-DD HH:MM:SS`` string compares
with and fills TIMESTAMP columns; booleans are real booleans.  Connections
run at READ COMMITTED (PostgreSQL's default, made explicit): a conditional
UPDATE that waited for another transaction re-checks its condition on the
committed row, which is what makes nonces and tokens single-use.  TCP
keepalives and a user timeout notice a network cut within a minute; the
server cancels a statement running longer than the storage's
C{statement_timeout} (``statement_timeout``), and famd cuts a connection
whose server does not even do that (L{famd.storage.pooled}).
"""

import math

from zope.interface import implementer

from famd.interfaces import IStorage
from famd.storage.dialect import PostgreSQLDialect
from famd.storage.pooled import PooledStorage, shut_down

IO_TIMEOUT = 60
"""Seconds without an acknowledgement before a connection counts as lost."""

LOCK_TIMEOUT = 20
"""Seconds a statement waits for a lock (row or advisory) before giving up."""


@implementer(IStorage)
class PostgreSQLStorage(PooledStorage):
    """L{IStorage} on a PostgreSQL database."""

    driver = "psycopg"
    engine = "postgresql"

    def __init__(self, url, reactor, *args, **kwargs):
        self.dialect = PostgreSQLDialect()
        super().__init__(url, reactor, *args, **kwargs)

    def connect_arguments(self):
        url = self.url
        kwargs = dict(
            host=url.host,
            port=url.port or 5432,
            dbname=url.database,
            # libpq counts whole seconds and takes less than 2 as 2.
            connect_timeout=max(2, math.ceil(self.connect_timeout)),
            application_name="famd",
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
            tcp_user_timeout=IO_TIMEOUT * 1000,
        )
        if url.user is not None:
            kwargs["user"] = url.user
        if url.password is not None:
            kwargs["password"] = url.password
        kwargs.update(url.query)  # sslmode=..., host=/socket/dir, ...
        return (), kwargs

    def setup(self, connection):
        import psycopg

        connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        connection.execute("SET TIME ZONE 'UTC'")
        connection.execute("SET lock_timeout = '%ds'" % (LOCK_TIMEOUT,))
        connection.execute(
            "SET statement_timeout = '%dms'" % (max(1, round(self.statement_timeout * 1000)),))

    def unbounded(self, txn):
        txn.execute("SET LOCAL statement_timeout = 0")

    def cut(self, connection):
        shut_down(connection.pgconn.socket)


def build(options, context):
    """The ``postgresql`` backend's factory."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ValueError(
            "the postgresql storage backend needs psycopg 3: pip install 'famd[postgresql]'"
        ) from None
    return PostgreSQLStorage(
        options["url"],
        context.reactor,
        pool_min=options["pool_min"],
        pool_max=options["pool_max"],
        connect_timeout=options["connect_timeout"],
        statement_timeout=options["statement_timeout"],
        pool_timeout=options["pool_timeout"],
    )
