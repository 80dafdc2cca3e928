"""
The flexisip-pusher backend runs at most max_concurrent programs at once
(issue 13, point 4): the others wait their turn for queue_timeout seconds,
then fail as not sent.  Real processes (famd.testing.pusher.FakePusher).
"""

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from famd.interfaces import DeliveryFailed
from famd.notifiers.pusher import FlexisipPusher
from famd.testing.pusher import FakePusher


class SlotTests(unittest.TestCase):
    """Concurrency of flexisip_pusher runs."""

    def sender(self, sleep, max_concurrent, queue_timeout):
        fake = FakePusher(self.mktemp(), sleep=sleep)
        return fake, FlexisipPusher(reactor, fake.path, timeout=20.0,
                                    max_concurrent=max_concurrent, queue_timeout=queue_timeout)

    @defer.inlineCallbacks
    def test_waiters_give_up(self):
        """With two slots busy, a third notification waits queue_timeout, then is not sent."""
        fake, sender = self.sender(sleep=1.5, max_concurrent=2, queue_timeout=0.3)
        sends = [sender.send("fcm", "param", "prid-%d" % (n,), {"token": "t"}) for n in range(3)]
        third = yield self.assertFailure(sends[2], DeliveryFailed)
        self.assertIn("already running", str(third))
        yield defer.gatherResults(sends[:2])
        self.assertEqual(len(fake.runs()), 2)

    @defer.inlineCallbacks
    def test_waiters_run_in_turn(self):
        """Five notifications through two slots all go out, never more than two at once."""
        fake, sender = self.sender(sleep=0.4, max_concurrent=2, queue_timeout=10.0)
        sends = [sender.send("fcm", "param", "prid-%d" % (n,), {"token": "t"}) for n in range(5)]
        yield task.deferLater(reactor, 0.25, lambda: None)
        self.assertLessEqual(len(fake.runs()), 2)
        yield defer.gatherResults(sends)
        self.assertEqual(len(fake.runs()), 5)
