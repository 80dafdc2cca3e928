"""
The administrator pages' storage contract (L{famd.testing.account_admin_contract})
on SQLite, MariaDB, PostgreSQL and the in-memory storage.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.account_admin_contract import AccountAdminContract
from famd.testing.memory import MemoryStorage
from tests.engines import on_engines, open_storage


class AccountAdminContractTests(AccountAdminContract, unittest.TestCase):
    """The administrator pages' storage contract."""

    def make_storage(self):
        return open_storage(self)


class MemoryAccountAdminContractTests(AccountAdminContract, unittest.TestCase):
    """The administrator pages' storage contract on the in-memory storage."""

    def make_storage(self):
        return defer.succeed(MemoryStorage())


globals().update(on_engines(AccountAdminContractTests))
