"""
Times between famd and its databases (L{famd.storage.times}): what every
engine's values read as, and what famd writes.
"""

from datetime import datetime, timedelta, timezone

from twisted.trial import unittest

from famd.storage.times import from_db, to_db

UTC = timezone.utc


class FromDBTests(unittest.TestCase):
    """from_db() reads any engine's value as an aware UTC datetime at whole seconds, or None."""

    def test_usual_text(self):
        """SQLite's usual text is that UTC time."""
        moment = from_db("2021-06-01 10:00:05")
        self.assertEqual(moment, datetime(2021, 6, 1, 10, 0, 5, tzinfo=UTC))
        self.assertIs(moment.tzinfo, UTC)

    def test_other_iso_text(self):
        """Other ISO 8601 text reads as the time it names; text without an offset is UTC."""
        expected = datetime(2021, 6, 1, 10, 0, 5, tzinfo=UTC)
        for value in ("2021-06-01T10:00:05", "2021-06-01T10:00:05Z", "2021-06-01 12:00:05+02:00",
                      "2021-06-01 10:00:05.999999", "2021-06-01T05:00:05.5-05:00"):
            moment = from_db(value)
            self.assertEqual((moment, moment.tzinfo), (expected, UTC), value)
        self.assertEqual(from_db("2021-06-01"), datetime(2021, 6, 1, tzinfo=UTC))

    def test_not_a_time(self):
        """Text that is no time, a MySQL zero date, a number or NULL read as None."""
        for value in ("", "garbage", "0000-00-00 00:00:00", "2021-13-01 00:00:00",
                      "2021-06-01 10:00:00 UTC", 1622541600, 1622541600.0, None, b"2021-06-01"):
            self.assertIsNone(from_db(value), repr(value))

    def test_driver_datetimes(self):
        """A naive driver datetime is UTC; an aware one is converted; microseconds go."""
        self.assertEqual(from_db(datetime(2021, 6, 1, 10, 0, 5, 123)),
                         datetime(2021, 6, 1, 10, 0, 5, tzinfo=UTC))
        moment = from_db(datetime(2021, 6, 1, 12, 0, 5, tzinfo=timezone(timedelta(hours=2))))
        self.assertEqual((moment, moment.tzinfo), (datetime(2021, 6, 1, 10, 0, 5, tzinfo=UTC), UTC))

    def test_round_trip(self):
        """What to_db() writes, from_db() reads back as the same UTC instant at whole seconds."""
        for moment in (datetime(2021, 6, 1, 10, 0, 5, tzinfo=UTC),
                       datetime(2021, 6, 1, 12, 0, 5, 42, tzinfo=timezone(timedelta(hours=2))),
                       datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)):
            self.assertEqual(from_db(to_db(moment)), moment.replace(microsecond=0))

    def test_none_stays_none(self):
        """to_db(None) is None, a NULL column."""
        self.assertIsNone(to_db(None))
