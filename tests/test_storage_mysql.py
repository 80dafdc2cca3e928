"""
The MySQL/MariaDB storage: the storage contract and the SQL-server behaviour,
each test on its own fresh database of the server in FAMD_TEST_MYSQL_URL
(default root@127.0.0.1:3306), skipped when it is unreachable unless
FAMD_TEST_REQUIRE_SERVICES=1.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.model import Timestamps
from famd.testing.server_contract import ServerStorageContract
from famd.testing.storage_contract import NOW, new


class MySQLServerTests(ServerStorageContract, unittest.TestCase):
    """What only an SQL server has, on MariaDB."""

    engine = "mysql"
    reference_file = "fam-2021-schema.mysql.sql"

    @defer.inlineCallbacks
    def test_session_settings(self):
        """Connections use utf8mb4, UTC, strict mode and READ COMMITTED."""
        storage = yield self.open()
        row = yield storage.read("probe", lambda txn: txn.one(
            "SELECT @@character_set_connection, @@time_zone, @@sql_mode, @@tx_isolation"))
        self.assertEqual(row[:2], ("utf8mb4", "+00:00"))
        self.assertIn("STRICT_TRANS_TABLES", row[2])
        self.assertEqual(row[3], "READ-COMMITTED")

    @defer.inlineCallbacks
    def test_zero_dates_read_as_none(self):
        """A zero date, which a server outside strict mode lets FAM store, reads as an unknown time."""
        storage = yield self.open()
        yield storage.create_account(new(admin=True))
        yield self.in_thread(
            self.server.run_script, storage.test_database,
            "SET SESSION sql_mode = '';"
            " UPDATE accounts SET creation_time = '0000-00-00 00:00:00';"
            " UPDATE admins SET created_at = '0000-00-00 00:00:00';")
        account = yield storage.find_account("alice", "sip.example.org")
        self.assertEqual((account.creation_time, account.admin), (None, Timestamps(None, NOW)))
