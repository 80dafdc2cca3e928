"""
The hot path's faster helpers give exactly what the plain ones gave: JSON
bodies, database times, random keys, Authorization parsing, and the SQLite
storage's batched trips to its thread.
"""

import json
import string
import threading
from datetime import datetime, timedelta, timezone

from twisted.internet import defer
from twisted.trial import unittest

from famd.api import render
from famd.api.http import encode
from famd.clock import TEXT_FORMAT, laravel, text
from famd.config import from_mapping
from famd.credentials import ALPHANUMERIC, random_string
from famd.digest import parse_authorization
from famd.model import (
    ACCOUNT_FIELDS,
    Account,
    ActivationExpiration,
    EmailChange,
    Password,
    Timestamps,
)
from famd.testing.storage import open_sqlite


JUNE_1ST = datetime(2021, 6, 1, 10, tzinfo=timezone.utc)


def stdlib(data):
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def account(number, **fields):
    return Account(id=number, username="user%d" % number, domain="sip.example.org", email=None,
                   activated=True, confirmation_key="Kk%011d" % number, ip_address="::1",
                   user_agent="Linphone/5.1 (Ubuntu) LinphoneSDK/5.1", creation_time=JUNE_1ST,
                   **fields)


class EncodeTests(unittest.TestCase):
    """encode() writes the standard library's compact UTF-8 bytes."""

    def test_api_bodies(self):
        """Account objects, the pagination object and info are byte-identical."""
        config = from_mapping({"sip_domain": "sip.example.org", "realm": "réalm \"q\""}, "/tmp")
        full = account(7, passwords=(Password("x", "MD5"),), admin=Timestamps(JUNE_1ST, None),
                       phone="+33612345678",
                       activation_expiration=ActivationExpiration(
                           1, 7, datetime(2021, 7, 1, tzinfo=timezone.utc), None, JUNE_1ST),
                       email_changed=EmailChange(7, "é@example.org", datetime(2021, 6, 2, tzinfo=timezone.utc)))
        bodies = [
            render.account(config, full),
            render.account(config, full, confirmation_key=True, relations=False),
            render.info(config, full),
            render.page(config, [account(n) for n in range(21, 41)], 2, 20, 1000000),
            render.page(config, [], 2**63 - 1, 20, 5),
            {"message": "The given data was invalid.", "errors": {"from": ["The from field is required."]}},
            1, [], {},
        ]
        for body in bodies:
            self.assertEqual(encode(body), stdlib(body))

    def test_awkward_strings(self):
        """Quotes, backslashes, control characters, DEL, non-ASCII and line separators."""
        for value in ['a"b\\c', "\x00\x01\x1f\x7f", "é漢字😀", "\u2028\u2029", "</script>", "\t\n\r\b\f"]:
            self.assertEqual(encode({"k": value, "l": [value]}), stdlib({"k": value, "l": [value]}))

    def test_what_orjson_refuses(self):
        """Integers beyond 64 bits and non-string keys are encoded as the standard library does."""
        for body in ({"big": 2**70}, {"neg": -(2**64)}, {1: "one", None: 2}):
            self.assertEqual(encode(body), stdlib(body))

    def test_what_json_refuses(self):
        """Datetimes, dataclasses and bytes still fail, as they did."""
        for body in (datetime.now(timezone.utc), account(1), b"bytes"):
            self.assertRaises(TypeError, encode, body)


class TimeTextTests(unittest.TestCase):
    """text() and laravel() write what strftime wrote."""

    def test_same_text(self):
        """Aware, naive and non-UTC times give the UTC text of strftime."""
        moments = [
            datetime(2021, 6, 1, 10, 0, 5, tzinfo=timezone.utc),
            datetime(2021, 6, 1, 10, 0, 5, 999999),
            datetime(2021, 6, 1, 12, 0, 5, 1, tzinfo=timezone(timedelta(hours=2))),
            datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
            datetime(999, 1, 2, 3, 4, 5),
        ]
        for moment in moments:
            utc = moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
            self.assertEqual(text(moment), utc.strftime(TEXT_FORMAT))
            self.assertEqual(laravel(moment), utc.strftime("%Y-%m-%dT%H:%M:%S.000000Z"))

    def test_unknown_times_are_null(self):
        """An unknown time (None in the model) is shown as null, in either form."""
        self.assertEqual((text(None), laravel(None)), (None, None))
        config = from_mapping({"sip_domain": "sip.example.org"}, "/tmp")
        unknown = Account(id=1, username="u", domain="sip.example.org", email=None, activated=False,
                          confirmation_key=None, ip_address="::1", user_agent="ua", creation_time=None,
                          admin=Timestamps(None, None),
                          activation_expiration=ActivationExpiration(1, 1, None, None, None),
                          email_changed=EmailChange(1, "new@example.org", None))
        body = render.account(config, unknown)
        self.assertEqual(
            (body["creation_time"], body["confirmation_key_expires"], body["admin"],
             body["activation_expiration"]["expires"], body["email_changed"]["created_at"]),
            (None, None, {"created_at": None, "updated_at": None}, None, None))


class RandomStringTests(unittest.TestCase):
    """random_string() draws every character uniformly from its alphabet."""

    def test_length_and_alphabet(self):
        """The requested length, only characters of the alphabet."""
        for length in (0, 1, 13, 32, 40, 500):
            value = random_string(length)
            self.assertEqual(len(value), length)
            self.assertTrue(set(value) <= set(ALPHANUMERIC))
        self.assertTrue(set(random_string(200, string.digits)) <= set(string.digits))

    def test_every_character_appears(self):
        """Over many draws every character of the alphabet shows up, none dominates."""
        counts = {}
        for character in random_string(62 * 400):
            counts[character] = counts.get(character, 0) + 1
        self.assertEqual(set(counts), set(ALPHANUMERIC))
        self.assertLess(max(counts.values()), 4 * 400)


class ParseAuthorizationTests(unittest.TestCase):
    """The quoted values of an Authorization header are unescaped only where needed."""

    def test_escapes(self):
        """Backslash escapes are undone; values without one are kept as they are."""
        params = parse_authorization(r'Digest username="a\"b\\c", realm="plain", nc=00000001')
        self.assertEqual(params, {"username": 'a"b\\c', "realm": "plain", "nc": "00000001"})


class LoadedAccountTests(unittest.TestCase):
    """Account.loaded() makes the same account as the constructor."""

    def test_equal_to_constructed(self):
        """Equal, same hash and repr, still frozen."""
        made = account(3, passwords=(Password("x", "MD5"),), phone="+33600000000", api_key="k" * 40)
        values = [getattr(made, name) for name in ACCOUNT_FIELDS]
        loaded = Account.loaded(*values)
        self.assertEqual((loaded, hash(loaded), repr(loaded)), (made, hash(made), repr(made)))
        self.assertEqual(loaded.api_key, "k" * 40)
        self.assertRaises(AttributeError, setattr, loaded, "id", 4)


class BatchedStorageTests(unittest.TestCase):
    """The SQLite storage sends waiting transactions to its thread together."""

    @defer.inlineCallbacks
    def test_batched_in_order_each_its_own_transaction(self):
        """Many calls at once: all on the storage thread, in order, one failing alone."""
        storage = yield open_sqlite(self)
        order = []

        def step(txn, number):
            order.append((number, threading.get_ident()))
            if number == 7:
                raise ValueError("seven")
            return number

        calls = [storage.read("step", step, number) for number in range(20)]
        results = yield defer.DeferredList(calls, consumeErrors=True)
        self.assertEqual([n for n, _ in order], list(range(20)))
        self.assertEqual(len({ident for _, ident in order}), 1)
        self.assertNotEqual(order[0][1], threading.get_ident())
        self.assertEqual([ok for ok, _ in results], [n != 7 for n in range(20)])
        self.assertEqual(results[7][1].value.args, ("seven",))
        self.assertEqual([value for ok, value in results if ok], [n for n in range(20) if n != 7])
