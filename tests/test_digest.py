"""
RFC 7616 DIGEST as pure functions: parsing, challenges, response checks.
"""

import hashlib

from twisted.trial import unittest

from famd import digest
from famd.model import Password

# Recorded from the 2021 account manager (fam-2021-transcripts.md, digest step 2).
NONCE = "uGQCWOFerSKYmB6cyYAaA2pnTyx4gbJY"
OPAQUE = "YmFzZTY0Ond3OTNwQ0JyY0MvNkU3THZvcGZUMlc0aVBsT1lKUzlYdGFVSVVPNVFRU009"
HA1 = hashlib.md5(b"user:sip.example.org:secret").hexdigest()
RECORDED = (
    'Digest username="user",realm="sip.example.org",nonce="%s",uri="/api/accounts/me",'
    'algorithm=MD5,qop=auth,nc=00000001,cnonce="0a4f113b",'
    'response="5721ca367583ca05248b8a50c9ddac64",opaque="%s"' % (NONCE, OPAQUE)
)


def check(params, **overrides):
    arguments = dict(method="GET", uri="/api/accounts/me", username="user",
                     realm="sip.example.org", opaque=OPAQUE, passwords=(Password(HA1, "MD5"),))
    arguments.update(overrides)
    return digest.check(params, **arguments)


class ParseTests(unittest.TestCase):
    """Authorization header parsing."""

    def test_recorded_header(self):
        """The header a 2021 client sent parses into its parameters."""
        params = digest.parse_authorization(RECORDED)
        self.assertEqual(params["username"], "user")
        self.assertEqual(params["nc"], "00000001")
        self.assertEqual(params["algorithm"], "MD5")
        self.assertEqual(params["opaque"], OPAQUE)

    def test_spacing_case_and_escapes(self):
        """Spaces after commas, any scheme case and backslash escapes are accepted."""
        params = digest.parse_authorization(
            'digest  Username="a\\"b" , realm="r,1",  nc=00000002,qop=auth')
        self.assertEqual(params, {"username": 'a"b', "realm": "r,1", "nc": "00000002", "qop": "auth"})

    def test_malformed(self):
        """Other schemes, bad quoting, repeats and garbage raise DigestError."""
        for header in ("Basic dXNlcjpwYXNz", "Digest", "Digest username=", 'Digest a="unclosed',
                       'Digest a="1" b="2"', "Digest a=1,a=2", "Digest a=1,,", "Digest =x", "",
                       'Digest nonce="a\x00b"', 'Digest nonce="a\nb"'):
            self.assertRaises(digest.DigestError, digest.parse_authorization, header)

    def test_nc(self):
        """nc is 1 to 8 hex digits."""
        self.assertEqual(digest.parse_nc("00000010"), 16)
        for bad in (None, "", "123456789", "-1", "0x1", "zz"):
            self.assertIsNone(digest.parse_nc(bad), bad)


class ChallengeTests(unittest.TestCase):
    """WWW-Authenticate values."""

    def test_format(self):
        """A challenge is written exactly as the 2021 account manager wrote it."""
        self.assertEqual(
            digest.challenge("sip.example.org", "MD5", NONCE, OPAQUE),
            'Digest realm="sip.example.org",qop="auth",algorithm=MD5,nonce="%s",opaque="%s"'
            % (NONCE, OPAQUE))

    def test_offered(self):
        """One algorithm per password row in order; CLRTXT offers both; no repeats."""
        self.assertEqual(digest.offered_algorithms(["SHA-256", "MD5"]), ["SHA-256", "MD5"])
        self.assertEqual(digest.offered_algorithms(["CLRTXT"]), ["MD5", "SHA-256"])
        self.assertEqual(digest.offered_algorithms(["MD5", "CLRTXT"]), ["MD5", "SHA-256"])
        self.assertEqual(digest.offered_algorithms(["SHA-1"]), [])


class CheckTests(unittest.TestCase):
    """Verifying an answer."""

    def test_recorded_answer(self):
        """The answer recorded from a 2021 client verifies, giving its nonce count."""
        self.assertEqual(check(digest.parse_authorization(RECORDED)), 1)

    def test_every_field_matters(self):
        """A change in any checked field, or a missing one, fails the check."""
        good = digest.parse_authorization(RECORDED)
        changes = dict(username="bob", realm="other", uri="/api/accounts", qop="auth-int",
                       algorithm="SHA-256", opaque="x", nc="zz", cnonce="other",
                       response="0" * 32, userhash="true", nonce="other")
        for name, value in changes.items():
            self.assertIsNone(check(dict(good, **{name: value})), name)
        for name in ("username", "realm", "nonce", "uri", "response", "nc", "cnonce", "qop", "opaque"):
            params = dict(good)
            del params[name]
            self.assertIsNone(check(params), name)
        self.assertIsNone(check(good, uri="/api/accounts/me?x=1"))
        self.assertIsNone(check(good, method="DELETE"))
        self.assertIsNone(check(good, passwords=(Password(HA1, "SHA-256"),)))

    def test_default_algorithm(self):
        """Without an algorithm parameter the answer is checked as MD5."""
        params = digest.parse_authorization(RECORDED)
        del params["algorithm"]
        self.assertEqual(check(params), 1)

    def test_sha256_and_clear_text(self):
        """SHA-256 answers verify against a SHA-256 HA1 or a CLRTXT row, not an MD5 one."""
        response = digest.client_response("SHA-256", "user", "sip.example.org", "secret",
                                          NONCE, "0000000a", "c", "GET", "/api/accounts/me")
        params = digest.parse_authorization(digest.authorization(
            "user", "sip.example.org", NONCE, "/api/accounts/me", "SHA-256", "0000000a", "c",
            response, OPAQUE))
        sha = hashlib.sha256(b"user:sip.example.org:secret").hexdigest()
        self.assertEqual(check(params, passwords=(Password(sha, "SHA-256"),)), 10)
        self.assertEqual(check(params, passwords=(Password(HA1, "MD5"), Password("secret", "CLRTXT"))), 10)
        self.assertIsNone(check(params, passwords=(Password(HA1, "MD5"),)))
        self.assertIsNone(check(params, passwords=(Password("wrong", "CLRTXT"),)))
