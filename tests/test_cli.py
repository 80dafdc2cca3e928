"""
The installed ``famd`` admin command, run as an operator runs it; ``famd
migrate`` also on empty MariaDB and PostgreSQL databases.
"""

import json
import os
import sqlite3

from twisted.internet import defer, threads
from twisted.trial import unittest

from famd.credentials import ha1
from famd.storage.migrations import latest
from famd.testing.daemon import run_famd, write_config
from famd.testing.databases import SERVERS, fresh_database, open_server_storage
from famd.testing.server_contract import FAM_TABLES

FAMD_TABLES = ("famd_schema", "famd_settings", "famd_code_failures")
"""famd's own tables, beside FAM's."""
CONFIG = "sip_domain: sip.example.org\nstorage: {backend: sqlite, path: cli.sqlite}\n"


class CommandTests(unittest.TestCase):
    """famd --config FILE SUBCOMMAND."""

    def setUp(self):
        self.config = write_config(CONFIG)
        self.database = os.path.join(os.path.dirname(self.config), "cli.sqlite")

    def query(self, sql, *params):
        connection = sqlite3.connect(self.database)
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    @defer.inlineCallbacks
    def famd(self, *arguments, expect=0):
        out, err, code = yield run_famd(self.config, *arguments)
        self.assertEqual(code, expect, (out, err))
        return out.decode(), err.decode()

    @defer.inlineCallbacks
    def test_check_config(self):
        """check-config accepts a good file and refuses a bad one with exit 1 and the dotted key."""
        out, _ = yield self.famd("check-config")
        self.assertIn("configuration OK", out)
        self.config = write_config(CONFIG + "storage_typo: 1\nemail: {backend: pigeon}\n")
        _, err = yield self.famd("check-config", expect=1)
        self.assertIn("storage_typo: unknown key", err)
        self.assertIn("email.backend: unknown backend 'pigeon'; available:", err)

    @defer.inlineCallbacks
    def test_migrate(self):
        """migrate creates the schema and prints its version."""
        out, _ = yield self.famd("migrate")
        self.assertRegex(out, r"^schema version \d+$")
        tables = {row[0] for row in self.query("SELECT name FROM sqlite_master WHERE type='table'")}
        self.assertTrue({"accounts", "passwords", "nonces", "api_keys", "tokens"} <= tables)

    @defer.inlineCallbacks
    def test_create_admin_prints_key(self):
        """create-admin makes an activated admin with the HA1 of its password and prints its key last."""
        out, _ = yield self.famd("create-admin", "operator", "--password", "s3cret!",
                                 "--algorithm", "MD5")
        key = out.splitlines()[-1]
        self.assertEqual(len(key), 40)
        rows = self.query(
            "SELECT a.id, a.activated, p.password, p.algorithm, k.key FROM accounts a "
            "JOIN passwords p ON p.account_id = a.id JOIN api_keys k ON k.account_id = a.id "
            "JOIN admins ad ON ad.account_id = a.id WHERE a.username = 'operator' AND a.domain = 'sip.example.org'")
        self.assertEqual(rows, [(1, 1, ha1("operator", "sip.example.org", "s3cret!", "MD5"), "MD5", key)])
        self.assertNotIn("s3cret!", out)
        _, err = yield self.famd("create-admin", "operator", "--password", "x", expect=1)
        self.assertIn("already exists", err)

    @defer.inlineCallbacks
    def test_api_key_and_admin_rights(self):
        """api-key replaces the key; set-admin and unset-admin toggle the admin row."""
        out, _ = yield self.famd("create-admin", "operator", "--password", "pw", "--domain", "other.example.org")
        first = out.splitlines()[-1]
        out, _ = yield self.famd("api-key", "sip:operator@other.example.org")
        second = out.strip()
        self.assertNotEqual(first, second)
        self.assertEqual(self.query("SELECT key FROM api_keys"), [(second,)])
        yield self.famd("unset-admin", "1")
        self.assertEqual(self.query("SELECT count(*) FROM admins"), [(0,)])
        yield self.famd("set-admin", "1")
        self.assertEqual(self.query("SELECT count(*) FROM admins"), [(1,)])
        _, err = yield self.famd("set-admin", "99", expect=1)
        self.assertIn("no account with id 99", err)
        _, err = yield self.famd("api-key", "ghost@other.example.org", expect=1)
        self.assertIn("no account", err)

    @defer.inlineCallbacks
    def test_clear_nonces(self):
        """clear-nonces deletes nonces unused for that many minutes and keeps the others."""
        yield self.famd("create-admin", "operator", "--password", "pw")
        connection = sqlite3.connect(self.database)
        connection.execute("INSERT INTO nonces (account_id, nonce, nc, created_at, updated_at) "
                           "VALUES (1, 'old', 0, '2020-01-01 00:00:00', '2020-01-01 00:00:00')")
        connection.execute("INSERT INTO nonces (account_id, nonce, nc, created_at, updated_at) "
                           "VALUES (1, 'new', 0, datetime('now'), datetime('now'))")
        connection.commit()
        connection.close()
        out, _ = yield self.famd("clear-nonces", "60")
        self.assertEqual(out.strip(), "deleted 1 nonces")
        self.assertEqual(self.query("SELECT nonce FROM nonces"), [("new",)])

    @defer.inlineCallbacks
    def test_clear_unconfirmed(self):
        """clear-unconfirmed lists old unactivated accounts and deletes them only with --apply."""
        yield self.famd("migrate")
        connection = sqlite3.connect(self.database)
        for name, activated, created in (("stale1", 0, "2020-01-01 00:00:00"),
                                         ("active", 1, "2020-01-01 00:00:00")):
            connection.execute(
                "INSERT INTO accounts (username, domain, activated, ip_address, user_agent, creation_time) "
                "VALUES (?, 'sip.example.org', ?, '::1', 'x', ?)", (name, activated, created))
        connection.commit()
        connection.close()
        out, _ = yield self.famd("clear-unconfirmed", "7")
        self.assertIn("stale1@sip.example.org", out)
        self.assertNotIn("active@", out)
        self.assertEqual(self.query("SELECT count(*) FROM accounts"), [(2,)])
        out, _ = yield self.famd("clear-unconfirmed", "7", "--apply")
        self.assertIn("deleted 1 accounts", out)
        self.assertEqual(self.query("SELECT username FROM accounts"), [("active",)])


class ServerMigrate:
    """famd migrate on an empty database of the server of C{engine}."""

    engine = None

    @defer.inlineCallbacks
    def test_migrate_empty_database(self):
        """migrate creates the schema famd itself would create, prints its version and is idempotent."""
        server = SERVERS[self.engine]
        name = yield fresh_database(self, server)
        storage = json.dumps({"backend": self.engine, "url": server.database_url(name)})
        config = write_config("sip_domain: sip.example.org\nstorage: %s\n" % (storage,))
        for _ in range(2):
            out, err, code = yield run_famd(config, "migrate")
            self.assertEqual((code, out.decode()), (0, "schema version %d\n" % (latest(self.engine),)),
                             err)
        tables = FAM_TABLES + FAMD_TABLES
        reference = yield open_server_storage(self, self.engine)
        expected = yield threads.deferToThread(server.schema, reference.test_database, tables)
        created = yield threads.deferToThread(server.schema, name, tables)
        self.assertEqual(created, expected)
        self.assertEqual({row[0] for row in created["columns"]}, set(tables))


class MySQLMigrateTests(ServerMigrate, unittest.TestCase):
    """famd migrate on an empty MariaDB database."""

    engine = "mysql"


class PostgreSQLMigrateTests(ServerMigrate, unittest.TestCase):
    """famd migrate on an empty PostgreSQL database."""

    engine = "postgresql"
