"""
Named transactions, on every engine: a failure is logged with the name of
the transaction that failed (never with the driver's message, which may
quote a secret), an unavailable database names it in the error, and
expected refusals are not logged at all.
"""

from twisted.internet import defer
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest

from famd.interfaces import StorageUnavailable
from famd.errors import Conflict
from famd.model import Password
from famd.testing.storage_contract import new
from tests.engines import on_engines, open_storage


def capture_log(test_case):
    """The list every log event goes to until C{test_case} ends."""
    events = []
    globalLogPublisher.addObserver(events.append)
    test_case.addCleanup(globalLogPublisher.removeObserver, events.append)
    return events


def failed_events(events):
    return [event for event in events if event.get("log_namespace") == "famd.storage"]


class NamedTransactionTests(unittest.TestCase):
    """What the storage logs about its transactions, by name."""

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield open_storage(self)
        self.events = capture_log(self)

    @defer.inlineCallbacks
    def test_unexpected_failure_is_logged_by_name(self):
        """A transaction failing unexpectedly is logged with its name and error type, not its message."""
        def failing_txn(txn):
            raise ValueError("s3cret-in-message")

        yield self.assertFailure(self.storage.write("rotate_keys", failing_txn), ValueError)
        logged = failed_events(self.events)
        self.assertEqual([(event["txn"], event["error"]) for event in logged],
                         [("rotate_keys", "builtins.ValueError")])
        self.assertNotIn("s3cret", formatEvent(logged[0]))
        self.assertIn("rotate_keys", formatEvent(logged[0]))

    @defer.inlineCallbacks
    def test_driver_error_is_logged_by_name(self):
        """A statement the database refuses (a NOT NULL password) is logged as the operation that ran it."""
        broken = new(passwords=(Password(None, "MD5"),))
        yield self.assertFailure(self.storage.create_account(broken), Exception)
        self.assertEqual([event["txn"] for event in failed_events(self.events)], ["create_account"])

    @defer.inlineCallbacks
    def test_refusals_are_not_logged(self):
        """A conflict is an answer, not a failure: nothing is logged."""
        yield self.storage.create_account(new())
        yield self.assertFailure(self.storage.create_account(new()), Conflict)
        self.assertEqual(failed_events(self.events), [])

    @defer.inlineCallbacks
    def test_unavailable_names_the_transaction(self):
        """A database that became unavailable fails with an error naming the transaction."""
        def unavailable_txn(txn):
            raise StorageUnavailable("the database went away")

        error = yield self.assertFailure(self.storage.read("count_things", unavailable_txn),
                                         StorageUnavailable)
        self.assertEqual(str(error), "the database went away (transaction count_things)")
        self.assertEqual(failed_events(self.events), [])


globals().update(on_engines(NamedTransactionTests))
