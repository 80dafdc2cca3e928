"""
The PostgreSQL storage: the storage contract and the SQL-server behaviour,
each test on its own fresh database of the server in
FAMD_TEST_POSTGRESQL_URL (default postgres@127.0.0.1:5432), skipped when it
is unreachable unless FAMD_TEST_REQUIRE_SERVICES=1.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.server_contract import ServerStorageContract
from famd.testing.storage_contract import new


class PostgreSQLServerTests(ServerStorageContract, unittest.TestCase):
    """What only an SQL server has, on PostgreSQL."""

    engine = "postgresql"
    reference_file = "fam-2021-schema.pgsql.sql"

    @defer.inlineCallbacks
    def test_session_settings(self):
        """Connections run at READ COMMITTED in UTF-8, and booleans are real booleans."""
        storage = yield self.open()
        row = yield storage.read("probe", lambda txn: txn.one(
            "SELECT current_setting('transaction_isolation'), current_setting('server_encoding'),"
            " current_setting('TimeZone')"))
        self.assertEqual(row, ("read committed", "UTF8", "UTC"))
        account_id = yield storage.create_account(
            new(activated=True))
        activated = yield storage.read(
            "probe", lambda txn: txn.scalar('SELECT "activated" FROM "accounts" WHERE "id" = ?', (account_id,)))
        self.assertIs(activated, True)
