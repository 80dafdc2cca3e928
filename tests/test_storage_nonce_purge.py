"""
The nonce purge's transactions are bounded: each deletes at most one batch
of stale nonces, the oldest first, with the same SQL on SQLite, MariaDB and
PostgreSQL (the storage contract checks that a purge loops until none is
left).
"""

from datetime import timedelta

from twisted.internet import defer
from twisted.trial import unittest

from famd.storage import sql_nonces
from famd.storage.times import to_db
from famd.testing.storage_contract import NOW, new
from tests.engines import on_engines, open_storage


class NoncePurgeTests(unittest.TestCase):
    """One purging transaction."""

    @defer.inlineCallbacks
    def test_one_transaction_deletes_at_most_a_batch(self):
        """The purge's transaction deletes at most its batch of stale nonces, the oldest first, never a fresh one."""
        storage = yield open_storage(self)
        account_id = yield storage.create_account(new())
        yield storage.create_nonce(account_id, "fresh", NOW)
        for number in range(5):
            yield storage.create_nonce(account_id, "stale%d" % (number,), NOW - timedelta(hours=3))
        cutoff = to_db(NOW - timedelta(hours=1))
        self.assertEqual((yield storage.write("probe", sql_nonces.delete_nonces_txn, cutoff, 2)), 2)
        left = yield storage.read(
            "probe", lambda txn: txn.all('SELECT "nonce" FROM "nonces" ORDER BY "id"'))
        self.assertEqual(left, [("fresh",), ("stale2",), ("stale3",), ("stale4",)])
        self.assertEqual((yield storage.write("probe", sql_nonces.delete_nonces_txn, cutoff, 5)), 3)
        self.assertEqual((yield storage.write("probe", sql_nonces.delete_nonces_txn, cutoff, 5)), 0)


globals().update(on_engines(NoncePurgeTests))
