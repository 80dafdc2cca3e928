"""
The in-memory storage: the storage contract and the flows' storage contract,
which it passes without SQL, and what it promises beyond them.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.flows_contract import FlowsStorageContract
from famd.testing.memory import IntegrityError, MemoryStorage
from famd.testing.storage_contract import NOW, StorageContract, new


class MemoryContractTests(StorageContract, unittest.TestCase):
    """The storage contract on the in-memory storage."""

    def make_storage(self):
        return defer.succeed(MemoryStorage())

    def count_dependents(self, account_id):
        return self.storage.count_dependents(account_id)


class MemoryFlowsContractTests(FlowsStorageContract, unittest.TestCase):
    """The flows' storage contract on the in-memory storage."""

    def make_storage(self):
        return defer.succeed(MemoryStorage())


class MemoryStorageTests(unittest.TestCase):
    """What the in-memory storage does beyond the contract."""

    def setUp(self):
        self.storage = MemoryStorage()

    def test_answers_at_once(self):
        """Every call's Deferred has already fired when the call returns."""
        d = self.storage.create_account(new())
        self.assertEqual(self.successResultOf(d), 1)
        found = self.successResultOf(self.storage.find_account("alice", "sip.example.org"))
        self.assertEqual(found.id, 1)

    def test_api_key_of_another_account_refused(self):
        """An API key another account holds is refused, as the SQL unique index does, and nothing is written."""
        self.successResultOf(self.storage.create_account(new(api_key="shared-key")))
        self.failureResultOf(
            self.storage.create_account(new("bob", api_key="shared-key")), IntegrityError)
        self.assertIsNone(self.successResultOf(self.storage.find_account("bob", "sip.example.org")))
        second = self.successResultOf(self.storage.create_account(new("carol")))
        self.failureResultOf(self.storage.set_api_key(second, "shared-key", NOW), IntegrityError)
        self.assertIsNone(self.successResultOf(self.storage.get_account(second)).api_key)

    def test_rows_need_their_account(self):
        """A nonce or a pending change for an account that does not exist is refused."""
        for d in (
            self.storage.create_nonce(7, "nonce", NOW),
            self.storage.set_phone_change(7, "+33612345678", "1234", NOW),
            self.storage.set_email_change(7, "new@example.org", "secret", NOW),
        ):
            self.failureResultOf(d, IntegrityError)

    def test_ids_never_reused(self):
        """An account created after a deletion gets a new id, as with AUTOINCREMENT."""
        first = self.successResultOf(self.storage.create_account(new()))
        self.successResultOf(self.storage.delete_account(first))
        again = self.successResultOf(self.storage.create_account(new()))
        self.assertGreater(again, first)
