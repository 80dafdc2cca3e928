"""
The contract of L{famd.interfaces.IAccountAdminStore}, what the account
panel's administrator pages read and write: one mixin every storage
provider passes (the in-memory one and the three SQL engines).  Mix
L{AccountAdminContract} into a trial TestCase whose C{make_storage()}
returns a Deferred of an opened, empty storage.
"""

from datetime import timedelta

from twisted.internet import defer
from zope.interface.verify import verifyObject

from famd.interfaces import IAccountAdminStore
from famd.testing.storage_contract import NOW, new


class AccountAdminContract:
    """What every storage owes the administrator pages."""

    def make_storage(self):
        raise NotImplementedError("return a Deferred of an opened, empty storage")

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield self.make_storage()
        self.alice = yield self.storage.create_account(
            new("alice", email="Alice@Example.org", activated=True, admin=True))
        self.bob = yield self.storage.create_account(
            new("bob", email="bob@example.net", phone="+33612345678", activated=True))
        self.carol = yield self.storage.create_account(new("carol", activated=False))
        self.dave = yield self.storage.create_account(
            new("dave_x", domain="other.example.com", activated=True))
        yield self.storage.set_blocked(self.dave, True)

    def search(self, text=None, activated=None, admin=None, blocked=None, offset=0, limit=20):
        d = self.storage.search_accounts(text, activated, admin, blocked, offset, limit)
        return d.addCallback(lambda found: ([each.username for each in found[0]], found[1]))

    def test_interface(self):
        """The provider implements every method of IAccountAdminStore."""
        self.assertTrue(verifyObject(IAccountAdminStore, self.storage))

    @defer.inlineCallbacks
    def test_everyone(self):
        """No text and no filter: every account by id, and their number."""
        self.assertEqual((yield self.search()), (["alice", "bob", "carol", "dave_x"], 4))
        self.assertEqual((yield self.search("  ")), (["alice", "bob", "carol", "dave_x"], 4))

    @defer.inlineCallbacks
    def test_pages(self):
        """Offset and limit cut the page; the number counts every match; past the end is empty."""
        self.assertEqual((yield self.search(offset=1, limit=2)), (["bob", "carol"], 4))
        self.assertEqual((yield self.search(offset=4, limit=2)), ([], 4))
        self.assertEqual((yield self.search(offset=2**62, limit=2)), ([], 4))

    @defer.inlineCallbacks
    def test_listing_values(self):
        """A found account is the listing's: its phone, e-mail and state, no passwords."""
        found, _ = yield self.storage.search_accounts("bob", None, None, None, 0, 20)
        self.assertEqual(len(found), 1)
        self.assertEqual((found[0].id, found[0].phone, found[0].email, found[0].activated,
                          found[0].passwords), (self.bob, "+33612345678", "bob@example.net", True, ()))

    @defer.inlineCallbacks
    def test_by_username(self):
        """A piece of a username finds it, whatever its case."""
        self.assertEqual((yield self.search("LIC")), (["alice"], 1))

    @defer.inlineCallbacks
    def test_by_email(self):
        """A piece of an e-mail address finds it, whatever its case."""
        self.assertEqual((yield self.search("example.org")), (["alice"], 1))
        self.assertEqual((yield self.search("BOB@EXAMPLE")), (["bob"], 1))

    @defer.inlineCallbacks
    def test_by_phone(self):
        """A piece of a phone alias finds its account."""
        self.assertEqual((yield self.search("+336123")), (["bob"], 1))

    @defer.inlineCallbacks
    def test_by_sip_address(self):
        """A SIP address, with or without sip:, or a piece across its @, finds its account."""
        self.assertEqual((yield self.search("sip:carol@sip.example.org")), (["carol"], 1))
        self.assertEqual((yield self.search("ve_x@other.ex")), (["dave_x"], 1))
        self.assertEqual((yield self.search("carol@other")), ([], 0))

    @defer.inlineCallbacks
    def test_wildcards_are_text(self):
        """LIKE's wildcards and the escape character in the text match only themselves."""
        self.assertEqual((yield self.search("_")), (["dave_x"], 1))
        self.assertEqual((yield self.search("%")), ([], 0))
        self.assertEqual((yield self.search("!")), ([], 0))
        self.assertEqual((yield self.search("a%e")), ([], 0))

    @defer.inlineCallbacks
    def test_filters(self):
        """Activated, admin and blocked filter both ways, with the text too."""
        self.assertEqual((yield self.search(activated=False)), (["carol"], 1))
        self.assertEqual((yield self.search(activated=True))[1], 3)
        self.assertEqual((yield self.search(admin=True)), (["alice"], 1))
        self.assertEqual((yield self.search(admin=False))[1], 3)
        self.assertEqual((yield self.search(blocked=True)), (["dave_x"], 1))
        self.assertEqual((yield self.search(blocked=False))[1], 3)
        self.assertEqual((yield self.search("carol", activated=True, admin=False, blocked=False)),
                         ([], 0))
        self.assertEqual((yield self.search("o", activated=True, admin=False, blocked=False)),
                         (["bob"], 1))

    @defer.inlineCallbacks
    def test_api_key_made_and_deleted(self):
        """An API key's making time reads back; deleting it leaves none, once."""
        self.assertIsNone((yield self.storage.api_key_made(self.alice)))
        yield self.storage.set_api_key(self.alice, "k" * 40, NOW - timedelta(hours=1))
        self.assertEqual((yield self.storage.api_key_made(self.alice)), NOW - timedelta(hours=1))
        self.assertTrue((yield self.storage.delete_api_key(self.alice)))
        self.assertIsNone((yield self.storage.api_key_made(self.alice)))
        self.assertIsNone((yield self.storage.get_account(self.alice)).api_key)
        self.assertFalse((yield self.storage.delete_api_key(self.alice)))

    @defer.inlineCallbacks
    def test_unknown_accounts(self):
        """Any int names an account: an unknown one has no key to read or delete."""
        for unknown in (999999, -1, 2**70):
            self.assertIsNone((yield self.storage.api_key_made(unknown)))
            self.assertFalse((yield self.storage.delete_api_key(unknown)))
