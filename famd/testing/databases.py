"""
Fresh MySQL/MariaDB and PostgreSQL databases for tests.

Each test gets its own database, created on the server under a unique name
and dropped by the test's cleanup, so tests never see each other's rows and
may run in parallel.  The servers are given by admin URLs without a
database:

 - ``FAMD_TEST_MYSQL_URL``, default ``mysql://root@127.0.0.1:3306/``
 - ``FAMD_TEST_POSTGRESQL_URL``, default ``postgresql://postgres@127.0.0.1:5432/``

When a server cannot be reached, or its driver is not installed, the test is
skipped with the reason, unless ``FAMD_TEST_REQUIRE_SERVICES=1`` (CI), where
it fails instead.  The L{Server} methods block: tests call them through
C{deferToThread}, as L{fresh_database} does.
"""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

from twisted.internet import defer, threads
from twisted.trial.unittest import FailTest, SkipTest

from famd.testing.storage import open_sqlite

REQUIRE = "FAMD_TEST_REQUIRE_SERVICES"


def unavailable(reason):
    """Skip the running test for C{reason}, or fail it when services are required."""
    if os.environ.get(REQUIRE) == "1":
        raise FailTest("%s; failing, not skipping, because %s=1" % (reason, REQUIRE))
    raise SkipTest(reason)


class Server:
    """One SQL server on which tests make databases (blocking methods)."""

    engine = None
    env = None
    default = None
    driver = None

    @property
    def admin_url(self):
        return os.environ.get(self.env) or self.default

    def database_url(self, name):
        """The URL of database C{name} on this server, with the admin's credentials."""
        parts = urlsplit(self.admin_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))

    def _credentials(self):
        parts = urlsplit(self.admin_url)
        return parts.hostname or "127.0.0.1", parts.port, parts.username, parts.password

    def where(self):
        host, port, user, _ = self._credentials()
        return "%s server %s@%s:%s" % (self.engine, user, host, port)

    def create(self):
        """Create a new empty database; return its name."""
        name = "famd_test_" + uuid.uuid4().hex[:16]
        connection = self.connect()
        try:
            connection.cursor().execute(self.create_sql % (name,))
        finally:
            connection.close()
        return name

    def drop(self, name):
        connection = self.connect()
        try:
            connection.cursor().execute(self.drop_sql % (name,))
        finally:
            connection.close()

    def query(self, name, sql, params=()):
        """The rows of one query in database C{name}, as a list of tuples."""
        connection = self.connect(name)
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def dump(self, name, table):
        """Every row of C{table}, in a stable order."""
        return self.query(name, "SELECT * FROM %s ORDER BY 1" % (table,))


class MySQLServer(Server):
    """A MySQL or MariaDB server, through PyMySQL."""

    engine = "mysql"
    env = "FAMD_TEST_MYSQL_URL"
    default = "mysql://root@127.0.0.1:3306/"
    driver = "pymysql"
    create_sql = "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    drop_sql = "DROP DATABASE IF EXISTS `%s`"

    def connect(self, database=None, multi=False):
        import pymysql
        from pymysql.constants import CLIENT

        host, port, user, password = self._credentials()
        return pymysql.connect(
            host=host, port=port or 3306, user=user or "root", password=password or "",
            database=database, charset="utf8mb4", autocommit=True, connect_timeout=5,
            client_flag=CLIENT.MULTI_STATEMENTS if multi else 0,
        )

    def run_script(self, name, script):
        """Run an SQL script (a dump) in database C{name}."""
        connection = self.connect(name, multi=True)
        try:
            cursor = connection.cursor()
            cursor.execute(script)
            while cursor.nextset():
                pass
        finally:
            connection.close()

    def kill_connections(self, name):
        """Kill, server-side, every connection to C{name}; return how many."""
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = %s AND id <> CONNECTION_ID()", (name,))
            ids = [row[0] for row in cursor.fetchall()]
            for thread_id in ids:
                cursor.execute("KILL CONNECTION %d" % (thread_id,))
            return len(ids)
        finally:
            connection.close()

    def schema(self, name, tables):
        """The tables, columns, indexes and foreign keys of C{tables}, comparable."""
        where = "table_schema = %%s AND table_name IN (%s)" % (", ".join(["%s"] * len(tables)),)
        params = (name,) + tuple(tables)
        return {
            "tables": self.query(name, "SELECT table_name, engine, table_collation "
                                 "FROM information_schema.tables WHERE " + where + " ORDER BY 1",
                                 params),
            "columns": self.query(
                name, "SELECT table_name, column_name, ordinal_position, column_default, "
                "is_nullable, column_type, collation_name, extra FROM information_schema.columns "
                "WHERE " + where + " ORDER BY 1, 3", params),
            "indexes": self.query(
                name, "SELECT table_name, index_name, non_unique, seq_in_index, column_name "
                "FROM information_schema.statistics WHERE " + where + " ORDER BY 1, 2, 4", params),
            "constraints": self.query(
                name, "SELECT table_name, constraint_name, referenced_table_name, update_rule, "
                "delete_rule FROM information_schema.referential_constraints WHERE "
                "constraint_schema = %s AND table_name IN (" + ", ".join(["%s"] * len(tables))
                + ") ORDER BY 1, 2", params),
        }


class PostgreSQLServer(Server):
    """A PostgreSQL server, through psycopg 3."""

    engine = "postgresql"
    env = "FAMD_TEST_POSTGRESQL_URL"
    default = "postgresql://postgres@127.0.0.1:5432/"
    driver = "psycopg"
    create_sql = "CREATE DATABASE \"%s\" ENCODING 'UTF8' TEMPLATE template0"
    drop_sql = 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)'

    def connect(self, database=None):
        import psycopg

        host, port, user, password = self._credentials()
        return psycopg.connect(
            host=host, port=port or 5432, user=user or "postgres", password=password,
            dbname=database or "postgres", autocommit=True, connect_timeout=5,
        )

    def run_script(self, name, script):
        """Run an SQL script (a dump) in database C{name}."""
        connection = self.connect(name)
        try:
            connection.execute(script)
        finally:
            connection.close()

    def kill_connections(self, name):
        """Terminate, server-side, every connection to C{name}; return how many."""
        connection = self.connect()
        try:
            rows = connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall()
            return len(rows)
        finally:
            connection.close()

    def schema(self, name, tables):
        """The columns, indexes, constraints and sequences of C{tables}, comparable."""
        tables = list(tables)
        return {
            "columns": self.query(
                name, "SELECT table_name, column_name, ordinal_position, column_default, "
                "is_nullable, data_type, character_maximum_length, numeric_precision, "
                "datetime_precision FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = ANY(%s) ORDER BY 1, 3", (tables,)),
            "indexes": self.query(
                name, "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE "
                "schemaname = 'public' AND tablename = ANY(%s) ORDER BY 1, 2", (tables,)),
            "constraints": self.query(
                name, "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) "
                "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s) "
                "ORDER BY 1, 2", (tables,)),
            "sequences": self.query(
                name, "SELECT s.relname, q.seqtypid::regtype::text, t.relname "
                "FROM pg_sequence q JOIN pg_class s ON s.oid = q.seqrelid "
                "JOIN pg_depend d ON d.objid = s.oid AND d.deptype = 'a' "
                "JOIN pg_class t ON t.oid = d.refobjid "
                "WHERE t.relname = ANY(%s) ORDER BY 1", (tables,)),
        }


MYSQL = MySQLServer()
POSTGRESQL = PostgreSQLServer()
SERVERS = {"mysql": MYSQL, "postgresql": POSTGRESQL}


def _connect_check(server):
    try:
        __import__(server.driver)
    except ImportError:
        unavailable("%s is not installed (pip install 'famd[%s]')" % (server.driver, server.engine))
    return server.create()


@defer.inlineCallbacks
def fresh_database(test_case, server):
    """
    Create an empty database on C{server} (a L{Server}), dropped by
    C{test_case}'s cleanup.

    @return: a Deferred firing with the database's name; its URL is
        C{server.database_url(name)}.
    """
    try:
        name = yield threads.deferToThread(_connect_check, server)
    except (SkipTest, FailTest):
        raise
    except Exception as error:
        unavailable("no %s (set %s): %s" % (server.where(), server.env, error))
    test_case.addCleanup(threads.deferToThread, server.drop, name)
    return name


@defer.inlineCallbacks
def open_server_storage(test_case, engine, reactor=None, database=None, **options):
    """
    A migrated storage for C{engine} ('mysql' or 'postgresql') on a fresh
    database (or on C{database}, an existing one), closed by C{test_case}'s
    cleanup.  C{options}: pool_min, pool_max, connect_timeout,
    statement_timeout, pool_timeout.
    """
    if reactor is None:
        from twisted.internet import reactor
    server = SERVERS[engine]
    if database is None:
        database = yield fresh_database(test_case, server)
    storage = storage_class(engine)(server.database_url(database), reactor, **options)
    test_case.addCleanup(storage.close)
    yield storage.open()
    storage.test_database = database
    return storage


def storage_class(engine):
    """The provider class of C{engine}."""
    if engine == "mysql":
        from famd.storage.mysql import MySQLStorage

        return MySQLStorage
    from famd.storage.postgresql import PostgreSQLStorage

    return PostgreSQLStorage


def open_mysql(test_case, reactor=None, **options):
    """A migrated MySQL/MariaDB storage on a fresh database, closed at cleanup."""
    return open_server_storage(test_case, "mysql", reactor, **options)


def open_postgresql(test_case, reactor=None, **options):
    """A migrated PostgreSQL storage on a fresh database, closed at cleanup."""
    return open_server_storage(test_case, "postgresql", reactor, **options)


OPENERS = {"sqlite": open_sqlite, "mysql": open_mysql, "postgresql": open_postgresql}
"""Engine name -> opener(test_case, reactor=None): run a suite on every engine."""


def open_another(test_case, storage, reactor=None):
    """
    A second storage on the database of C{storage} (one opened by an
    opener above), as a second famd process would have; closed at cleanup.
    """
    database = getattr(storage, "test_database", None)
    if database is None:
        return open_sqlite(test_case, reactor, path=storage.path)
    return open_server_storage(test_case, storage.engine, reactor, database=database)
