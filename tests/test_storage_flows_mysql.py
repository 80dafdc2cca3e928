"""
The flows' storage contract (tokens, single-use codes, failed attempts) on
MySQL/MariaDB, plus two pools on one database: two famd processes.  Each
test has its own fresh database (see L{famd.testing.databases}).
"""

from twisted.trial import unittest

from famd.testing.databases import open_mysql
from famd.testing.flows_contract import FlowsStorageContract, TwoProcessesContract


class MySQLFlowsContractTests(FlowsStorageContract, unittest.TestCase):
    """The flows' storage contract on MariaDB."""

    def make_storage(self):
        return open_mysql(self)


class MySQLTwoProcessesTests(TwoProcessesContract, unittest.TestCase):
    """Two storages on one MariaDB database behave like two famd processes."""

    def make_storage(self):
        return open_mysql(self)
