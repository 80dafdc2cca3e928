"""
The flows' storage contract (tokens, single-use codes, failed attempts) on
PostgreSQL, plus two pools on one database: two famd processes.  Each test
has its own fresh database (see L{famd.testing.databases}).
"""

from twisted.trial import unittest

from famd.testing.databases import open_postgresql
from famd.testing.flows_contract import FlowsStorageContract, TwoProcessesContract


class PostgreSQLFlowsContractTests(FlowsStorageContract, unittest.TestCase):
    """The flows' storage contract on PostgreSQL."""

    def make_storage(self):
        return open_postgresql(self)


class PostgreSQLTwoProcessesTests(TwoProcessesContract, unittest.TestCase):
    """Two storages on one PostgreSQL database behave like two famd processes."""

    def make_storage(self):
        return open_postgresql(self)
