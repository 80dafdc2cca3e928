"""
The storage contract: one suite every L{famd.interfaces.IStorage} provider
must pass.

Mix L{StorageContract} into a C{twisted.trial.unittest.TestCase} that
defines its two hooks, C{make_storage()} and C{count_dependents(account_id)}.
The same tests run on SQLite, MariaDB, PostgreSQL and the in-memory storage
of L{famd.testing.memory}; they use nothing but L{IStorage} and the hooks,
so a storage without SQL can pass them.
"""

from datetime import datetime, timedelta, timezone

from twisted.internet import defer
from zope.interface.verify import verifyObject

from famd.interfaces import IStorage
from famd.errors import Conflict
from famd.model import ActivationExpiration, EmailCode, NewAccount, Password, PhoneChange, Timestamps

NOW = datetime(2026, 11, 28, 14, 32, 50, tzinfo=timezone.utc)
"""The one "now" of famd's tests."""
EARLIER = datetime(2026, 1, 1, tzinfo=timezone.utc)
LATER = datetime(2040, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def new(username="alice", domain="sip.example.org", **fields):
    """A L{NewAccount} with sensible defaults."""
    fields.setdefault("passwords", (Password("0" * 32, "MD5"),))
    fields.setdefault("ip_address", "127.0.0.1")
    fields.setdefault("user_agent", "test")
    fields.setdefault("creation_time", NOW)
    return NewAccount(username=username, domain=domain, **fields)


DEPENDENTS = (
    "passwords", "nonces", "admins", "api_keys", "aliases", "phone_change_codes",
    "email_changed", "activation_expirations",
    "provisioning_tokens", "auth_tokens",
    "tokens", "account_recovery_tokens",
    "reset_password_email_tokens",
    "email_change_codes",
)
"""
What hangs off an account, by the name of its table (2021's, then FAM
2.x's): the kinds the C{count_dependents} hook counts (it may count more).
"""


def counted(counts):
    """The L{DEPENDENTS} kinds of a C{count_dependents} answer."""
    return {kind: counts[kind] for kind in DEPENDENTS}


class StorageContract:
    """
    The behaviour every storage provider owes famd.

    Hooks: C{make_storage()} returns a Deferred of an opened, empty storage;
    C{count_dependents(account_id)} returns (a Deferred of) a mapping of
    each kind of L{DEPENDENTS} to how many of the account's rows of that
    kind the storage holds: what no interface method shows, such as the
    rows a deletion must not leave behind or a duplicate admin row.
    """

    def make_storage(self):
        raise NotImplementedError("return a Deferred of an opened, empty storage")

    def count_dependents(self, account_id):
        raise NotImplementedError("return how many rows of each DEPENDENTS kind the account has")

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield self.make_storage()

    def test_interface(self):
        """The provider implements every method of IStorage."""
        self.assertTrue(verifyObject(IStorage, self.storage))

    @defer.inlineCallbacks
    def test_ready_while_reachable(self):
        """Readiness: an open storage answers its trivial query (fires with None)."""
        result = yield self.storage.ready(5.0)
        self.assertIsNone(result)

    @defer.inlineCallbacks
    def test_reopen_keeps_schema_version(self):
        """Opening an already migrated database again changes nothing and gives the same version."""
        version = yield self.storage.open()
        self.assertGreaterEqual(version, 2)

    @defer.inlineCallbacks
    def test_create_and_get_round_trip(self):
        """Every field written at creation is read back, dependent rows included."""
        account_id = yield self.storage.create_account(new(
            email="a@example.org", activated=False, confirmation_key="K" * 13, admin=True,
            phone="+33612345678", activation_expires=LATER, api_key="key-1",
            passwords=(Password("a" * 32, "MD5"), Password("b" * 64, "SHA-256")),
        ))
        account = yield self.storage.get_account(account_id)
        self.assertEqual(
            (account.username, account.domain, account.email, account.activated,
             account.confirmation_key, account.ip_address, account.user_agent,
             account.creation_time, account.phone, account.api_key),
            ("alice", "sip.example.org", "a@example.org", False, "K" * 13, "127.0.0.1",
             "test", NOW, "+33612345678", "key-1"),
        )
        self.assertEqual(
            account.passwords, (Password("a" * 32, "MD5"), Password("b" * 64, "SHA-256"))
        )
        self.assertEqual(account.admin, Timestamps(NOW, NOW))
        self.assertEqual(
            account.activation_expiration,
            ActivationExpiration(account.activation_expiration.id, account_id, LATER, NOW, NOW),
        )
        self.assertEqual(account.creation_time.tzinfo, timezone.utc)
        self.assertEqual(account.activation_expiration.account_id, account_id)
        self.assertIsNone(account.email_changed)

    @defer.inlineCallbacks
    def test_times_read_back_in_utc(self):
        """A time given in another zone, with microseconds, reads back as that UTC instant at whole seconds."""
        plus_two = timezone(timedelta(hours=2))
        account_id = yield self.storage.create_account(new(
            creation_time=(NOW + timedelta(microseconds=999999)).astimezone(plus_two),
            activation_expires=datetime(2040, 1, 2, 5, 4, 5, tzinfo=plus_two)))
        account = yield self.storage.get_account(account_id)
        self.assertEqual((account.creation_time, account.activation_expiration.expires), (NOW, LATER))
        self.assertEqual((account.creation_time.tzinfo, account.activation_expiration.expires.tzinfo),
                         (timezone.utc, timezone.utc))
        listed = yield self.storage.list_unconfirmed(NOW + timedelta(seconds=1))
        self.assertEqual([account.creation_time for account in listed], [NOW])

    @defer.inlineCallbacks
    def test_find_account(self):
        """Accounts are found by username and domain, and only by both."""
        account_id = yield self.storage.create_account(new())
        found = yield self.storage.find_account("alice", "sip.example.org")
        self.assertEqual(found.id, account_id)
        self.assertIsNone((yield self.storage.find_account("alice", "other.example.org")))
        self.assertIsNone((yield self.storage.get_account(account_id + 1000)))

    @defer.inlineCallbacks
    def test_find_accounts_asked_together(self):
        """
        Lookups asked for at the same moment (which a provider may run
        together) each get what a lookup asked for alone gets: the same
        account, every related row, or None.
        """
        yield self.storage.create_account(new(
            "carol", email="c@example.org", activated=False, confirmation_key="C" * 13, admin=True,
            phone="+33612345670", activation_expires=LATER, api_key="key-c",
            passwords=(Password("a" * 32, "MD5"), Password("b" * 64, "SHA-256")),
        ))
        for number in range(6):
            yield self.storage.create_account(new("user%d" % (number,), passwords=()))
        yield self.storage.create_account(new("carol", "other.example.org"))
        names = ["carol", "user0", "user3", "nobody", "user5", "carol"] * 12
        addresses = [(name, "sip.example.org") for name in names] + [("carol", "other.example.org")]
        alone = []
        for username, domain in addresses:
            alone.append((yield self.storage.find_account(username, domain)))
        together = yield defer.gatherResults(
            [self.storage.find_account(username, domain) for username, domain in addresses]
        )
        self.assertEqual(together, alone)
        self.assertEqual(
            [account and account.username for account in together[:6]],
            ["carol", "user0", "user3", None, "user5", "carol"],
        )
        self.assertEqual(together[0].passwords, (Password("a" * 32, "MD5"), Password("b" * 64, "SHA-256")))
        self.assertEqual(together[-1].domain, "other.example.org")

    @defer.inlineCallbacks
    def test_username_unique_per_domain(self):
        """A second account with the same username in the same domain is a username conflict."""
        yield self.storage.create_account(new())
        failure = yield self.assertFailure(self.storage.create_account(new()), Conflict)
        self.assertEqual(failure.field, "username")
        yield self.storage.create_account(new(domain="other.example.org"))

    @defer.inlineCallbacks
    def test_phone_unique(self):
        """A phone already used as an alias or a username is a phone conflict."""
        yield self.storage.create_account(new(phone="+33600000001"))
        yield self.storage.create_account(new(username="+33600000002"))
        for phone in ("+33600000001", "+33600000002"):
            failure = yield self.assertFailure(
                self.storage.create_account(new(username="bob" + phone, phone=phone)), Conflict
            )
            self.assertEqual(failure.field, "phone")
        self.assertTrue((yield self.storage.phone_in_use("+33600000001")))
        self.assertFalse((yield self.storage.phone_in_use("+33600000009")))

    @defer.inlineCallbacks
    def test_token_consumed_with_creation(self):
        """A token is consumed by the account creation that names it, and only once."""
        self.assertIsNone((yield self.storage.add_token("T" * 13, "fcm", "p", "d", 2, NOW)))
        self.assertEqual((yield self.storage.unused_token("T" * 13)), "T" * 13)
        yield self.storage.create_account(new(token="T" * 13))
        self.assertIsNone((yield self.storage.unused_token("T" * 13)))
        self.assertIsNone((yield self.storage.token_refusal("fcm", "p", "d", 2)))
        self.assertEqual((yield self.storage.token_refusal("fcm", "p", "d", 1)), "limit")
        failure = yield self.assertFailure(
            self.storage.create_account(new(username="bobby1", token="T" * 13)), Conflict
        )
        self.assertEqual(failure.field, "token")
        self.assertIsNone((yield self.storage.find_account("bobby1", "sip.example.org")))

    @defer.inlineCallbacks
    def test_token_of_creation_matches_exactly(self):
        """Creation consumes and names only the token of exactly its text (MariaDB's collation ignores case)."""
        upper, lower = "TOKTOKTOKTOKT", "toktoktoktokt"
        made = yield self.storage.add_plain_token(upper, None, None, NOW)
        yield self.storage.add_plain_token(lower, None, None, NOW)
        self.assertEqual((yield self.storage.unused_token(lower)), lower)
        self.assertEqual((yield self.storage.unused_token(upper)), upper)
        self.assertIsNone((yield self.storage.unused_token("TokTokTokTokT")))
        failure = yield self.assertFailure(
            self.storage.create_account(new(username="mixed1", token="TokTokTokTokT")), Conflict)
        self.assertEqual(failure.field, "token")
        account_id = yield self.storage.create_account(new(token=lower))
        self.assertEqual((yield self.storage.creation_token(upper)), made)
        used = yield self.storage.creation_token(lower)
        self.assertEqual((used.used, used.account_id), (True, account_id))
        self.assertEqual((yield self.storage.unused_token(upper)), upper)
        self.assertTrue((yield self.storage.creation_token_consumed(account_id)))

    @defer.inlineCallbacks
    def test_reset_password_token_matches_exactly(self):
        """A reset-password link is found and used by exactly its text only."""
        account_id = yield self.storage.create_account(new(email="alice@example.org"))
        for text in ("ResetResetReset1", "RESETRESETRESET1"):
            self.assertTrue((yield self.storage.add_reset_password_token(
                account_id, text, "alice@example.org", None, None, NOW)))
        self.assertIsNone((yield self.storage.reset_password_token("resetresetreset1")))
        self.assertIsNone((yield self.storage.use_reset_password_token("resetresetreset1", EARLIER, NOW)))
        self.assertEqual((yield self.storage.use_reset_password_token("RESETRESETRESET1", EARLIER, NOW)),
                         account_id)
        self.assertFalse((yield self.storage.reset_password_token("ResetResetReset1")).used)
        self.assertTrue((yield self.storage.reset_password_token("RESETRESETRESET1")).used)

    @defer.inlineCallbacks
    def test_concurrent_token_use_creates_one_account(self):
        """Of several creations racing for one token, exactly one succeeds."""
        self.assertIsNone((yield self.storage.add_token("R" * 13, "fcm", "p", "d", 1, NOW)))
        results = yield defer.DeferredList(
            [self.storage.create_account(new(username="racer%d" % i, token="R" * 13))
             for i in range(8)],
            consumeErrors=True,
        )
        self.assertEqual(sum(1 for ok, _ in results if ok), 1)
        for ok, result in results:
            if not ok:
                result.trap(Conflict)

    @defer.inlineCallbacks
    def test_failed_creation_writes_nothing(self):
        """A creation that fails half-way (a NOT NULL password) leaves no account behind."""
        broken = new(passwords=(Password(None, "MD5"),), phone="+33611111111")
        yield self.assertFailure(self.storage.create_account(broken), Exception)
        self.assertIsNone((yield self.storage.find_account("alice", "sip.example.org")))
        self.assertFalse((yield self.storage.phone_in_use("+33611111111")))

    @defer.inlineCallbacks
    def test_list_accounts_pages(self):
        """Listing gives a page in id order and the total."""
        ids = []
        for index in range(5):
            ids.append((yield self.storage.create_account(new(username="user%02d" % index))))
        page, total = yield self.storage.list_accounts(2, 2)
        self.assertEqual(total, 5)
        self.assertEqual([account.id for account in page], ids[2:4])
        self.assertEqual(page[0].passwords, ())
        beyond, total = yield self.storage.list_accounts(10, 2)
        self.assertEqual((beyond, total), ([], 5))

    @defer.inlineCallbacks
    def test_delete_account_removes_dependents(self):
        """Deleting an account removes every row that hangs off it, and only its own."""
        account_id, other = yield self.two_accounts_with_every_dependent()
        self.assertTrue((yield self.storage.delete_account(account_id)))
        left = yield defer.maybeDeferred(self.count_dependents, account_id)
        self.assertEqual(counted(left), dict.fromkeys(DEPENDENTS, 0))
        kept = yield defer.maybeDeferred(self.count_dependents, other)
        self.assertEqual(counted(kept), dict.fromkeys(DEPENDENTS, 1))
        self.assertFalse((yield self.storage.delete_account(account_id)))
        self.assertFalse((yield self.storage.phone_in_use("+33622222220")))

    @defer.inlineCallbacks
    def test_delete_accounts_removes_dependents(self):
        """Deleting several accounts at once removes every row that hangs off them."""
        first, second = yield self.two_accounts_with_every_dependent()
        self.assertEqual((yield self.storage.delete_accounts([first, second, second + 99])), 2)
        for account_id in (first, second):
            left = yield defer.maybeDeferred(self.count_dependents, account_id)
            self.assertEqual(counted(left), dict.fromkeys(DEPENDENTS, 0))

    @defer.inlineCallbacks
    def two_accounts_with_every_dependent(self):
        """Two accounts, each with one row of every kind of DEPENDENTS."""
        ids = []
        for number in range(2):
            account_id = yield self.storage.create_account(new(
                "owner%d" % (number,), admin=True, api_key="k%d" % (number,),
                phone="+3362222222%d" % (number,), activation_expires=LATER))
            yield self.storage.create_nonce(account_id, "n%d" % (number,), NOW)
            yield self.storage.set_phone_change(account_id, "+3369999999%d" % (number,), "1234", NOW)
            yield self.storage.set_email_change(account_id, "new%d@example.org" % (number,), "s%d" % (number,), NOW)
            yield self.storage.issue_provisioning_token(account_id, "prov%d" % (number,), NOW)
            yield self.storage.add_auth_token("auth%d" % (number,), NOW)
            yield self.storage.attach_auth_token("auth%d" % (number,), account_id, NOW, NOW)
            yield self.storage.add_plain_token("C%d" % (number,) * 13, None, None, NOW)
            yield self.storage.consume_creation_token("C%d" % (number,) * 13, account_id, None, None, NOW)
            yield self.storage.add_recovery_token("V%d" % (number,) * 13, "fcm", "p", "d%d" % (number,), None, None, NOW, NOW)
            yield self.storage.use_recovery_token("V%d" % (number,) * 13, account_id, EARLIER, NOW)
            yield self.storage.add_reset_password_token(
                account_id, "r%d" % (number,), "owner%d@example.org" % (number,), None, None, NOW)
            yield self.storage.request_email_change(
                account_id, "new%d@example.org" % (number,), "s%d" % (number,), "4321", NOW)
            present = yield defer.maybeDeferred(self.count_dependents, account_id)
            self.assertEqual(counted(present), dict.fromkeys(DEPENDENTS, 1))
            ids.append(account_id)
        return ids

    @defer.inlineCallbacks
    def test_activation_admin_and_key(self):
        """Activation, admin rights and the API key can be changed, and report unknown accounts."""
        account_id = yield self.storage.create_account(new())
        account = yield self.storage.set_activated(account_id, True)
        self.assertTrue(account.activated)
        self.assertIsNone((yield self.storage.set_activated(account_id + 99, True)))
        self.assertTrue((yield self.storage.set_admin(account_id, True, NOW)))
        self.assertTrue((yield self.storage.set_admin(account_id, True, NOW)))
        self.assertEqual((yield defer.maybeDeferred(self.count_dependents, account_id))["admins"], 1)
        self.assertTrue((yield self.storage.set_admin(account_id, False, NOW)))
        self.assertIsNone((yield self.storage.get_account(account_id)).admin)
        self.assertFalse((yield self.storage.set_admin(account_id + 99, True, NOW)))
        yield self.storage.set_api_key(account_id, "first", NOW)
        yield self.storage.set_api_key(account_id, "second", NOW)
        self.assertEqual((yield self.storage.get_account(account_id)).api_key, "second")

    @defer.inlineCallbacks
    def test_ids_no_account_can_have(self):
        """Ids wider than any id column, or negative, are unknown accounts on every engine, never errors."""
        account_id = yield self.storage.create_account(new())
        for number in (2**31, 2**32, 2**63 - 1, 2**63, 2**70, -1, -(2**70)):
            self.assertIsNone((yield self.storage.get_account(number)), number)
            self.assertFalse((yield self.storage.delete_account(number)), number)
            self.assertIsNone((yield self.storage.set_activated(number, True)), number)
            self.assertFalse((yield self.storage.set_admin(number, True, NOW)), number)
            self.assertFalse((yield self.storage.set_api_key(number, "k", NOW)), number)
            self.assertFalse((yield self.storage.replace_passwords(number, ())), number)
            self.assertIsNone((yield self.storage.activate_with_code(number, "K" * 13)), number)
        self.assertEqual((yield self.storage.list_accounts(2**70, 20)), ([], 1))
        self.assertEqual((yield self.storage.delete_accounts([2**70, account_id, -(2**70)])), 1)

    @defer.inlineCallbacks
    def test_replace_passwords(self):
        """Replacing passwords leaves exactly the new ones."""
        account_id = yield self.storage.create_account(new())
        replaced = (Password("c" * 64, "SHA-256"), Password("d" * 32, "MD5"))
        self.assertTrue((yield self.storage.replace_passwords(account_id, replaced)))
        self.assertEqual((yield self.storage.get_account(account_id)).passwords, replaced)
        self.assertFalse((yield self.storage.replace_passwords(account_id + 99, replaced)))

    @defer.inlineCallbacks
    def test_unconfirmed_accounts(self):
        """Accounts not activated and older than the cut-off are listed and can be deleted."""
        old = yield self.storage.create_account(new(username="oldone", creation_time=EARLIER))
        yield self.storage.create_account(new(username="recent"))
        yield self.storage.create_account(new(username="active", activated=True, creation_time=EARLIER))
        listed = yield self.storage.list_unconfirmed(NOW - timedelta(days=30))
        self.assertEqual([account.id for account in listed], [old])
        self.assertEqual((yield self.storage.delete_accounts([old])), 1)
        self.assertIsNone((yield self.storage.get_account(old)))

    @defer.inlineCallbacks
    def test_nonce_counts_must_grow(self):
        """A nonce accepts growing counts, refuses a repeated one and is then burnt."""
        account_id = yield self.storage.create_account(new())
        before = NOW - timedelta(hours=1)
        yield self.storage.create_nonce(account_id, "nonce-a", NOW)
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce-a", 1, before, NOW)), "ok")
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce-a", 3, before, NOW)), "ok")
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce-a", 2, before, NOW)), "replayed")
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce-a", 4, before, NOW)), "invalid")
        self.assertEqual((yield self.storage.use_nonce(account_id, "unknown", 1, before, NOW)), "invalid")

    @defer.inlineCallbacks
    def test_first_use_creates_the_nonce(self):
        """A vouched-for nonce without a row is accepted at count 1 only, then counts like any other."""
        account_id = yield self.storage.create_account(new())
        before = NOW - timedelta(hours=1)
        issued = NOW - timedelta(seconds=10)
        for nc in (0, 2, 5):
            self.assertEqual(
                (yield self.storage.use_nonce(account_id, "fresh-x", nc, before, NOW, issued)), "invalid")
        self.assertEqual((yield self.storage.use_nonce(account_id, "fresh-x", 1, before, NOW)), "invalid")
        self.assertEqual((yield self.storage.use_nonce(account_id, "fresh-x", 1, before, NOW, issued)), "ok")
        self.assertEqual((yield self.storage.use_nonce(account_id, "fresh-x", 2, before, NOW, issued)), "ok")
        self.assertEqual(
            (yield self.storage.use_nonce(account_id, "fresh-x", 1, before, NOW, issued)), "replayed")
        # Burnt, and its row stays: no first use recreates it.
        self.assertEqual((yield self.storage.use_nonce(account_id, "fresh-x", 1, before, NOW, issued)), "invalid")
        self.assertEqual((yield self.storage.use_nonce(account_id, "fresh-x", 3, before, NOW, issued)), "invalid")

    @defer.inlineCallbacks
    def test_deleted_nonce_is_invalid_for_later_counts(self):
        """Once its row is purged, a nonce is refused for any count but a first use."""
        account_id = yield self.storage.create_account(new())
        before = NOW - timedelta(hours=1)
        issued = NOW - timedelta(hours=2)
        yield self.storage.use_nonce(account_id, "cleared", 1, NOW - timedelta(hours=3), issued, issued)
        self.assertEqual((yield self.storage.delete_nonces(NOW)), 1)
        for nc in (2, 3, 100):
            self.assertEqual(
                (yield self.storage.use_nonce(account_id, "cleared", nc, before, NOW, issued)), "invalid")

    @defer.inlineCallbacks
    def test_concurrent_first_uses_accept_one(self):
        """Of 16 concurrent first uses of one fresh nonce, exactly one is accepted and one row exists."""
        account_id = yield self.storage.create_account(new())
        results = yield defer.gatherResults([
            self.storage.use_nonce(account_id, "first-c", 1, NOW - timedelta(hours=1), NOW, NOW)
            for _ in range(16)
        ])
        self.assertEqual(results.count("ok"), 1)
        self.assertEqual((yield self.storage.delete_nonces(NOW + timedelta(hours=1))), 1)

    @defer.inlineCallbacks
    def test_limited_nonce_use_changes_nothing(self):
        """A full blocking bucket answers 'limited' and leaves the nonce unused."""
        account_id = yield self.storage.create_account(new())
        before = NOW - timedelta(hours=1)
        since = NOW - timedelta(minutes=15)
        yield self.storage.reserve_attempt(["secret:x"], 1, since, NOW)
        blocking = (("secret:x", 1, since),)
        self.assertEqual(
            (yield self.storage.use_nonce(account_id, "lim", 1, before, NOW, NOW, blocking)), "limited")
        self.assertEqual(
            (yield self.storage.use_nonce(account_id, "lim", 1, before, NOW, NOW, (("secret:x", 2, since),))),
            "ok")

    @defer.inlineCallbacks
    def test_nonce_counts_beyond_the_column(self):
        """A count wider than the nc column (8 hex digits allow 2**32 - 1) is invalid and leaves the nonce usable."""
        account_id = yield self.storage.create_account(new())
        before = NOW - timedelta(hours=1)
        yield self.storage.create_nonce(account_id, "nonce-w", NOW)
        for nc in (2**31, 2**32 - 1, 2**70):
            self.assertEqual(
                (yield self.storage.use_nonce(account_id, "nonce-w", nc, before, NOW)), "invalid")
        self.assertEqual(
            (yield self.storage.use_nonce(account_id, "nonce-w", 2**31 - 1, before, NOW)), "ok")

    @defer.inlineCallbacks
    def test_nonce_belongs_to_its_account_and_expires(self):
        """A nonce is invalid for another account and once older than the cut-off."""
        first = yield self.storage.create_account(new())
        second = yield self.storage.create_account(new(username="second"))
        yield self.storage.create_nonce(first, "nonce-b", NOW - timedelta(hours=2))
        self.assertEqual(
            (yield self.storage.use_nonce(second, "nonce-b", 1, NOW - timedelta(hours=3), NOW)), "invalid")
        self.assertEqual(
            (yield self.storage.use_nonce(first, "nonce-b", 1, NOW - timedelta(hours=1), NOW)), "invalid")

    @defer.inlineCallbacks
    def test_concurrent_nonce_use_accepts_one(self):
        """Of 16 concurrent uses of the same (nonce, nc), exactly one is accepted."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.create_nonce(account_id, "nonce-c", NOW)
        results = yield defer.gatherResults([
            self.storage.use_nonce(account_id, "nonce-c", 1, NOW - timedelta(hours=1), NOW)
            for _ in range(16)
        ])
        self.assertEqual(results.count("ok"), 1)

    @defer.inlineCallbacks
    def test_delete_unused_nonces(self):
        """Purging removes nonces unused since the cut-off and keeps recent ones."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.create_nonce(account_id, "stale", NOW - timedelta(hours=3))
        yield self.storage.create_nonce(account_id, "fresh", NOW)
        self.assertEqual((yield self.storage.delete_nonces(NOW - timedelta(hours=1))), 1)
        self.assertEqual(
            (yield self.storage.use_nonce(account_id, "fresh", 1, NOW - timedelta(hours=1), NOW)), "ok")

    @defer.inlineCallbacks
    def test_delete_nonces_in_batches(self):
        """A purge of more stale nonces than one batch holds deletes them all and keeps the fresh one."""
        self.storage.nonce_batch = 2
        account_id = yield self.storage.create_account(new())
        for number in range(5):
            yield self.storage.create_nonce(account_id, "stale%d" % (number,), NOW - timedelta(hours=3))
        yield self.storage.create_nonce(account_id, "fresh", NOW)
        self.assertEqual((yield self.storage.delete_nonces(NOW - timedelta(hours=1))), 5)
        self.assertEqual((yield self.storage.delete_nonces(NOW - timedelta(hours=1))), 0)
        self.assertEqual(
            (yield self.storage.use_nonce(account_id, "fresh", 1, NOW - timedelta(hours=1), NOW)), "ok")

    @defer.inlineCallbacks
    def test_setting_is_stable(self):
        """A setting keeps the first value stored, whatever later defaults say."""
        self.assertEqual((yield self.storage.get_setting("digest_opaque", "first")), "first")
        self.assertEqual((yield self.storage.get_setting("digest_opaque", "second")), "first")

    @defer.inlineCallbacks
    def test_confirmation_key_consumed_once(self):
        """A confirmation key provisions its account once, then is gone."""
        account_id = yield self.storage.create_account(new(confirmation_key="C" * 13))
        self.assertTrue((yield self.storage.confirmation_key_valid("C" * 13, NOW)))
        results = yield defer.gatherResults(
            [self.storage.consume_confirmation_key("C" * 13, NOW) for _ in range(4)])
        served = [account for account in results if account is not None]
        self.assertEqual([account.id for account in served], [account_id])
        self.assertEqual(len(served[0].passwords), 1)
        self.assertFalse((yield self.storage.confirmation_key_valid("C" * 13, NOW)))
        self.assertIsNone((yield self.storage.get_account(account_id)).confirmation_key)

    @defer.inlineCallbacks
    def test_expired_confirmation_key(self):
        """A key whose activation expired neither provisions nor counts as valid."""
        yield self.storage.create_account(new(
            confirmation_key="E" * 13, activation_expires=NOW - timedelta(minutes=1)))
        self.assertFalse((yield self.storage.confirmation_key_valid("E" * 13, NOW)))
        self.assertIsNone((yield self.storage.consume_confirmation_key("E" * 13, NOW)))

    @defer.inlineCallbacks
    def test_confirmation_key_matches_exactly(self):
        """A key differing only in case neither counts as valid nor provisions (MariaDB's collation ignores case)."""
        first = yield self.storage.create_account(new("lower", confirmation_key="keykeykeykeyk"))
        second = yield self.storage.create_account(new("upper", confirmation_key="KEYKEYKEYKEYK"))
        self.assertFalse((yield self.storage.confirmation_key_valid("KeyKeyKeyKeyK", NOW)))
        self.assertIsNone((yield self.storage.consume_confirmation_key("KeyKeyKeyKeyK", NOW)))
        served = yield self.storage.consume_confirmation_key("KEYKEYKEYKEYK", NOW)
        self.assertEqual(served.id, second)
        self.assertEqual((yield self.storage.get_account(first)).confirmation_key, "keykeykeykeyk")

    @defer.inlineCallbacks
    def test_blocked_confirmation_key_kept(self):
        """Unless blocked, a blocked account's key is given back unconsumed; without it, consumed."""
        account_id = yield self.storage.create_account(new(confirmation_key="B" * 13))
        yield self.storage.set_blocked(account_id, True)
        held = yield self.storage.consume_confirmation_key("B" * 13, NOW, unless_blocked=True)
        self.assertEqual((held.id, held.blocked), (account_id, True))
        self.assertTrue((yield self.storage.confirmation_key_valid("B" * 13, NOW)))
        self.assertEqual((yield self.storage.get_account(account_id)).confirmation_key, "B" * 13)
        voided = yield self.storage.consume_confirmation_key("B" * 13, NOW)
        self.assertEqual(voided.id, account_id)
        self.assertFalse((yield self.storage.confirmation_key_valid("B" * 13, NOW)))

    # ---------------------------------------------------------- FAM 2.x provisioning tokens

    @defer.inlineCallbacks
    def test_provisioning_token_lifecycle(self):
        """The newest issued token is current; it provisions once and activates; older ones never do."""
        account_id = yield self.storage.create_account(new(provisioning_token="first-token-1"))
        current = yield self.storage.current_provisioning_token(account_id)
        self.assertEqual((current.token, current.created_at), ("first-token-1", NOW))
        later = NOW + timedelta(minutes=1)
        self.assertTrue((yield self.storage.issue_provisioning_token(
            account_id, "second-token2", later, "192.0.2.1", "agent")))
        self.assertEqual((yield self.storage.current_provisioning_token(account_id)).token, "second-token2")
        self.assertFalse((yield self.storage.provisioning_token_unused("first-token-1")))
        self.assertTrue((yield self.storage.provisioning_token_unused("second-token2")))
        self.assertEqual(
            (yield self.storage.consume_provisioning_token("first-token-1", None, later)), ("stale", None))
        self.assertEqual(
            (yield self.storage.consume_provisioning_token("SECOND-TOKEN2", None, later)), ("unknown", None))
        self.assertEqual(
            (yield self.storage.consume_provisioning_token("nothing", None, later)), ("unknown", None))
        outcome, account = yield self.storage.consume_provisioning_token("second-token2", None, later)
        self.assertEqual((outcome, account.id, account.activated, len(account.passwords)),
                         ("ok", account_id, True, 1))
        self.assertTrue((yield self.storage.get_account(account_id)).activated)
        self.assertEqual(
            (yield self.storage.consume_provisioning_token("second-token2", None, later)), ("stale", None))
        # Consuming the current token never makes an older one current again.
        self.assertIsNone((yield self.storage.current_provisioning_token(account_id)))
        self.assertEqual(
            (yield self.storage.consume_provisioning_token("first-token-1", None, later)), ("stale", None))
        self.assertFalse((yield self.storage.issue_provisioning_token(account_id + 99, "x", NOW)))
        self.assertIsNone((yield self.storage.current_provisioning_token(account_id + 99)))
        self.assertIsNone((yield self.storage.current_provisioning_token(2**70)))

    @defer.inlineCallbacks
    def test_provisioning_token_expiry(self):
        """A current token issued before the cut-off is expired and stays unused."""
        account_id = yield self.storage.create_account(new(provisioning_token="old-token-123"))
        self.assertEqual(
            (yield self.storage.consume_provisioning_token("old-token-123", NOW + timedelta(seconds=1), NOW)),
            ("expired", None))
        self.assertFalse((yield self.storage.get_account(account_id)).activated)
        outcome, account = yield self.storage.consume_provisioning_token("old-token-123", NOW, NOW)
        self.assertEqual((outcome, account.id), ("ok", account_id))

    @defer.inlineCallbacks
    def test_concurrent_provisioning_token_consumed_once(self):
        """Of eight requests racing for one provisioning token, exactly one gets the account."""
        account_id = yield self.storage.create_account(new(provisioning_token="racing-token1"))
        results = yield defer.gatherResults(
            [self.storage.consume_provisioning_token("racing-token1", None, NOW) for _ in range(8)])
        self.assertEqual(sorted(outcome for outcome, _ in results), ["ok"] + ["stale"] * 7)
        self.assertEqual([account.id for _, account in results if account is not None], [account_id])

    @defer.inlineCallbacks
    def test_blocked_provisioning_token_refused(self):
        """A blocked account's token is refused with nothing written: unused, not activated, passwords kept."""
        account_id = yield self.storage.create_account(new(provisioning_token="blocked-token"))
        yield self.storage.set_blocked(account_id, True)
        asked = []
        outcome = yield self.storage.consume_provisioning_token(
            "blocked-token", None, NOW, lambda account: asked.append(account) or (Password("c" * 32, "MD5"),))
        self.assertEqual((outcome, asked), (("blocked", None), []))
        account = yield self.storage.get_account(account_id)
        self.assertEqual((account.activated, account.passwords), (False, (Password("0" * 32, "MD5"),)))
        self.assertEqual((yield self.storage.current_provisioning_token(account_id)).token, "blocked-token")
        self.assertTrue((yield self.storage.provisioning_token_unused("blocked-token")))
        yield self.storage.set_blocked(account_id, False)
        outcome, account = yield self.storage.consume_provisioning_token("blocked-token", None, NOW)
        self.assertEqual((outcome, account.id, account.activated), ("ok", account_id, True))

    @defer.inlineCallbacks
    def test_provisioning_token_resets_passwords_atomically(self):
        """new_passwords replaces the passwords in the consuming transaction; if it fails, nothing is consumed."""
        account_id = yield self.storage.create_account(new(provisioning_token="reset-token-1"))
        yield self.assertFailure(self.storage.consume_provisioning_token(
            "reset-token-1", None, NOW, lambda account: (Password(None, "MD5"),)), Exception)
        account = yield self.storage.get_account(account_id)
        self.assertEqual((account.activated, account.passwords), (False, (Password("0" * 32, "MD5"),)))
        self.assertTrue((yield self.storage.provisioning_token_unused("reset-token-1")))
        seen = []
        rows = (Password("c" * 64, "SHA-256"), Password("d" * 32, "MD5"))
        outcome, account = yield self.storage.consume_provisioning_token(
            "reset-token-1", None, NOW, lambda account: seen.append(account.id) or rows)
        self.assertEqual((outcome, seen, account.activated), ("ok", [account_id], True))
        self.assertEqual(set(account.passwords), set(rows))
        self.assertEqual(set((yield self.storage.get_account(account_id)).passwords), set(rows))
        self.assertFalse((yield self.storage.provisioning_token_unused("reset-token-1")))

    # ---------------------------------------------------------- FAM 2.x auth tokens

    @defer.inlineCallbacks
    def test_auth_token_attached_once_and_taken_once(self):
        """A fresh token is attached once, then traded once for its account; others refuse."""
        account_id = yield self.storage.create_account(new())
        other = yield self.storage.create_account(new("other"))
        since = NOW - timedelta(minutes=5)
        self.assertIsInstance((yield self.storage.add_auth_token("A" * 32, NOW, "192.0.2.1", "ua")), int)
        self.assertIsNone((yield self.storage.take_auth_token("A" * 32, since)))
        self.assertFalse((yield self.storage.attach_auth_token("a" * 32, account_id, since, NOW)))
        self.assertFalse((yield self.storage.attach_auth_token(
            "A" * 32, account_id, NOW + timedelta(seconds=1), NOW)))
        self.assertTrue((yield self.storage.attach_auth_token("A" * 32, account_id, since, NOW)))
        self.assertFalse((yield self.storage.attach_auth_token("A" * 32, other, since, NOW)))
        self.assertIsNone((yield self.storage.take_auth_token("a" * 32, since)))
        self.assertIsNone((yield self.storage.take_auth_token("A" * 32, NOW + timedelta(seconds=1))))
        taken = yield defer.gatherResults([self.storage.take_auth_token("A" * 32, since) for _ in range(6)])
        found = [account for account in taken if account is not None]
        self.assertEqual([(account.id, len(account.passwords)) for account in found], [(account_id, 1)])
        self.assertIsNone((yield self.storage.take_auth_token("A" * 32, since)))

    @defer.inlineCallbacks
    def test_concurrent_auth_token_attached_once(self):
        """Of several accounts racing to attach one token, exactly one wins."""
        ids = []
        for number in range(6):
            ids.append((yield self.storage.create_account(new("racer%d" % (number,)))))
        yield self.storage.add_auth_token("B" * 32, NOW)
        results = yield defer.gatherResults([
            self.storage.attach_auth_token("B" * 32, account_id, NOW, NOW) for account_id in ids])
        self.assertEqual(results.count(True), 1)
        account = yield self.storage.take_auth_token("B" * 32, NOW)
        self.assertEqual(account.id, ids[results.index(True)])

    @defer.inlineCallbacks
    def test_delete_old_auth_tokens(self):
        """Purging removes the tokens made before the cut-off only."""
        yield self.storage.add_auth_token("old", NOW - timedelta(hours=1))
        yield self.storage.add_auth_token("new", NOW)
        self.assertEqual((yield self.storage.delete_auth_tokens(NOW - timedelta(minutes=5))), 1)
        account_id = yield self.storage.create_account(new())
        self.assertTrue((yield self.storage.attach_auth_token("new", account_id, NOW, NOW)))
        self.assertFalse((yield self.storage.attach_auth_token("old", account_id, EARLIER, NOW)))

    @defer.inlineCallbacks
    def test_blocked_auth_token_kept(self):
        """A blocked account is given back as it is, its attached token kept and its passwords untouched."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.add_auth_token("C" * 32, NOW)
        self.assertTrue((yield self.storage.attach_auth_token("C" * 32, account_id, NOW, NOW)))
        yield self.storage.set_blocked(account_id, True)
        asked = []
        held = yield self.storage.take_auth_token(
            "C" * 32, NOW, lambda account: asked.append(account) or (Password("c" * 32, "MD5"),))
        self.assertEqual((held.id, held.blocked, held.passwords, asked),
                         (account_id, True, (Password("0" * 32, "MD5"),), []))
        self.assertEqual((yield self.storage.get_account(account_id)).passwords, (Password("0" * 32, "MD5"),))
        yield self.storage.set_blocked(account_id, False)
        self.assertEqual((yield self.storage.take_auth_token("C" * 32, NOW)).id, account_id)
        self.assertIsNone((yield self.storage.take_auth_token("C" * 32, NOW)))

    @defer.inlineCallbacks
    def test_auth_token_resets_passwords_atomically(self):
        """new_passwords replaces the passwords as the token is taken; if it fails, the token stays."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.add_auth_token("D" * 32, NOW)
        yield self.storage.attach_auth_token("D" * 32, account_id, NOW, NOW)
        yield self.assertFailure(
            self.storage.take_auth_token("D" * 32, NOW, lambda account: (Password(None, "MD5"),)), Exception)
        self.assertEqual((yield self.storage.get_account(account_id)).passwords, (Password("0" * 32, "MD5"),))
        rows = (Password("e" * 64, "SHA-256"),)
        account = yield self.storage.take_auth_token("D" * 32, NOW, lambda account: rows)
        self.assertEqual((account.id, account.passwords), (account_id, rows))
        self.assertEqual((yield self.storage.get_account(account_id)).passwords, rows)
        self.assertIsNone((yield self.storage.take_auth_token("D" * 32, NOW)))

    # ---------------------------------------------------------- ISignUpStore, IRecoveryTokenStore

    @defer.inlineCallbacks
    def test_device_token_rules(self):
        """A 2.x push replaces the device's unused token; a token of the window used refuses it."""
        device = ("fcm", "p", "d")
        self.assertIsNone((yield self.storage.add_device_token("A" * 13, *device, "1.2.3.4", "ua", NOW, EARLIER)))
        self.assertIsNone((yield self.storage.add_device_token("B" * 13, *device, None, None, NOW, EARLIER)))
        self.assertIsNone((yield self.storage.creation_token("A" * 13)))
        stored = yield self.storage.creation_token("B" * 13)
        self.assertEqual((stored.pn_provider, stored.pn_prid, stored.used, stored.account_id, stored.created_at),
                         ("fcm", "d", False, None, NOW))
        self.assertEqual((yield self.storage.device_tokens(*device, EARLIER)), [(NOW, False)])
        account_id = yield self.storage.create_account(new(token="B" * 13))
        self.assertEqual((yield self.storage.creation_token("B" * 13)).account_id, account_id)
        self.assertEqual((yield self.storage.device_tokens(*device, EARLIER)), [(NOW, True)])
        self.assertEqual((yield self.storage.add_device_token("E" * 13, *device, None, None, NOW, EARLIER)), NOW)
        self.assertIsNone((yield self.storage.creation_token("E" * 13)))
        self.assertEqual((yield self.storage.device_tokens(*device, NOW)), [])
        self.assertIsNone((yield self.storage.add_device_token("E" * 13, *device, None, None, NOW, NOW)))
        self.assertEqual((yield self.storage.creation_token("B" * 13)).used, True)

    @defer.inlineCallbacks
    def test_creation_token_consumed_once(self):
        """A token is consumed by one account, with the request's address and agent, and only by exact text."""
        account_id = yield self.storage.create_account(new())
        made = yield self.storage.add_plain_token("Tok" * 4 + "x", "10.0.0.1", "admin", NOW)
        self.assertEqual((made.token, made.pn_provider, made.used, made.ip, made.user_agent),
                         ("Tok" * 4 + "x", "", False, "10.0.0.1", "admin"))
        self.assertIsNone((yield self.storage.consume_creation_token("TOK" * 4 + "x", account_id, None, None, NOW)))
        results = yield defer.gatherResults([
            self.storage.consume_creation_token("Tok" * 4 + "x", account_id, "10.0.0.2", "app", NOW)
            for _ in range(6)])
        [used] = [each for each in results if each is not None]
        self.assertEqual((used.used, used.account_id, used.ip, used.user_agent), (True, account_id, "10.0.0.2", "app"))
        self.assertIsNone((yield self.storage.unused_token("Tok" * 4 + "x")))

    @defer.inlineCallbacks
    def test_request_token_lifecycle(self):
        """A request token is traded once, only after validation, for a linked creation token."""
        yield self.storage.add_request_token("R" * 13, NOW)
        pending = yield self.storage.request_token("R" * 13)
        self.assertEqual((pending.used, pending.validated_at, pending.acc_creation_token_id), (False, None, None))
        self.assertIsNone((yield self.storage.request_token("r" * 13)))
        self.assertIsNone((yield self.storage.trade_request_token("R" * 13, "N" * 13, None, None, NOW)))
        self.assertTrue((yield self.storage.validate_request_token("R" * 13, "1.2.3.4", "browser", NOW)))
        self.assertFalse((yield self.storage.validate_request_token("R" * 13, "1.2.3.4", "browser", NOW)))
        results = yield defer.gatherResults([
            self.storage.trade_request_token("R" * 13, "N%02d" % (n,) + "n" * 10, "5.6.7.8", "desk", NOW + timedelta(days=1))
            for n in range(6)])
        [made] = [each for each in results if each is not None]
        self.assertEqual((made.used, made.pn_prid, made.ip, made.user_agent, made.created_at),
                         (False, "", "5.6.7.8", "desk", NOW + timedelta(days=1)))
        traded = yield self.storage.request_token("R" * 13)
        self.assertEqual((traded.used, traded.validated_at, traded.acc_creation_token_id), (True, NOW, made.id))
        self.assertEqual((yield self.storage.unused_token(made.token)), made.token)

    @defer.inlineCallbacks
    def test_recovery_token_used_once_before_expiry(self):
        """A recovery token is used once, not after it expired; a used one refuses the device a new one."""
        device = ("apns", "p", "d")
        self.assertIsNone((yield self.storage.add_recovery_token("V" * 13, *device, "1.2.3.4", "ua", NOW, EARLIER)))
        found = yield self.storage.recovery_token("V" * 13, NOW)
        self.assertEqual((found.pn_provider, found.used, found.account_id, found.created_at), ("apns", False, None, NOW))
        self.assertIsNone((yield self.storage.recovery_token("V" * 13, NOW + timedelta(seconds=1))))
        self.assertIsNone((yield self.storage.recovery_token("v" * 13, EARLIER)))
        self.assertIsNone((yield self.storage.recovery_used_since(*device, EARLIER)))
        account_id = yield self.storage.create_account(new())
        results = yield defer.gatherResults([
            self.storage.use_recovery_token("V" * 13, account_id, EARLIER, NOW) for _ in range(6)])
        self.assertEqual(len([each for each in results if each is not None]), 1)
        self.assertIsNone((yield self.storage.recovery_token("V" * 13, EARLIER)))
        self.assertEqual((yield self.storage.recovery_used_since(*device, EARLIER)), NOW)
        self.assertEqual((yield self.storage.add_recovery_token("W" * 13, *device, None, None, NOW, EARLIER)), NOW)
        self.assertIsNone((yield self.storage.recovery_token("W" * 13, EARLIER)))
        self.assertIsNone((yield self.storage.add_recovery_token("W" * 13, *device, None, None, NOW + timedelta(days=1), NOW)))

    # ---------------------------------------------------------- ILinkingStore

    @defer.inlineCallbacks
    def test_email_code_applies_once_and_activates(self):
        """One request records the link and the code; the code applies once, removes both and activates."""
        account_id = yield self.storage.create_account(new(email="old@example.org"))
        yield self.storage.request_email_change(
            account_id, "first@example.org", "s" * 32, "1111", EARLIER, "192.0.2.1", "first")
        yield self.storage.request_email_change(
            account_id, "new@example.org", "t" * 32, "2222", NOW, "192.0.2.2", "Linphone/6.0")
        pending = yield self.storage.email_code(account_id)
        self.assertEqual(pending, EmailCode(account_id, "new@example.org", "2222", NOW,
                                            "192.0.2.2", "Linphone/6.0"))
        self.assertNotIn("2222", repr(pending))
        self.assertIsNone((yield self.storage.email_change("s" * 32)))
        self.assertEqual((yield self.storage.get_account(account_id)).email_changed.new_email,
                         "new@example.org")
        self.assertIsNone((yield self.storage.apply_email_code(account_id, "1111")))
        account = yield self.storage.apply_email_code(account_id, "2222")
        self.assertEqual((account.email, account.activated, account.email_changed),
                         ("new@example.org", True, None))
        self.assertIsNone((yield self.storage.email_code(account_id)))
        self.assertIsNone((yield self.storage.email_change("t" * 32)))
        self.assertIsNone((yield self.storage.apply_email_code(account_id, "2222")))
        self.assertIsNone((yield self.storage.apply_email_change(account_id, "t" * 32)))

    @defer.inlineCallbacks
    def test_email_link_removes_code(self):
        """Confirming by the 2021 link removes the 2.x code and activates the account."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.request_email_change(account_id, "new@example.org", "t" * 32, "2222", NOW)
        self.assertEqual((yield self.storage.apply_email_change(account_id, "t" * 32)), "new@example.org")
        self.assertIsNone((yield self.storage.email_code(account_id)))
        self.assertIsNone((yield self.storage.apply_email_code(account_id, "2222")))
        self.assertTrue((yield self.storage.get_account(account_id)).activated)

    @defer.inlineCallbacks
    def test_drop_email_code_keeps_link(self):
        """drop_email_code removes the code only while it is that code; the link stays."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.request_email_change(account_id, "new@example.org", "t" * 32, "2222", NOW)
        self.assertFalse((yield self.storage.drop_email_code(account_id, "9999")))
        self.assertTrue((yield self.storage.drop_email_code(account_id, "2222")))
        self.assertIsNone((yield self.storage.email_code(account_id)))
        self.assertEqual((yield self.storage.email_change("t" * 32)).account_id, account_id)

    @defer.inlineCallbacks
    def test_concurrent_email_code_applies_once(self):
        """Of eight simultaneous confirmations with one code exactly one applies it."""
        account_id = yield self.storage.create_account(new())
        yield self.storage.request_email_change(account_id, "new@example.org", "t" * 32, "2222", NOW)
        results = yield defer.gatherResults(
            [self.storage.apply_email_code(account_id, "2222") for _ in range(8)])
        self.assertEqual(len([each for each in results if each is not None]), 1)

    @defer.inlineCallbacks
    def test_phone_change_keeps_time_and_origin_and_activates(self):
        """A pending phone change reads back its creation time; applying it activates the account."""
        account_id = yield self.storage.create_account(new(activated=False))
        yield self.storage.set_phone_change(account_id, "+33600000002", "1111", NOW,
                                            "192.0.2.1", "Linphone/6.0")
        pending = yield self.storage.phone_change(account_id)
        self.assertEqual((pending, pending.created_at),
                         (PhoneChange(account_id, "+33600000002", "1111"), NOW))
        account = yield self.storage.apply_phone_change(account_id, "1111")
        self.assertEqual((account.phone, account.activated), ("+33600000002", True))

    @defer.inlineCallbacks
    def test_linking_unknown_accounts(self):
        """Unknown or impossible ids have no code and no consumed token; a fresh account has no token."""
        account_id = yield self.storage.create_account(new())
        self.assertFalse((yield self.storage.creation_token_consumed(account_id)))
        for number in (account_id + 99, 2**70, -1):
            self.assertIsNone((yield self.storage.email_code(number)), number)
            self.assertIsNone((yield self.storage.apply_email_code(number, "1234")), number)
            self.assertFalse((yield self.storage.drop_email_code(number, "1234")), number)
            self.assertFalse((yield self.storage.creation_token_consumed(number)), number)
