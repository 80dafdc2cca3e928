"""
famd.flows.signup2.push_then_store: the device rule, the push and the store
shared by account-creation and account-recovery tokens, and its one
Retry-After rule.
"""

from datetime import datetime, timedelta, timezone

from twisted.internet import defer
from twisted.trial import unittest

from famd.errors import TooMany, Unavailable
from famd.flows.signup2 import RECENT, push_then_store
from famd.interfaces import DeliveryFailed

NOW = datetime(2026, 8, 20, 10, 0, tzinfo=timezone.utc)
WINDOW = timedelta(minutes=10)
DEVICE = ("fcm", "param", "prid")


class Pusher:
    """A push sender recording what it sent, or failing every push."""

    def __init__(self, fails=False):
        self.sent = []
        self.fails = fails

    def send(self, provider, param, prid, payload):
        if self.fails:
            return defer.fail(DeliveryFailed("pusher down"))
        self.sent.append(((provider, param, prid), payload))
        return defer.succeed(None)


class Throttle:
    """Counts the device pushes."""

    def __init__(self):
        self.devices = []

    def device_push(self, *device):
        self.devices.append(device)
        return defer.succeed(None)


class Context:
    def __init__(self, push):
        self.push = push
        self.throttle = Throttle()

    def now(self):
        return NOW


class PushThenStoreTests(unittest.TestCase):

    def setUp(self):
        self.asked = []
        self.stored = []

    def run_with(self, context, used_at=None, refused_with=None):
        def used_since(since):
            self.asked.append(since)
            return defer.succeed(used_at)

        def store(token, now, since):
            self.stored.append((token, now, since))
            return defer.succeed(refused_with)

        return push_then_store(context, DEVICE, WINDOW, used_since, store, "test token")

    @defer.inlineCallbacks
    def test_pushed_then_stored(self):
        """A device with no token used in the window is counted, pushed, then that token stored."""
        context = Context(Pusher())
        self.assertIsNone((yield self.run_with(context)))
        self.assertEqual(self.asked, [NOW - WINDOW])
        self.assertEqual(context.throttle.devices, [DEVICE])
        [(device, payload)] = context.push.sent
        self.assertEqual(device, DEVICE)
        self.assertEqual(self.stored, [(payload["token"], NOW, NOW - WINDOW)])

    @defer.inlineCallbacks
    def test_used_recently(self):
        """A token used in the window: 429 until its creation leaves the window; nothing pushed."""
        context = Context(Pusher())
        failure = yield self.assertFailure(self.run_with(context, used_at=NOW - timedelta(minutes=4)), TooMany)
        self.assertEqual((failure.retry_after, str(failure)), (6 * 60, RECENT))
        self.assertEqual((context.push.sent, context.throttle.devices, self.stored), ([], [], []))

    @defer.inlineCallbacks
    def test_used_meanwhile(self):
        """A refused store (a token used during the push): the same rule, from the time it answers, rounded up."""
        context = Context(Pusher())
        failure = yield self.assertFailure(
            self.run_with(context, refused_with=NOW - timedelta(minutes=8, seconds=30, milliseconds=500)),
            TooMany)
        self.assertEqual(failure.retry_after, 90)
        self.assertEqual(len(context.push.sent), 1)
        self.assertEqual(len(self.stored), 1)

    @defer.inlineCallbacks
    def test_push_off_or_failed(self):
        """Push off: 503 before anything is read; a failed push: 503 and nothing stored."""
        yield self.assertFailure(self.run_with(Context(None)), Unavailable)
        self.assertEqual(self.asked, [])
        yield self.assertFailure(self.run_with(Context(Pusher(fails=True))), Unavailable)
        self.assertEqual(self.stored, [])
