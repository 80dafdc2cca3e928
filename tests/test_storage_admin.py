"""
The administrators' storage contract (L{famd.testing.admin_contract}) on
SQLite, MariaDB, PostgreSQL and the in-memory storage.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.admin_contract import AdminStorageContract
from famd.testing.memory import MemoryStorage
from tests.engines import on_engines, open_storage


class AdminContractTests(AdminStorageContract, unittest.TestCase):
    """The administrators' storage contract."""

    def make_storage(self):
        return open_storage(self)


class MemoryAdminContractTests(AdminStorageContract, unittest.TestCase):
    """The administrators' storage contract on the in-memory storage."""

    def make_storage(self):
        return defer.succeed(MemoryStorage())


globals().update(on_engines(AdminContractTests))
