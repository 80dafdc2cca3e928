"""
GET /api/accounts (the 2021 pagination object) and the storage trips each
account endpoint makes, through the real /api resource tree on every storage
engine.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.accounts import new_account
from famd.api import render
from famd.testing.storage_contract import NOW
from tests.api_helpers import ADMIN_KEY, PUBLIC_URL
from tests.engines import on_engines
from tests.serving import serve

PAGE_1 = (
    '{"current_page":1,"data":[{"id":1,"username":"user","domain":"sip.example.org",'
    '"email":"user@example.org","activated":true,"ip_address":"127.0.0.1","user_agent":"seed",'
    '"creation_time":"2021-06-01 10:00:00","realm":null,"phone":null,'
    '"confirmation_key_expires":null,"email_changed":null,"activation_expiration":null},'
    '{"id":2,"username":"bob","domain":"sip.example.org","email":null,"activated":true,'
    '"ip_address":"127.0.0.1","user_agent":"seed","creation_time":"2021-06-01 10:05:00",'
    '"realm":null,"phone":null,"confirmation_key_expires":null,"email_changed":null,'
    '"activation_expiration":null},{"id":3,"username":"carol","domain":"sip.example.org",'
    '"email":null,"activated":false,"ip_address":"127.0.0.1","user_agent":"seed",'
    '"creation_time":"2021-06-01 10:10:00","realm":null,"phone":null,'
    '"confirmation_key_expires":null,"email_changed":null,"activation_expiration":null}],'
    '"first_page_url":"http://127.0.0.1:8091/api/accounts?page=1","from":1,"last_page":1,'
    '"last_page_url":"http://127.0.0.1:8091/api/accounts?page=1","links":[{"url":null,'
    '"label":"&laquo; Previous","active":false},{"url":"http://127.0.0.1:8091/api/accounts?page=1",'
    '"label":"1","active":true},{"url":null,"label":"Next &raquo;","active":false}],'
    '"next_page_url":null,"path":"http://127.0.0.1:8091/api/accounts","per_page":20,'
    '"prev_page_url":null,"to":3,"total":3}'
)
PAGE_2 = (
    '{"current_page":2,"data":[],"first_page_url":"http://127.0.0.1:8091/api/accounts?page=1",'
    '"from":null,"last_page":1,"last_page_url":"http://127.0.0.1:8091/api/accounts?page=1",'
    '"links":[{"url":"http://127.0.0.1:8091/api/accounts?page=1","label":"&laquo; Previous",'
    '"active":false},{"url":"http://127.0.0.1:8091/api/accounts?page=1","label":"1",'
    '"active":false},{"url":null,"label":"Next &raquo;","active":false}],"next_page_url":null,'
    '"path":"http://127.0.0.1:8091/api/accounts","per_page":20,'
    '"prev_page_url":"http://127.0.0.1:8091/api/accounts?page=1","to":null,"total":3}'
)


class ListingTests(unittest.TestCase):
    """The admin listing."""

    @defer.inlineCallbacks
    def setUp(self):
        self.api = yield serve(self)

    def page(self, query=""):
        return self.api.request("GET", "/accounts" + query, key=ADMIN_KEY)

    @defer.inlineCallbacks
    def test_first_and_empty_pages(self):
        """Pages 1 and 2 of three accounts are the 2021 objects, byte for byte."""
        code, _, body = yield self.page()
        self.assertEqual((code, body.decode()), (200, PAGE_1))
        code, _, body = yield self.page("?page=2")
        self.assertEqual((code, body.decode()), (200, PAGE_2))

    @defer.inlineCallbacks
    def test_pages_of_twenty_by_id(self):
        """45 accounts make 3 pages of 20 ordered by id, with previous and next links."""
        for number in range(42):
            yield self.api.storage.create_account(new_account(
                self.api.config, NOW, "listed%02d" % (number,), "secret1", "MD5"))
        code, body, _ = yield self.api.json("GET", "/accounts?page=2", key=ADMIN_KEY)
        self.assertEqual(code, 200)
        self.assertEqual([a["id"] for a in body["data"]], list(range(21, 41)))
        self.assertEqual((body["from"], body["to"], body["total"], body["last_page"]),
                         (21, 40, 45, 3))
        self.assertEqual(body["prev_page_url"], PUBLIC_URL + "/api/accounts?page=1")
        self.assertEqual(body["next_page_url"], PUBLIC_URL + "/api/accounts?page=3")
        self.assertEqual([l["label"] for l in body["links"]],
                         ["&laquo; Previous", "1", "2", "3", "Next &raquo;"])
        self.assertEqual([l["active"] for l in body["links"]], [False, False, True, False, False])
        code, body, _ = yield self.api.json("GET", "/accounts?page=3", key=ADMIN_KEY)
        self.assertEqual(([a["id"] for a in body["data"]], body["next_page_url"]),
                         (list(range(41, 46)), None))

    @defer.inlineCallbacks
    def test_odd_page_numbers(self):
        """A page that is not a positive integer is page 1; a huge one is an empty page."""
        for query in ("?page=0", "?page=-3", "?page=abc", "?page=", "?page=99999999999999999999999",
                      "?page=" + "9" * 5000):
            code, body, _ = yield self.api.json("GET", "/accounts" + query, key=ADMIN_KEY)
            self.assertEqual((code, body["current_page"], len(body["data"])), (200, 1, 3), query)
        code, body, _ = yield self.api.json("GET", "/accounts?page=9223372036854775807", key=ADMIN_KEY)
        self.assertEqual((code, body["data"], body["from"]), (200, [], None))

    def test_links_stay_small(self):
        """The links of a 50,000-page listing are Laravel's bounded window."""
        labels = [l["label"] for l in render.page(self.api.config, [], 25000, 20, 10**6)["links"]]
        self.assertEqual(labels, ["&laquo; Previous", "1", "2", "...", "24997", "24998", "24999",
                                  "25000", "25001", "25002", "25003", "...", "49999", "50000",
                                  "Next &raquo;"])
        self.assertEqual(render.window(2, 50000), list(range(1, 11)) + [None, 49999, 50000])
        self.assertEqual(render.window(49998, 50000), [1, 2, None] + list(range(49991, 50001)))
        self.assertEqual(render.window(5, 13), list(range(1, 14)))


class CountingStorage:
    """The real storage, counting the calls (trips to the storage thread) made on it."""

    def __init__(self, storage):
        self._storage = storage
        self.calls = []

    def __getattr__(self, name):
        method = getattr(self._storage, name)

        def counted(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


class TripTests(unittest.TestCase):
    """Each request makes one storage trip for its work beside authentication's."""

    @defer.inlineCallbacks
    def setUp(self):
        seeded = yield serve(self)
        self.storage = CountingStorage(seeded.storage)
        self.api = yield serve(self, storage=self.storage)

    @defer.inlineCallbacks
    def check(self, method, path, expected, body=None):
        del self.storage.calls[:]
        code, _, _ = yield self.api.request(method, path, key=ADMIN_KEY, body=body)
        self.assertEqual(code, 200, path)
        self.assertEqual(self.storage.calls, expected, path)

    @defer.inlineCallbacks
    def test_trips(self):
        """me: 1 trip; create, list, show, activate, delete: authentication + 1."""
        yield self.check("GET", "/accounts/me", ["find_account"])
        yield self.check("GET", "/accounts", ["find_account", "list_accounts"])
        yield self.check("POST", "/accounts", ["find_account", "create_and_load_account"],
                         {"username": "counted", "password": "secret1", "algorithm": "MD5"})
        yield self.check("GET", "/accounts/4", ["find_account", "get_account"])
        yield self.check("GET", "/accounts/4/activate", ["find_account", "set_activated"])
        yield self.check("DELETE", "/accounts/4", ["find_account", "delete_account"])
        yield self.check("GET", "/accounts/user@sip.example.org/info", ["find_account"])


globals().update(on_engines(ListingTests, TripTests))
