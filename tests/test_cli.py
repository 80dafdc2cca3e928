"""
The installed ``famd`` admin command, run as an operator runs it; ``famd
migrate`` also on empty MariaDB and PostgreSQL databases.
"""

import json
import os
import sqlite3
import stat

from twisted.internet import defer, protocol, threads
from twisted.trial import unittest

from famd.credentials import ha1
from famd.storage.migrations import latest
from famd.testing.daemon import installed, run_famd, write_config
from famd.testing.databases import SERVERS, fresh_database, open_server_storage
from famd.testing.server_contract import FAM_TABLES

FAMD_TABLES = ("famd_schema", "famd_settings", "famd_code_failures", "famd_sessions")
"""famd's own tables, beside FAM's."""
CONFIG = "sip_domain: sip.example.org\nstorage: {backend: sqlite, path: cli.sqlite}\n"


class Typist(protocol.ProcessProtocol):
    """Types each answer once its prompt shows (on a terminal), or pipes them all to stdin."""

    def __init__(self, answers, pty):
        self.answers = list(answers)
        self.pty = pty
        self.output = b""
        self.prompts = 0
        self.ended = defer.Deferred()

    def connectionMade(self):
        if not self.pty:
            for answer in self.answers:
                self.transport.write(answer)
            self.transport.closeStdin()

    def childDataReceived(self, fd, data):
        self.output += data
        # getpass flushes pending input before each prompt: answer only once it shows.
        while self.pty and self.answers and self.output.count(b"Password") > self.prompts:
            self.prompts += 1
            self.transport.write(self.answers.pop(0))

    def processEnded(self, reason):
        self.ended.callback((reason.value.exitCode, self.output))


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
        self.assertEqual(stat.S_IMODE(os.stat(self.database).st_mode), 0o600)  # it holds secrets

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

    def operator_rows(self):
        return self.query(
            "SELECT p.password FROM accounts a JOIN passwords p ON p.account_id = a.id "
            "JOIN admins ad ON ad.account_id = a.id WHERE a.username = 'operator'")

    @defer.inlineCallbacks
    def test_create_admin_password_file(self):
        """create-admin --password-file takes the file's first line as the password."""
        secret = os.path.join(os.path.dirname(self.config), "admin.pw")
        with open(secret, "w") as f:
            f.write("s3cret file!\nignored\n")
        out, _ = yield self.famd("create-admin", "operator", "--password-file", secret)
        self.assertEqual(len(out.splitlines()[-1]), 40)
        self.assertEqual(self.operator_rows(),
                         [(ha1("operator", "sip.example.org", "s3cret file!", "SHA-256"),)])
        _, err = yield self.famd("create-admin", "other", "--password-file", secret + ".missing",
                                 expect=1)
        self.assertIn("cannot read the password file", err)

    @defer.inlineCallbacks
    def test_create_admin_password_from_piped_stdin(self):
        """Without a password option and with stdin not a terminal, create-admin reads stdin's first line."""
        code, output = yield self.typed([b"piped pw\n"], pty=False)
        self.assertEqual(code, 0, output)
        self.assertEqual(self.operator_rows(),
                         [(ha1("operator", "sip.example.org", "piped pw", "SHA-256"),)])

    @defer.inlineCallbacks
    def test_create_admin_asks_at_the_terminal(self):
        """On a terminal create-admin asks twice without echo; two different answers are refused."""
        code, output = yield self.typed([b"typed pw\n", b"other\n"])
        self.assertEqual(code, 1, output)
        self.assertIn(b"the two passwords differ", output)
        self.assertFalse(os.path.exists(self.database))  # refused before opening the storage
        code, output = yield self.typed([b"typed pw\n", b"typed pw\n"])
        self.assertEqual(code, 0, output)
        self.assertIn(b"Password (again): ", output)
        self.assertNotIn(b"typed pw", output)  # not echoed
        self.assertEqual(len(output.split()[-1]), 40)
        self.assertEqual(self.operator_rows(),
                         [(ha1("operator", "sip.example.org", "typed pw", "SHA-256"),)])

    def typed(self, answers, pty=True):
        """
        Run create-admin operator with no password option, on a pseudo-terminal
        answering each prompt with the next of C{answers} (or with them all
        written to a pipe as its stdin); fire with (exit code, output).
        """
        from twisted.internet import reactor

        typist = Typist(answers, pty)
        famd = installed("famd")
        reactor.spawnProcess(
            typist, famd, [famd, "--config", self.config, "create-admin", "operator"],
            env=dict(os.environ), path=os.path.dirname(self.config), usePTY=pty)
        return typist.ended

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
