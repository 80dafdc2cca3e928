"""famd.storage.sql_tokens.insert_device_token_txn: one row shape for pushed tokens of both tables."""

from datetime import datetime, timezone

from twisted.internet import defer
from twisted.trial import unittest

from famd.storage.sql_tokens import insert_device_token_txn
from famd.storage.times import to_db
from famd.testing.storage import open_sqlite

NOW = datetime(2026, 8, 20, 10, 0, tzinfo=timezone.utc)
DEVICE = ("fcm", "param", "prid")


class InsertDeviceTokenTests(unittest.TestCase):

    @defer.inlineCallbacks
    def test_both_tables(self):
        """A creation token and a recovery token are stored unused, with the device, address and agent."""
        storage = yield open_sqlite(self)
        for table, token in (("tokens", "C" * 13), ("account_recovery_tokens", "R" * 13)):
            yield storage.write("insert", insert_device_token_txn, table, token, DEVICE, "192.0.2.7",
                                "ua", to_db(NOW))
        creation = yield storage.creation_token("C" * 13)
        self.assertEqual((creation.pn_provider, creation.pn_param, creation.pn_prid, creation.used,
                          creation.ip, creation.user_agent, creation.created_at),
                         DEVICE + (False, "192.0.2.7", "ua", NOW))
        recovery = yield storage.recovery_token("R" * 13, NOW)
        self.assertEqual((recovery.pn_provider, recovery.pn_param, recovery.pn_prid, recovery.used,
                          recovery.created_at), DEVICE + (False, NOW))
