"""
Flexisip reads what famd writes: the README's ``soci-password-request``
(Flexisip's, reference flexisip.md section 1, refusing blocked accounts too),
run on its own connection as Flexisip would, returns the (HA1, algorithm)
rows of an account famd created, then of the passwords famd replaced, and
none for an account not activated or blocked, on SQLite, MariaDB and
PostgreSQL.
"""

import os
import re
import sqlite3
import tempfile

from twisted.internet import defer, threads
from twisted.trial import unittest

from famd.accounts import new_account
from famd.config import from_mapping
from famd.credentials import ha1
from famd.model import Password
from famd.testing.databases import MYSQL, POSTGRESQL, open_mysql, open_postgresql
from famd.testing.storage import open_sqlite
from famd.testing.storage_contract import NOW, new

REQUEST = (
    "select password, algorithm from passwords where account_id = "
    "(select id from accounts where username = :id and domain = :domain and activated = true "
    "and blocked = false)"
)
"""
The README's request: Flexisip's default since 2.4 (with SOCI's ``:name``
parameters) that also refuses blocked accounts (FAM 2.x's ``blocked``).
"""

DEFAULT_REQUEST = (
    "select password, algorithm from passwords where account_id = "
    "(select id from accounts where username = :id and domain = :domain and activated = true)"
)
"""Flexisip's default request since 2.4, which knows nothing of blocking."""

DOMAIN = "sip.example.org"


def pyformat(request):
    """The request with ``:name`` turned into the ``%(name)s`` PyMySQL and psycopg take."""
    return re.sub(r":(id|domain|authid)\b", r"%(\1)s", request)


class FlexisipRequestMixin:
    """The request on one engine; subclasses open the storage and run the request."""

    def open_storage(self):
        raise NotImplementedError()

    def flexisip_blocking(self, username, domain, request):
        raise NotImplementedError()

    @defer.inlineCallbacks
    def flexisip(self, username, domain=DOMAIN, request=REQUEST):
        rows = yield threads.deferToThread(self.flexisip_blocking, username, domain, request)
        return sorted(tuple(row) for row in rows)

    @defer.inlineCallbacks
    def test_request_follows_created_then_replaced_passwords(self):
        """The request gives the HA1 famd stored at creation, then exactly the ones that replaced it."""
        storage = yield self.open_storage()
        md5 = ha1("alice", DOMAIN, "first secret", "MD5")
        account_id = yield storage.create_account(
            new(activated=True, passwords=(Password(md5, "MD5"),)))
        self.assertEqual((yield self.flexisip("alice")), [(md5, "MD5")])
        replaced = (
            Password(ha1("alice", DOMAIN, "second secret", "SHA-256"), "SHA-256"),
            Password(ha1("alice", DOMAIN, "second secret", "MD5"), "MD5"),
        )
        self.assertTrue((yield storage.replace_passwords(account_id, replaced)))
        self.assertEqual(
            (yield self.flexisip("alice")),
            sorted((p.password, p.algorithm) for p in replaced))

    @defer.inlineCallbacks
    def test_request_ignores_inactive_accounts_and_other_domains(self):
        """An account not yet activated, or asked for in another domain, gives no row."""
        storage = yield self.open_storage()
        account_id = yield storage.create_account(new(activated=False))
        self.assertEqual((yield self.flexisip("alice")), [])
        yield storage.set_activated(account_id, True)
        self.assertEqual(len((yield self.flexisip("alice"))), 1)
        self.assertEqual((yield self.flexisip("alice", "other.example.org")), [])

    @defer.inlineCallbacks
    def test_request_refuses_blocked_accounts(self):
        """A blocked account gives no row, even activated; unblocked, its rows come back."""
        storage = yield self.open_storage()
        md5 = ha1("alice", DOMAIN, "secret", "MD5")
        account_id = yield storage.create_account(
            new(activated=True, passwords=(Password(md5, "MD5"),)))
        yield storage.create_account(new("bobbyb", activated=True))
        self.assertEqual((yield self.flexisip("alice")), [(md5, "MD5")])
        yield storage.set_blocked(account_id, True)
        self.assertEqual((yield self.flexisip("alice")), [])
        self.assertEqual(len((yield self.flexisip("bobbyb"))), 1)
        # Flexisip's default request would still let the blocked account register.
        self.assertEqual((yield self.flexisip("alice", request=DEFAULT_REQUEST)), [(md5, "MD5")])
        yield storage.set_activated(account_id, False)
        yield storage.set_blocked(account_id, False)
        self.assertEqual((yield self.flexisip("alice")), [])
        yield storage.set_activated(account_id, True)
        self.assertEqual((yield self.flexisip("alice")), [(md5, "MD5")])

    @defer.inlineCallbacks
    def test_request_gives_both_algorithms(self):
        """With passwords.both_algorithms, an account famd creates gives Flexisip an MD5 and a SHA-256 row."""
        storage = yield self.open_storage()
        config = from_mapping({"sip_domain": DOMAIN, "passwords": {"both_algorithms": True}},
                              tempfile.mkdtemp(prefix="famd-test-"))
        yield storage.create_account(new_account(config, NOW, "alice", "a secret", "SHA-256",
                                                 activated=True))
        self.assertEqual(
            (yield self.flexisip("alice")),
            sorted([(ha1("alice", DOMAIN, "a secret", "MD5"), "MD5"),
                    (ha1("alice", DOMAIN, "a secret", "SHA-256"), "SHA-256")]))


class SQLiteFlexisipRequestTests(FlexisipRequestMixin, unittest.TestCase):
    """Flexisip's request with soci-backend=sqlite3 on famd's SQLite file."""

    def open_storage(self):
        self.path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "famd.sqlite")
        return open_sqlite(self, path=self.path)

    def flexisip_blocking(self, username, domain, request):
        connection = sqlite3.connect(self.path, timeout=5)
        try:
            return connection.execute(request, {"id": username, "domain": domain}).fetchall()
        finally:
            connection.close()


class MySQLFlexisipRequestTests(FlexisipRequestMixin, unittest.TestCase):
    """Flexisip's request with soci-backend=mysql on famd's MariaDB database."""

    @defer.inlineCallbacks
    def open_storage(self):
        storage = yield open_mysql(self)
        self.database = storage.test_database
        return storage

    def flexisip_blocking(self, username, domain, request):
        connection = MYSQL.connect(self.database)
        try:
            cursor = connection.cursor()
            cursor.execute(pyformat(request), {"id": username, "domain": domain})
            return cursor.fetchall()
        finally:
            connection.close()


class PostgreSQLFlexisipRequestTests(FlexisipRequestMixin, unittest.TestCase):
    """Flexisip's request with soci-backend=postgresql on famd's PostgreSQL database."""

    @defer.inlineCallbacks
    def open_storage(self):
        storage = yield open_postgresql(self)
        self.database = storage.test_database
        return storage

    def flexisip_blocking(self, username, domain, request):
        connection = POSTGRESQL.connect(self.database)
        try:
            return connection.execute(
                pyformat(request), {"id": username, "domain": domain}).fetchall()
        finally:
            connection.close()


class ReadmeTests(unittest.TestCase):
    """The README gives operators the request these tests run."""

    def test_readme_request(self):
        """Every soci-password-request line of the README is the tested request."""
        readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
        with open(readme, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.startswith("soci-password-request=")]
        self.assertEqual(lines, ["soci-password-request=" + REQUEST] * 2)
