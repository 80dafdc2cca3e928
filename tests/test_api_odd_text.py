"""
Text no database holds (a NUL, a lone UTF-16 surrogate) in a JSON body or a
request path, on every storage engine: famd answers 400 with one message
before any route, flow or driver sees it, never 500.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.api import validation
from famd.errors import ODD_TEXT
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY
from tests.engines import on_engines
from tests.serving import serve

ODD = ["\udc00", "\u0000", "abcdefghijkl\udc00", "abcdefghijkl\u0000"]
"""String values no engine stores: alone and as the 13th character of a token."""
REFUSED = {"message": ODD_TEXT}


class OddTextTests(unittest.TestCase):
    """A NUL or a lone surrogate anywhere in a request: 400, one message, no 500."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    @defer.inlineCallbacks
    def assertRefused(self, method, path, base="/api", **kwargs):
        code, _, body = yield self.served.request(method, path, base=base, **kwargs)
        self.assertEqual((code, body), (400, b'{"message":"%s"}' % (ODD_TEXT.encode("ascii"),)),
                         "%s %s%s %r" % (method, base, path, kwargs.get("body")))

    @defer.inlineCallbacks
    def test_json_values(self):
        """Every body route holding such a string (token fields, display_name) refuses it."""
        for odd in ODD:
            yield self.assertRefused("POST", "/account_creation_tokens/consume", sip=BOB, key=BOB_KEY,
                                     body={"account_creation_token": odd})
            yield self.assertRefused(
                "POST", "/account_creation_tokens/using-account-creation-request-token", sip=None,
                body={"account_creation_request_token": odd})
            yield self.assertRefused("POST", "/accounts/with-account-creation-token", sip=None, body={
                "username": "newuser2x", "password": "secret1", "account_creation_token": odd})
            yield self.assertRefused("POST", "/accounts/with-token", sip=None, body={
                "username": "newuser21", "password": "secret1", "algorithm": "MD5", "token": odd})
            yield self.assertRefused("PUT", "/accounts/2", key=ADMIN_KEY, body={
                "username": "bob", "display_name": "Bob " + odd})

    @defer.inlineCallbacks
    def test_json_keys_and_nested_values(self):
        """A key, a value inside a list or object, a UTF-16 body: all read like a top-level value."""
        utf16 = '{"account_creation_token": "\udc00"}'.encode("utf-16-le", "surrogatepass")
        for body in ({"a\u0000": 1}, {"x": ["\udc00"]}, {"x": {"y": "\u0000"}}, {"\udc00": None}, utf16):
            yield self.assertRefused("POST", "/account_creation_tokens/consume", sip=BOB, key=BOB_KEY,
                                     body=body)

    @defer.inlineCallbacks
    def test_paths(self):
        """A path segment that decodes to a NUL, on every route taking a secret or a name."""
        for path, base in (
            ("/accounts/a%00b@x/search-by-email", "/api"),
            ("/accounts/auth_token/abc%00def/attach", "/api"),
            ("/accounts/me/api_key/abc%00def", "/api"),
            ("/accounts/me/email/confirm/abc%00def", "/api"),
            ("/accounts/bob%00@sip.example.org/info", "/api"),
            ("/auth_token/abc%00def", "/provisioning"),
            ("/%00abcdefghijkl", "/provisioning"),
            ("/qrcode/%00abcdefghijkl", "/provisioning"),
            ("/check/abcdefghijkl%00", "/creation_token"),
        ):
            yield self.assertRefused("GET", path, base=base, key=ADMIN_KEY)

    @defer.inlineCallbacks
    def test_plain_text_still_served(self):
        """Escaped but ordinary text (\\u00e9, a %20) is still read as before."""
        code, body, _ = yield self.served.json("PUT", "/accounts/2", key=ADMIN_KEY, body={
            "username": "bob", "display_name": "B\u00e9b\u00e9 \U0001f600"})
        self.assertEqual((code, body["display_name"]), (200, "B\u00e9b\u00e9 \U0001f600"))
        code, _, _ = yield self.served.request("GET", "/accounts/me/api_key/abc%20def", sip=None)
        self.assertEqual(code, 404)


class IsTextTests(unittest.TestCase):
    """L{validation.is_text}: what storage can hold."""

    def test_refuses_nul_and_surrogates(self):
        """A NUL or a lone surrogate is no text; other strings are."""
        self.assertFalse(validation.is_text("a\x00b"))
        self.assertFalse(validation.is_text("a\udc00"))
        self.assertTrue(validation.is_text("\u00e9\U0001f600"))


globals().update(on_engines(OddTextTests))
