"""
What the codes of pending changes share: their expiry
(L{famd.flows.codes}) and the first step of applying one
(L{famd.storage.sql_codes.take_code_txn}).
"""

from datetime import datetime, timedelta, timezone

from twisted.internet import defer
from twisted.trial import unittest

from famd.errors import Gone
from famd.flows.codes import EXPIRED_CODE, expired, refuse_expired
from famd.storage import sql_codes
from famd.testing.storage import open_sqlite
from famd.testing.storage_contract import new

NOW = datetime(2026, 8, 20, 10, 0, tzinfo=timezone.utc)


class Context:
    def now(self):
        return NOW


class Attempt:
    """A wrong-secret reservation recording how it ended."""

    def __init__(self):
        self.ended = []

    def succeeded(self):
        self.ended.append("succeeded")
        return defer.succeed(None)

    def failed(self):
        self.ended.append("failed")


class ExpiryTests(unittest.TestCase):

    def test_expired(self):
        """A code is expired strictly after its lifetime, and when its creation time is unknown."""
        context = Context()
        self.assertFalse(expired(context, NOW - timedelta(seconds=60), 60))
        self.assertTrue(expired(context, NOW - timedelta(seconds=61), 60))
        self.assertTrue(expired(context, None, 60))

    @defer.inlineCallbacks
    def test_refuse_expired(self):
        """An expired code: the attempt is forgiven, the code dropped, 410; a fresh one: nothing done."""
        dropped = []

        def drop():
            dropped.append(True)
            return defer.succeed(None)

        attempt = Attempt()
        self.assertIsNone((yield refuse_expired(Context(), attempt, NOW, 60, drop)))
        self.assertEqual((attempt.ended, dropped), ([], []))
        failure = yield self.assertFailure(
            refuse_expired(Context(), attempt, NOW - timedelta(minutes=2), 60, drop), Gone)
        self.assertEqual((str(failure), attempt.ended, dropped), (EXPIRED_CODE, ["succeeded"], [True]))


class TakeCodeTests(unittest.TestCase):

    @defer.inlineCallbacks
    def test_take_code(self):
        """The latest pending row with the code is taken once: its value, then None; another code is None."""
        storage = yield open_sqlite(self)
        account_id = yield storage.create_account(new())
        yield storage.set_phone_change(account_id, "+33612345678", "1111", NOW)

        def take(code):
            return storage.write("take", sql_codes.take_code_txn, "phone_change_codes", "phone",
                                 account_id, code)

        self.assertIsNone((yield take("2222")))
        self.assertEqual((yield take("1111")), "+33612345678")
        self.assertIsNone((yield take("1111")))
        self.assertIsNone((yield storage.phone_change(account_id)))
