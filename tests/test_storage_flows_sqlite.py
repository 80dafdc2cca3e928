"""
The flows' storage contract (tokens, single-use codes, failed attempts) on
SQLite, plus what takes two connections to one file: two famd processes.
"""

from twisted.trial import unittest

from famd.testing.flows_contract import FlowsStorageContract, TwoProcessesContract
from famd.testing.storage import open_sqlite


class SQLiteFlowsContractTests(FlowsStorageContract, unittest.TestCase):
    """The flows' storage contract on SQLite."""

    def make_storage(self):
        return open_sqlite(self)


class SQLiteTwoProcessesTests(TwoProcessesContract, unittest.TestCase):
    """Two storages on one SQLite file behave like two famd processes."""

    def make_storage(self):
        return open_sqlite(self)
