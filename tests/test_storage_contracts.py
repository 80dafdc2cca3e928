"""
The storage contracts of L{famd.testing} on every SQL engine, through the
one way a test runs on every engine (L{tests.engines.on_engines}): the
storage contract, the flows' one, and two storages on one database as two
famd processes.  What only one engine has stays in its own module
(``test_storage_sqlite``, ``_mysql``, ``_postgresql``); the in-memory
provider runs the contracts in ``test_storage_memory``.
"""

from twisted.trial import unittest

from famd.testing.flows_contract import FlowsStorageContract, TwoProcessesContract
from famd.testing.sql_dependents import SQLDependents
from famd.testing.storage_contract import StorageContract
from tests.engines import on_engines, open_storage


class ContractTests(SQLDependents, StorageContract, unittest.TestCase):
    """The storage contract."""

    def make_storage(self):
        return open_storage(self)


class FlowsContractTests(FlowsStorageContract, unittest.TestCase):
    """The flows' storage contract (tokens, single-use codes, failed attempts)."""

    def make_storage(self):
        return open_storage(self)


class TwoProcessesTests(TwoProcessesContract, unittest.TestCase):
    """Two storages on one database behave like two famd processes."""

    def make_storage(self):
        return open_storage(self)


globals().update(on_engines(ContractTests, FlowsContractTests, TwoProcessesTests))
