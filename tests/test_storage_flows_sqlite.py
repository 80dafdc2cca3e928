"""
The flows' storage contract (tokens, single-use codes, failed attempts) on
SQLite, plus what takes two connections to one file: two famd processes.
"""

import os
import tempfile
from datetime import timedelta

from twisted.internet import defer
from twisted.trial import unittest

from famd.model import Conflict
from famd.testing.flows_contract import DEVICE, TOKEN, FlowsStorageContract
from famd.testing.storage import open_sqlite
from famd.testing.storage_contract import NOW, new


class SQLiteFlowsContractTests(FlowsStorageContract, unittest.TestCase):
    """The flows' storage contract on SQLite."""

    def make_storage(self):
        return open_sqlite(self)


class SQLiteTwoConnectionsTests(unittest.TestCase):
    """Two storages on one SQLite file behave like two famd processes."""

    @defer.inlineCallbacks
    def setUp(self):
        path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "famd.sqlite")
        self.first = yield open_sqlite(self, path=path)
        self.second = yield open_sqlite(self, path=path)

    @defer.inlineCallbacks
    def test_token_consumed_once_across_connections(self):
        """Creations with one token through two connections: exactly one succeeds."""
        yield self.first.add_token(TOKEN, *DEVICE, 4, NOW)
        attempts = [
            storage.create_account(new("user%d%d" % (i, n), token=TOKEN))
            for i in range(6)
            for n, storage in enumerate((self.first, self.second))
        ]
        results = yield defer.DeferredList(attempts, consumeErrors=True)
        self.assertEqual(sum(1 for ok, _ in results if ok), 1)
        for ok, value in results:
            if not ok:
                self.assertEqual(value.trap(Conflict) and value.value.field, "token")

    @defer.inlineCallbacks
    def test_attempt_limit_across_connections(self):
        """Failures recorded through one connection count for the other."""
        since = NOW - timedelta(minutes=15)
        attempts = [
            storage.reserve_attempt(["account:x"], 5, since, NOW)
            for _ in range(5)
            for storage in (self.first, self.second)
        ]
        results = yield defer.gatherResults(attempts)
        self.assertEqual(sum(1 for ids, _ in results if ids), 5)
