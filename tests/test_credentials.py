"""
The secret comparisons of L{famd.credentials}: L{same} and the one
exact-match helper storage uses, L{exact}.
"""


from twisted.trial import unittest

from famd import credentials


class SameTests(unittest.TestCase):
    """L{credentials.same}: constant-time equality of two secrets."""

    def test_lone_surrogate_compares(self):
        """A lone surrogate is compared (unequal to anything else), never an exception."""
        self.assertFalse(credentials.same("abc\udc00", "abc"))
        self.assertFalse(credentials.same("\udc00", "\udc01"))
        self.assertTrue(credentials.same("\udc00", "\udc00"))
        self.assertFalse(credentials.same(None, "abc"))


class ExactTests(unittest.TestCase):
    """L{credentials.first_exact}: the row whose secret is exactly the one given."""

    def test_case_and_order(self):
        """Rows a collation found equal but differing in case are skipped; the first exact row wins."""
        rows = [(1, "TOKEN"), (2, "token"), (3, "token")]
        self.assertEqual(credentials.first_exact(rows, "token", 1), (2, "token"))
        self.assertEqual(credentials.first_exact(rows, "TOKEN", 1), (1, "TOKEN"))
        self.assertIsNone(credentials.first_exact(rows, "Token", 1))
        self.assertIsNone(credentials.first_exact([], "token", 1))
        self.assertIsNone(credentials.first_exact([{"token": None}], None, "token"))

    def test_every_row_compared_in_constant_time(self):
        """Each row goes through L{credentials.same}, even after a match (no early exit)."""
        compared = []
        original = credentials.same

        def counting(given, expected):
            compared.append(expected)
            return original(given, expected)

        self.patch(credentials, "same", counting)
        rows = [{"token": "a"}, {"token": "b"}, {"token": "c"}]
        self.assertEqual(credentials.first_exact(rows, "a", "token"), rows[0])
        self.assertEqual(compared, ["a", "b", "c"])
