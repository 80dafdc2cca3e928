"""
The account panel's session store (L{famd.interfaces.IWebSessionStore}):
its contract on the in-memory storage, SQLite, MariaDB and PostgreSQL.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.memory import MemoryStorage
from famd.testing.web_session_contract import WebSessionContract
from tests.engines import on_engines, open_storage


class WebSessionContractTests(WebSessionContract, unittest.TestCase):
    """The session store's contract (SQLite here, the servers below)."""

    def make_storage(self):
        return open_storage(self)


class MemoryWebSessionContractTests(WebSessionContract, unittest.TestCase):
    """The session store's contract on the in-memory storage."""

    def make_storage(self):
        return defer.succeed(MemoryStorage())


globals().update(on_engines(WebSessionContractTests))
