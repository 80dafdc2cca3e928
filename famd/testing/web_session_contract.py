"""
The contract of L{famd.interfaces.IWebSessionStore}, the account panel's
sessions: one mixin every storage provider passes (the in-memory one and
the three SQL engines).  Mix L{WebSessionContract} into a trial TestCase
whose C{make_storage()} returns a Deferred of an opened, empty storage.
"""

from datetime import timedelta

from twisted.internet import defer
from zope.interface.verify import verifyObject

from famd.interfaces import IWebSessionStore
from famd.model import AccountChanges, Password, WebSession
from famd.testing.storage_contract import NOW, new

HASH = "a" * 64
OTHER = "b" * 64
THIRD = "c" * 64
LONG_AGO = NOW - timedelta(days=365)


class WebSessionContract:
    """What every storage owes the account panel's sessions."""

    def make_storage(self):
        raise NotImplementedError("return a Deferred of an opened, empty storage")

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield self.make_storage()
        self.alice = yield self.storage.create_account(new("alice"))
        self.bob = yield self.storage.create_account(new("bob"))

    def test_interface(self):
        """The provider implements every method of IWebSessionStore."""
        self.assertTrue(verifyObject(IWebSessionStore, self.storage))

    @defer.inlineCallbacks
    def test_add_then_load(self):
        """A stored session loads with its account and times."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        session = yield self.storage.web_session(HASH, LONG_AGO, LONG_AGO)
        self.assertEqual(session, WebSession(self.alice, NOW, NOW))

    @defer.inlineCallbacks
    def test_unknown(self):
        """A hash no row holds loads as None."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        self.assertIsNone((yield self.storage.web_session(OTHER, LONG_AGO, LONG_AGO)))

    @defer.inlineCallbacks
    def test_idle_expiry(self):
        """A session last seen before the idle bound does not load; touching it renews it."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        later = NOW + timedelta(minutes=5)
        self.assertIsNone((yield self.storage.web_session(HASH, later, LONG_AGO)))
        self.assertTrue((yield self.storage.touch_web_session(HASH, later)))
        session = yield self.storage.web_session(HASH, later, LONG_AGO)
        self.assertEqual(session, WebSession(self.alice, NOW, later))

    @defer.inlineCallbacks
    def test_absolute_expiry(self):
        """A session made before the absolute bound does not load, however recently seen."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        later = NOW + timedelta(hours=1)
        yield self.storage.touch_web_session(HASH, later)
        self.assertIsNone((yield self.storage.web_session(HASH, NOW, NOW + timedelta(seconds=1))))

    @defer.inlineCallbacks
    def test_touch_unknown(self):
        """Touching a session no row holds answers False."""
        self.assertFalse((yield self.storage.touch_web_session(HASH, NOW)))

    @defer.inlineCallbacks
    def test_revoke_one(self):
        """Revoking a session removes it and no other, once."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        yield self.storage.add_web_session(OTHER, self.alice, NOW)
        self.assertTrue((yield self.storage.delete_web_session(HASH)))
        self.assertFalse((yield self.storage.delete_web_session(HASH)))
        self.assertIsNone((yield self.storage.web_session(HASH, LONG_AGO, LONG_AGO)))
        self.assertIsNotNone((yield self.storage.web_session(OTHER, LONG_AGO, LONG_AGO)))

    @defer.inlineCallbacks
    def test_revoke_account(self):
        """Revoking an account's sessions leaves the kept one and other accounts' alone."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        yield self.storage.add_web_session(OTHER, self.alice, NOW)
        yield self.storage.add_web_session(THIRD, self.bob, NOW)
        self.assertEqual((yield self.storage.delete_account_web_sessions(self.alice, keep=OTHER)), 1)
        self.assertIsNone((yield self.storage.web_session(HASH, LONG_AGO, LONG_AGO)))
        self.assertIsNotNone((yield self.storage.web_session(OTHER, LONG_AGO, LONG_AGO)))
        self.assertEqual((yield self.storage.delete_account_web_sessions(self.alice)), 1)
        self.assertIsNone((yield self.storage.web_session(OTHER, LONG_AGO, LONG_AGO)))
        self.assertIsNotNone((yield self.storage.web_session(THIRD, LONG_AGO, LONG_AGO)))

    @defer.inlineCallbacks
    def test_purge(self):
        """Purging deletes the idle and the too old sessions, and keeps the others."""
        yield self.storage.add_web_session(HASH, self.alice, NOW - timedelta(hours=2))
        yield self.storage.add_web_session(OTHER, self.alice, NOW - timedelta(days=3))
        yield self.storage.touch_web_session(OTHER, NOW)
        yield self.storage.add_web_session(THIRD, self.bob, NOW)
        deleted = yield self.storage.delete_expired_web_sessions(
            NOW - timedelta(hours=1), NOW - timedelta(days=2))
        self.assertEqual(deleted, 2)
        self.assertIsNotNone((yield self.storage.web_session(THIRD, LONG_AGO, LONG_AGO)))

    @defer.inlineCallbacks
    def test_new_passwords_end_sessions(self):
        """Replacing an account's passwords, or an administrator's edit of them, ends its sessions only."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        yield self.storage.add_web_session(THIRD, self.bob, NOW)
        yield self.storage.replace_passwords(self.alice, (Password("1" * 32, "MD5"),))
        self.assertIsNone((yield self.storage.web_session(HASH, LONG_AGO, LONG_AGO)))
        self.assertIsNotNone((yield self.storage.web_session(THIRD, LONG_AGO, LONG_AGO)))
        yield self.storage.update_account(self.bob, AccountChanges(
            username="bob", passwords=(Password("2" * 32, "MD5"),)), NOW)
        self.assertIsNone((yield self.storage.web_session(THIRD, LONG_AGO, LONG_AGO)))

    @defer.inlineCallbacks
    def test_other_changes_keep_sessions(self):
        """An edit that leaves the passwords alone keeps the sessions."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        yield self.storage.update_account(self.alice, AccountChanges(
            username="alice", display_name="Alice"), NOW)
        self.assertIsNotNone((yield self.storage.web_session(HASH, LONG_AGO, LONG_AGO)))

    @defer.inlineCallbacks
    def test_goes_with_account(self):
        """Deleting an account deletes its sessions."""
        yield self.storage.add_web_session(HASH, self.alice, NOW)
        yield self.storage.delete_account(self.alice)
        self.assertIsNone((yield self.storage.web_session(HASH, LONG_AGO, LONG_AGO)))

    @defer.inlineCallbacks
    def test_unknown_account_refused(self):
        """A session of an account that does not exist is refused and not stored."""
        with self.assertRaises(Exception):
            yield self.storage.add_web_session(HASH, self.bob + 1000, NOW)
        self.assertIsNone((yield self.storage.web_session(HASH, LONG_AGO, LONG_AGO)))
