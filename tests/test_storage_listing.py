"""
What the fast paths of the storage must keep exact, on every engine: the
admin listing's pages (dense ids, ids with gaps, from either end), an
account loaded in one statement with everything that hangs off it, and
nonce checks on an account holding many nonces.
"""

from datetime import timedelta

from twisted.internet import defer
from twisted.trial import unittest

from famd.clock import text
from famd.model import EmailChange, Password, Timestamps
from famd.testing.storage_contract import NOW, new
from tests.engines import on_engines, open_storage


def insert_expiration_txn(txn, account_id, expires):
    txn.insert("activation_expirations", {
        "account_id": account_id, "expires": expires,
        "created_at": text(NOW), "updated_at": text(NOW)})


class ListingContract:
    """Mixed into a TestCase whose C{make_storage()} fires with an empty, opened storage."""

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield self.make_storage()

    @defer.inlineCallbacks
    def create(self, count, prefix="user"):
        ids = []
        for number in range(count):
            ids.append((yield self.storage.create_account(new("%s%03d" % (prefix, number)))))
        return ids

    @defer.inlineCallbacks
    def assertPages(self, ids, limit):
        """Every page of C{limit}, and the pages past the end, hold exactly the expected ids."""
        ids = sorted(ids)
        for offset in range(0, len(ids) + 2 * limit, limit):
            page, total = yield self.storage.list_accounts(offset, limit)
            self.assertEqual(([a.id for a in page], total), (ids[offset:offset + limit], len(ids)),
                             "offset %d" % (offset,))

    @defer.inlineCallbacks
    def test_dense_ids(self):
        """Ids without gaps: each page holds the accounts of its ranks, by id."""
        ids = yield self.create(23)
        yield self.assertPages(ids, 5)

    @defer.inlineCallbacks
    def test_dense_ids_not_starting_at_one(self):
        """Ids without gaps above deleted first accounts: pages still start at the right id."""
        ids = yield self.create(20)
        for account_id in ids[:6]:
            yield self.storage.delete_account(account_id)
        yield self.assertPages(ids[6:], 4)

    @defer.inlineCallbacks
    def test_ids_with_gaps(self):
        """Deleted accounts in the middle and near both ends: every offset is still exact."""
        ids = yield self.create(31)
        deleted = {ids[1], ids[2], ids[9], ids[15], ids[16], ids[17], ids[28], ids[29]}
        for account_id in deleted:
            yield self.storage.delete_account(account_id)
        remaining = [account_id for account_id in ids if account_id not in deleted]
        for limit in (1, 3, 7):
            yield self.assertPages(remaining, limit)
        for offset in range(len(remaining)):
            page, _ = yield self.storage.list_accounts(offset, 4)
            self.assertEqual([a.id for a in page], remaining[offset:offset + 4], offset)

    @defer.inlineCallbacks
    def test_empty(self):
        """No account: an empty page and a total of zero."""
        self.assertEqual((yield self.storage.list_accounts(0, 20)), ([], 0))

    @defer.inlineCallbacks
    def test_listed_accounts_carry_their_rows(self):
        """A listed account has its phone, latest activation expiration and e-mail change."""
        plain, = yield self.create(1, "plain")
        rich = yield self.storage.create_account(new(
            "rich", phone="+33612345678", activation_expires=NOW + timedelta(days=1)))
        yield self.storage.write("insert_expiration", insert_expiration_txn, rich, text(NOW + timedelta(days=2)))
        yield self.storage.set_email_change(rich, "new@example.org", "s" * 32, NOW)
        page, total = yield self.storage.list_accounts(0, 10)
        self.assertEqual(total, 2)
        first, second = page
        self.assertEqual((first.id, first.phone, first.activation_expiration, first.email_changed),
                         (plain, None, None, None))
        self.assertEqual((second.id, second.phone), (rich, "+33612345678"))
        self.assertEqual(second.activation_expiration.expires, NOW + timedelta(days=2))
        self.assertEqual(second.email_changed, EmailChange(rich, "new@example.org", NOW))
        self.assertEqual((first.creation_time, second.creation_time), (NOW, NOW))
        self.assertEqual(second.passwords, ())

    @defer.inlineCallbacks
    def test_loaded_account_in_full(self):
        """find_account and get_account load passwords in order, admin, key, latest expiration, e-mail change."""
        passwords = (Password("a" * 32, "MD5"), Password("b" * 64, "SHA-256"))
        account_id = yield self.storage.create_account(new(
            "full", passwords=passwords, admin=True, api_key="k" * 40, phone="+33600000001",
            activation_expires=NOW + timedelta(days=1)))
        yield self.storage.write("insert_expiration", insert_expiration_txn, account_id, text(NOW + timedelta(days=3)))
        yield self.storage.set_email_change(account_id, "next@example.org", "t" * 32, NOW)
        found = yield self.storage.find_account("full", "sip.example.org")
        got = yield self.storage.get_account(account_id)
        self.assertEqual(found, got)
        self.assertEqual(found.passwords, passwords)
        self.assertIsNotNone(found.admin)
        self.assertEqual((found.api_key, found.phone), ("k" * 40, "+33600000001"))
        self.assertEqual(found.activation_expiration.expires, NOW + timedelta(days=3))
        self.assertEqual(found.email_changed, EmailChange(account_id, "next@example.org", NOW))
        self.assertEqual(found.admin, Timestamps(NOW, NOW))
        bare = yield self.storage.create_account(new("bare", passwords=()))
        loaded = yield self.storage.get_account(bare)
        self.assertEqual((loaded.passwords, loaded.admin, loaded.api_key), ((), None, None))
        self.assertIsNone((yield self.storage.find_account("nobody", "sip.example.org")))
        self.assertIsNone((yield self.storage.get_account(bare + 1000)))

    @defer.inlineCallbacks
    def test_nonce_among_many_of_one_account(self):
        """An account holding many nonces: each is accepted once, replays and strangers refused."""
        account_id, other = yield self.create(2)
        for number in range(60):
            yield self.storage.create_nonce(account_id, "nonce%02d" % (number,), NOW)
        not_before = NOW - timedelta(hours=1)
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce42", 1, not_before, NOW)), "ok")
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce42", 2, not_before, NOW)), "ok")
        self.assertEqual((yield self.storage.use_nonce(other, "nonce43", 1, not_before, NOW)), "invalid")
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce42", 2, not_before, NOW)),
                         "replayed")
        self.assertEqual((yield self.storage.use_nonce(account_id, "nonce42", 3, not_before, NOW)),
                         "invalid")


class ListingTests(ListingContract, unittest.TestCase):
    """The listing and loading paths."""

    def make_storage(self):
        return open_storage(self)


globals().update(on_engines(ListingTests))
