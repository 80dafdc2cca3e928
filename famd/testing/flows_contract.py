"""
The storage contract of the self-service flows: tokens, single-use codes and
failed code attempts (L{famd.interfaces.ITokenStore}, L{ICodeStore},
L{IRateLimitStore}).

Mix L{FlowsStorageContract} into a C{twisted.trial.unittest.TestCase} that
defines C{make_storage()} returning a Deferred of an opened, empty storage;
it runs beside L{famd.testing.storage_contract.StorageContract} on every
engine.  L{TwoProcessesContract} does the same with two storages on one
database, as two famd processes have them (the second is opened by
L{famd.testing.databases.open_another}).
"""

from datetime import timedelta

from twisted.internet import defer
from zope.interface.verify import verifyObject

from famd.interfaces import ICodeStore, IRateLimitStore, ITokenStore
from famd.errors import Conflict
from famd.model import EmailChange, PhoneChange
from famd.testing.databases import open_another
from famd.testing.storage_contract import NOW, new

DEVICE = ("fcm", "param", "prid-1")
TOKEN = "Tok3nTok3nTok"


class FlowsStorageContract:
    """What every storage provider owes the token, code and rate-limit flows."""

    def make_storage(self):
        raise NotImplementedError("return a Deferred of an opened, empty storage")

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield self.make_storage()

    def test_interfaces(self):
        """The provider implements ITokenStore, ICodeStore and IRateLimitStore."""
        for interface in (ITokenStore, ICodeStore, IRateLimitStore):
            self.assertTrue(verifyObject(interface, self.storage))

    # ------------------------------------------------------------ tokens

    @defer.inlineCallbacks
    def test_token_rules(self):
        """A device may get a token until it holds an unused one or has received the limit."""
        self.assertIsNone((yield self.storage.token_refusal(*DEVICE, 2)))
        self.assertIsNone((yield self.storage.add_token(TOKEN, *DEVICE, 2, NOW)))
        self.assertEqual((yield self.storage.token_refusal(*DEVICE, 2)), "pending")
        self.assertEqual((yield self.storage.add_token("T" * 13, *DEVICE, 2, NOW)), "pending")
        yield self.storage.create_account(new("first", token=TOKEN))
        self.assertIsNone((yield self.storage.token_refusal(*DEVICE, 2)))
        self.assertIsNone((yield self.storage.add_token("U" * 13, *DEVICE, 2, NOW)))
        yield self.storage.create_account(new("second", token="U" * 13))
        self.assertEqual((yield self.storage.token_refusal(*DEVICE, 2)), "limit")
        self.assertEqual((yield self.storage.add_token("V" * 13, *DEVICE, 2, NOW)), "limit")
        self.assertIsNone((yield self.storage.token_refusal("fcm", "param", "prid-2", 2)))

    @defer.inlineCallbacks
    def test_unused_token(self):
        """unused_token gives the stored text of an unused token, None once used or unknown."""
        yield self.storage.add_token(TOKEN, *DEVICE, 4, NOW)
        self.assertEqual((yield self.storage.unused_token(TOKEN)), TOKEN)
        self.assertIsNone((yield self.storage.unused_token("X" * 13)))
        yield self.storage.create_account(new(token=TOKEN))
        self.assertIsNone((yield self.storage.unused_token(TOKEN)))

    @defer.inlineCallbacks
    def test_token_consumed_once_concurrently(self):
        """Of concurrent creations with one token exactly one succeeds; the others get Conflict('token')."""
        yield self.storage.add_token(TOKEN, *DEVICE, 4, NOW)
        results = yield defer.DeferredList(
            [self.storage.create_account(new("user%d" % (i,), token=TOKEN)) for i in range(8)],
            consumeErrors=True,
        )
        succeeded = [value for ok, value in results if ok]
        failed = [value for ok, value in results if not ok]
        self.assertEqual(len(succeeded), 1)
        self.assertEqual({f.check(Conflict) and f.value.field for f in failed}, {"token"})
        self.assertEqual((yield self.storage.list_accounts(0, 20))[1], 1)

    # ------------------------------------------------------------ activation

    @defer.inlineCallbacks
    def test_activate_with_code_once(self):
        """The right code activates and clears the key once; a wrong or used one changes nothing."""
        account_id = yield self.storage.create_account(new(confirmation_key="1234"))
        self.assertIsNone((yield self.storage.activate_with_code(account_id, "4321")))
        account = yield self.storage.activate_with_code(account_id, "1234")
        self.assertEqual((account.activated, account.confirmation_key), (True, None))
        self.assertIsNone((yield self.storage.activate_with_code(account_id, "1234")))

    # ------------------------------------------------------------ phone

    @defer.inlineCallbacks
    def test_phone_change(self):
        """A pending change replaces the previous one and, applied once, becomes the only alias."""
        account_id = yield self.storage.create_account(new(phone="+33600000001"))
        self.assertIsNone((yield self.storage.phone_change(account_id)))
        yield self.storage.set_phone_change(account_id, "+33600000002", "1111", NOW)
        yield self.storage.set_phone_change(account_id, "+33600000003", "2222", NOW)
        pending = yield self.storage.phone_change(account_id)
        self.assertEqual(pending, PhoneChange(account_id, "+33600000003", "2222"))
        self.assertNotIn("2222", repr(pending))
        self.assertIsNone((yield self.storage.apply_phone_change(account_id, "1111")))
        account = yield self.storage.apply_phone_change(account_id, "2222")
        self.assertEqual(account.phone, "+33600000003")
        self.assertIsNone((yield self.storage.phone_change(account_id)))
        self.assertIsNone((yield self.storage.apply_phone_change(account_id, "2222")))
        self.assertFalse((yield self.storage.phone_in_use("+33600000001")))

    @defer.inlineCallbacks
    def test_drop_phone_change(self):
        """drop_phone_change removes the pending change only while it has that code."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.set_phone_change(account_id, "+33600000002", "1111", NOW)
        self.assertFalse((yield self.storage.drop_phone_change(account_id, "9999")))
        self.assertTrue((yield self.storage.drop_phone_change(account_id, "1111")))
        self.assertIsNone((yield self.storage.phone_change(account_id)))

    @defer.inlineCallbacks
    def test_phone_taken_by_others_only(self):
        """phone_taken ignores the account's own alias and sees other accounts' aliases and usernames."""
        mine = yield self.storage.create_account(new("alice", phone="+33600000001"))
        yield self.storage.create_account(new("bobbyb", phone="+33600000002"))
        yield self.storage.create_account(new("+33600000003"))
        self.assertFalse((yield self.storage.phone_taken("+33600000001", mine)))
        self.assertTrue((yield self.storage.phone_taken("+33600000002", mine)))
        self.assertTrue((yield self.storage.phone_taken("+33600000003", mine)))
        self.assertFalse((yield self.storage.phone_taken("+33600000004", mine)))

    @defer.inlineCallbacks
    def test_phone_change_conflict(self):
        """A number another account took meanwhile fails with Conflict('phone') and changes nothing."""
        mine = yield self.storage.create_account(new("alice", phone="+33600000001"))
        yield self.storage.set_phone_change(mine, "+33600000002", "1111", NOW)
        yield self.storage.create_account(new("bobbyb", phone="+33600000002"))
        yield self.assertFailure(self.storage.apply_phone_change(mine, "1111"), Conflict)
        self.assertEqual((yield self.storage.get_account(mine)).phone, "+33600000001")
        self.assertEqual((yield self.storage.phone_change(mine)), PhoneChange(mine, "+33600000002", "1111"))

    # ------------------------------------------------------------ e-mail

    @defer.inlineCallbacks
    def test_email_change(self):
        """A pending change shows on the account, replaces the previous one and applies once."""
        account_id = yield self.storage.create_account(new(email="old@example.org"))
        yield self.storage.set_email_change(account_id, "first@example.org", "s" * 32, NOW)
        yield self.storage.set_email_change(account_id, "new@example.org", "t" * 32, NOW)
        self.assertIsNone((yield self.storage.email_change("s" * 32)))
        pending = yield self.storage.email_change("t" * 32)
        self.assertEqual(pending, EmailChange(account_id, "new@example.org", NOW, secret="t" * 32))
        self.assertNotIn("t" * 32, repr(pending))
        account = yield self.storage.get_account(account_id)
        self.assertEqual(account.email_changed, EmailChange(account_id, "new@example.org", NOW))
        self.assertEqual((yield self.storage.apply_email_change(account_id, "t" * 32)), "new@example.org")
        account = yield self.storage.get_account(account_id)
        self.assertEqual((account.email, account.email_changed), ("new@example.org", None))
        self.assertIsNone((yield self.storage.apply_email_change(account_id, "t" * 32)))

    @defer.inlineCallbacks
    def test_drop_email_change(self):
        """drop_email_change removes the pending change only while it has that secret."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.set_email_change(account_id, "new@example.org", "t" * 32, NOW)
        self.assertFalse((yield self.storage.drop_email_change(account_id, "u" * 32)))
        self.assertTrue((yield self.storage.drop_email_change(account_id, "t" * 32)))
        self.assertIsNone((yield self.storage.email_change("t" * 32)))

    # ------------------------------------------------------------ failed attempts

    @defer.inlineCallbacks
    def test_reserve_until_limit(self):
        """Attempts are recorded until a scope holds the limit, then refused with the freeing failure's time."""
        since = NOW - timedelta(minutes=15)
        for minute in range(3):
            ids, oldest = yield self.storage.reserve_attempt(
                ["a", "b"], 3, since, NOW + timedelta(minutes=minute))
            self.assertEqual((len(ids), oldest), (2, None))
        ids, oldest = yield self.storage.reserve_attempt(["c", "b"], 3, since, NOW)
        self.assertEqual((ids, oldest), ((), NOW))
        ids, oldest = yield self.storage.reserve_attempt(["c"], 3, since, NOW)
        self.assertEqual(len(ids), 1)

    @defer.inlineCallbacks
    def test_window_and_forget(self):
        """Failures older than the window no longer count, and forgotten ones free their place."""
        ids, _ = yield self.storage.reserve_attempt(["a"], 1, NOW - timedelta(minutes=15), NOW)
        just_before = NOW - timedelta(seconds=1)
        self.assertEqual((yield self.storage.reserve_attempt(["a"], 1, just_before, NOW))[0], ())
        self.assertEqual((yield self.storage.forget_attempts(ids)), 1)
        ids, _ = yield self.storage.reserve_attempt(["a"], 1, just_before, NOW)
        self.assertEqual(len(ids), 1)
        later = NOW + timedelta(minutes=15)
        ids, oldest = yield self.storage.reserve_attempt(["a"], 1, NOW, later)
        self.assertEqual((len(ids), oldest), (1, None))

    @defer.inlineCallbacks
    def test_count_and_purge(self):
        """Events are counted per scope after a time, and purged before one whatever their scope."""
        for minute in range(3):
            yield self.storage.reserve_attempt(["x"], 10, NOW - timedelta(days=1), NOW + timedelta(minutes=minute))
        yield self.storage.reserve_attempt(["y"], 10, NOW - timedelta(days=1), NOW)
        self.assertEqual((yield self.storage.count_attempts("x", NOW)), 2)
        self.assertEqual((yield self.storage.count_attempts("x", NOW - timedelta(seconds=1))), 3)
        self.assertEqual((yield self.storage.forget_expired_attempts(NOW)), 2)
        self.assertEqual((yield self.storage.count_attempts("x", NOW - timedelta(days=1))), 2)
        self.assertEqual((yield self.storage.count_attempts("y", NOW - timedelta(days=1))), 0)

    @defer.inlineCallbacks
    def test_one_token_per_device_concurrently(self):
        """Of tokens for one device stored at the same moment, exactly one is kept."""
        results = yield defer.gatherResults(
            [self.storage.add_token("T%02d" % (i,) + "t" * 10, *DEVICE, 20, NOW) for i in range(8)]
        )
        self.assertEqual(results.count(None), 1)
        self.assertEqual(results.count("pending"), 7)

    @defer.inlineCallbacks
    def test_concurrent_reservations_hold_the_limit(self):
        """Of many simultaneous attempts in one scope, exactly the limit are let through."""
        since = NOW - timedelta(minutes=15)
        results = yield defer.gatherResults(
            [self.storage.reserve_attempt(["burst"], 5, since, NOW) for _ in range(12)]
        )
        self.assertEqual(sum(1 for ids, _ in results if ids), 5)


class TwoProcessesContract:
    """Two storages on one database behave like two famd processes."""

    def make_storage(self):
        raise NotImplementedError("return a Deferred of an opened, empty storage")

    @defer.inlineCallbacks
    def setUp(self):
        self.first = yield self.make_storage()
        self.second = yield open_another(self, self.first)

    @defer.inlineCallbacks
    def test_token_consumed_once_across_processes(self):
        """Creations with one token through two storages: exactly one succeeds."""
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
    def test_one_token_per_device_across_processes(self):
        """Tokens for one device stored at once through two storages: exactly one is kept."""
        results = yield defer.gatherResults([
            storage.add_token("T%02d" % (i,) + "t" * 10, *DEVICE, 20, NOW)
            for i in range(6)
            for storage in (self.first, self.second)
        ])
        self.assertEqual(results.count(None), 1)
        self.assertEqual(results.count("pending"), 11)

    @defer.inlineCallbacks
    def test_attempt_limit_across_processes(self):
        """Failures recorded through one storage count for the other."""
        since = NOW - timedelta(minutes=15)
        attempts = [
            storage.reserve_attempt(["account:x"], 5, since, NOW)
            for _ in range(5)
            for storage in (self.first, self.second)
        ]
        results = yield defer.gatherResults(attempts)
        self.assertEqual(sum(1 for ids, _ in results if ids), 5)
