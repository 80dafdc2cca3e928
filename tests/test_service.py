"""
The service tree: nonces purged by a timer, services in order.
"""

from datetime import timedelta

from twisted.application.internet import TimerService
from twisted.internet import defer, task
from twisted.trial import unittest

from famd.clock import reactor_clock
from famd.config import from_mapping
from famd.service import StorageService, build_service, purge_counts, purge_nonces, purge_sessions
from famd.testing.storage import open_sqlite
from famd.testing.storage_contract import NOW, new


class NoncePurgeTests(unittest.TestCase):
    """Unused nonces do not pile up."""

    @defer.inlineCallbacks
    def test_purge_deletes_unused_nonces(self):
        """A purge deletes nonces unused for nonce_lifetime and keeps fresh ones."""
        storage = yield open_sqlite(self)
        account_id = yield storage.create_account(new())
        yield storage.create_nonce(account_id, "stale", NOW - timedelta(hours=2))
        yield storage.create_nonce(account_id, "fresh", NOW - timedelta(minutes=5))
        clock = task.Clock()
        clock.advance(NOW.timestamp())
        deleted = yield purge_nonces(storage, reactor_clock(clock), 3600)
        self.assertEqual(deleted, 1)
        result = yield storage.use_nonce(account_id, "fresh", 1, NOW - timedelta(hours=1), NOW)
        self.assertEqual(result, "ok")

    @defer.inlineCallbacks
    def test_purge_counts(self):
        """The count purge deletes throttle counts older than a day, whatever their scope."""
        storage = yield open_sqlite(self)
        for scope, age in (("secret:a", timedelta(days=2)), ("sms-to:b", timedelta(hours=2))):
            yield storage.reserve_attempt([scope], 10, NOW - timedelta(days=3), NOW - age)
        clock = task.Clock()
        clock.advance(NOW.timestamp())
        self.assertEqual((yield purge_counts(storage, reactor_clock(clock))), 1)
        self.assertEqual((yield storage.count_attempts("sms-to:b", NOW - timedelta(days=1))), 1)

    def test_service_tree(self):
        """The tree opens storage first, runs the nonce timer, then listens."""
        config = from_mapping({"sip_domain": "sip.example.org", "listen": "tcp:0"}, "/tmp")
        clock = task.Clock()
        services = list(build_service(config, clock))
        self.assertIsInstance(services[0], StorageService)
        timer = services[1]
        self.assertIsInstance(timer, TimerService)
        self.assertEqual(timer.step, 900)
        self.assertIs(timer.clock, clock)
        self.assertEqual(type(services[2]).__name__, "StreamServerEndpointService")
        counts = services[3]
        self.assertIsInstance(counts, TimerService)
        self.assertEqual((counts.step, counts.call[0]), (3600, purge_counts))


class PanelServiceTests(unittest.TestCase):
    """The account panel in the service tree."""

    def test_session_janitor(self):
        """With the panel on, a timer purges its expired sessions every 10 minutes; off, there is none."""
        config = from_mapping({"sip_domain": "sip.example.org", "listen": "tcp:0"}, "/tmp")
        timers = [s for s in build_service(config, task.Clock()) if isinstance(s, TimerService)]
        janitors = [timer for timer in timers if timer.call[0] is purge_sessions]
        self.assertEqual([timer.step for timer in janitors], [600])
        off = from_mapping({"sip_domain": "sip.example.org", "listen": "tcp:0",
                            "panel": {"enabled": False}}, "/tmp")
        timers = [s for s in build_service(off, task.Clock()) if isinstance(s, TimerService)]
        self.assertEqual([timer for timer in timers if timer.call[0] is purge_sessions], [])
