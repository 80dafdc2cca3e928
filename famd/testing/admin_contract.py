"""
The storage contract of FAM 2.x's administrator routes
(L{famd.interfaces.IAdminStore}): whole-account updates, blocking, the
lookup by e-mail and single-use reset-password links.

Mix L{AdminStorageContract} into a C{twisted.trial.unittest.TestCase} that
defines C{make_storage()} (a Deferred of an opened, empty storage); it runs
on SQLite, MariaDB, PostgreSQL and the in-memory storage.
"""

from datetime import timedelta

from twisted.internet import defer
from zope.interface.verify import verifyObject

from famd.errors import Conflict
from famd.interfaces import IAdminStore
from famd.model import AccountChanges, Password
from famd.testing.storage_contract import NOW, new

MD5 = Password("a" * 32, "MD5")
SHA = Password("b" * 64, "SHA-256")


class AdminStorageContract:
    """What every storage provider owes the 2.x administrator routes."""

    def make_storage(self):
        raise NotImplementedError("return a Deferred of an opened, empty storage")

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield self.make_storage()

    def test_interface(self):
        """The provider implements every method of IAdminStore."""
        self.assertTrue(verifyObject(IAdminStore, self.storage))

    @defer.inlineCallbacks
    def test_update_writes_every_field(self):
        """Every field of an update is read back: columns, phone, passwords, admin, activation, blocking."""
        account_id = yield self.storage.create_account(new(email="old@example.org", phone="+33611111111"))
        updated = yield self.storage.update_account(account_id, AccountChanges(
            username="alice2", email="new@example.org", display_name="Alice", dtmf_protocol="rfc2833",
            phone="+33622222222", passwords=(MD5, SHA), admin=True, activated=True, blocked=True,
        ), NOW)
        stored = yield self.storage.get_account(account_id)
        self.assertEqual(updated, stored)
        self.assertEqual(
            (stored.username, stored.domain, stored.email, stored.display_name, stored.dtmf_protocol,
             stored.phone, stored.passwords, stored.activated, stored.blocked, stored.admin is not None),
            ("alice2", "sip.example.org", "new@example.org", "Alice", "rfc2833", "+33622222222",
             (MD5, SHA), True, True, True),
        )
        self.assertFalse((yield self.storage.phone_in_use("+33611111111")))
        self.assertIsNone((yield self.storage.find_account("alice", "sip.example.org")))

    @defer.inlineCallbacks
    def test_update_clears_omitted_fields_and_keeps_the_others(self):
        """None clears e-mail, display name, DTMF and phone, and leaves passwords, admin, activation and blocking."""
        account_id = yield self.storage.create_account(new(
            email="a@example.org", phone="+33611111111", admin=True, activated=True, passwords=(SHA,)))
        yield self.storage.set_blocked(account_id, True)
        yield self.storage.update_account(account_id, AccountChanges(
            username="alice", display_name="A", dtmf_protocol="sipinfo"), NOW)
        stored = yield self.storage.update_account(account_id, AccountChanges(username="alice"), NOW)
        self.assertEqual(
            (stored.email, stored.display_name, stored.dtmf_protocol, stored.phone, stored.passwords,
             stored.activated, stored.blocked, stored.admin is not None),
            (None, None, None, None, (SHA,), True, True, True),
        )
        stored = yield self.storage.update_account(
            account_id, AccountChanges(username="alice", admin=False, activated=False, blocked=False), NOW)
        self.assertEqual((stored.admin, stored.activated, stored.blocked), (None, False, False))

    @defer.inlineCallbacks
    def test_update_unknown_account(self):
        """An id no account has, however large, gives None and writes nothing."""
        account_id = yield self.storage.create_account(new())
        for number in (account_id + 99, 2**31, 2**63, -1):
            self.assertIsNone(
                (yield self.storage.update_account(number, AccountChanges(username="x" * 6), NOW)), number)
            self.assertIsNone((yield self.storage.set_blocked(number, True)), number)
        self.assertIsNone((yield self.storage.find_account("x" * 6, "sip.example.org")))

    @defer.inlineCallbacks
    def test_update_username_unique_per_domain(self):
        """Another account's username in the same domain is a Conflict that changes nothing; its own, or another domain's, is not."""
        account_id = yield self.storage.create_account(new("alice", email="a@example.org"))
        yield self.storage.create_account(new("bobbyb"))
        yield self.storage.create_account(new("carolc", domain="other.example.org"))
        failure = yield self.assertFailure(self.storage.update_account(
            account_id, AccountChanges(username="bobbyb", email="changed@example.org"), NOW), Conflict)
        self.assertEqual(failure.field, "username")
        self.assertEqual((yield self.storage.get_account(account_id)).email, "a@example.org")
        kept = yield self.storage.update_account(account_id, AccountChanges(username="alice"), NOW)
        self.assertEqual(kept.username, "alice")
        moved = yield self.storage.update_account(account_id, AccountChanges(username="carolc"), NOW)
        self.assertEqual((moved.username, moved.domain), ("carolc", "sip.example.org"))

    @defer.inlineCallbacks
    def test_update_phone_unique(self):
        """A phone another account has as alias or username is a Conflict; the account's own is kept."""
        account_id = yield self.storage.create_account(new("alice", phone="+33611111111"))
        yield self.storage.create_account(new("bobbyb", phone="+33622222222"))
        yield self.storage.create_account(new("+33633333333"))
        for phone in ("+33622222222", "+33633333333"):
            failure = yield self.assertFailure(self.storage.update_account(
                account_id, AccountChanges(username="alice", phone=phone, blocked=True), NOW), Conflict)
            self.assertEqual(failure.field, "phone")
        stored = yield self.storage.get_account(account_id)
        self.assertEqual((stored.phone, stored.blocked), ("+33611111111", False))
        kept = yield self.storage.update_account(
            account_id, AccountChanges(username="alice", phone="+33611111111"), NOW)
        self.assertEqual(kept.phone, "+33611111111")

    @defer.inlineCallbacks
    def test_set_blocked(self):
        """Blocking and unblocking are read back, and leave activation alone."""
        account_id = yield self.storage.create_account(new(activated=True))
        self.assertFalse((yield self.storage.get_account(account_id)).blocked)
        blocked = yield self.storage.set_blocked(account_id, True)
        self.assertEqual((blocked.blocked, blocked.activated), (True, True))
        self.assertTrue((yield self.storage.find_account("alice", "sip.example.org")).blocked)
        self.assertFalse((yield self.storage.set_blocked(account_id, False)).blocked)

    @defer.inlineCallbacks
    def test_find_by_email(self):
        """The account of lowest id with the e-mail is found, passwords loaded; an unknown one is None."""
        yield self.storage.create_account(new("first", email="other@example.org"))
        second = yield self.storage.create_account(new("second", email="same@example.org"))
        yield self.storage.create_account(new("third", email="same@example.org"))
        found = yield self.storage.find_account_by_email("same@example.org")
        self.assertEqual((found.id, found.passwords), (second, (Password("0" * 32, "MD5"),)))
        self.assertIsNone((yield self.storage.find_account_by_email("nobody@example.org")))

    @defer.inlineCallbacks
    def test_find_by_phone(self):
        """An account is found by its phone alias, else by a username that is the number; an unknown one is None."""
        yield self.storage.create_account(new("first"))
        aliased = yield self.storage.create_account(new("second", phone="+33612345678"))
        named = yield self.storage.create_account(new("+33699999999"))
        self.assertEqual((yield self.storage.find_account_by_phone("+33612345678")).id, aliased)
        found = yield self.storage.find_account_by_phone("+33699999999")
        self.assertEqual((found.id, found.passwords), (named, (Password("0" * 32, "MD5"),)))
        self.assertIsNone((yield self.storage.find_account_by_phone("+33600000000")))

    @defer.inlineCallbacks
    def test_reset_password_token_round_trip(self):
        """A stored token is read back exactly, unused, with its e-mail, address and agent."""
        account_id = yield self.storage.create_account(new())
        self.assertTrue((yield self.storage.add_reset_password_token(
            account_id, "Tok3nTok3nTok3nT", "a@example.org", "203.0.113.7", "curl/8", NOW)))
        token = yield self.storage.reset_password_token("Tok3nTok3nTok3nT")
        self.assertEqual(
            (token.account_id, token.token, token.email, token.used, token.created_at, token.ip,
             token.user_agent),
            (account_id, "Tok3nTok3nTok3nT", "a@example.org", False, NOW, "203.0.113.7", "curl/8"),
        )
        self.assertIsNone((yield self.storage.reset_password_token("tok3ntok3ntok3nt")))
        self.assertIsNone((yield self.storage.reset_password_token("unknown")))
        self.assertFalse((yield self.storage.add_reset_password_token(
            account_id + 99, "T" * 16, "a@example.org", None, None, NOW)))

    @defer.inlineCallbacks
    def test_reset_password_token_used_once(self):
        """Of simultaneous uses of one token exactly one gets its account; later uses get None."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.add_reset_password_token(account_id, "R" * 16, "a@example.org", None, None, NOW)
        since = NOW - timedelta(days=1)
        results = yield defer.gatherResults(
            [self.storage.use_reset_password_token("R" * 16, since, NOW) for _ in range(4)])
        self.assertEqual(sorted(results, key=str), [account_id, None, None, None])
        self.assertTrue((yield self.storage.reset_password_token("R" * 16)).used)
        self.assertIsNone((yield self.storage.use_reset_password_token("R" * 16, since, NOW)))

    @defer.inlineCallbacks
    def test_reset_password_token_expiry_and_case(self):
        """A token created before the cut-off, or differing in case, is not used."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.add_reset_password_token(account_id, "abcdefghijklmnop", "a@example.org",
                                                    None, None, NOW - timedelta(days=2))
        self.assertIsNone((yield self.storage.use_reset_password_token(
            "ABCDEFGHIJKLMNOP", NOW - timedelta(days=3), NOW)))
        self.assertIsNone((yield self.storage.use_reset_password_token(
            "abcdefghijklmnop", NOW - timedelta(days=1), NOW)))
        self.assertFalse((yield self.storage.reset_password_token("abcdefghijklmnop")).used)
        self.assertEqual((yield self.storage.use_reset_password_token(
            "abcdefghijklmnop", NOW - timedelta(days=3), NOW)), account_id)
