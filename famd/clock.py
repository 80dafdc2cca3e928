"""
Time as famd stores and shows it.

The database keeps UTC times as ``YYYY-MM-DD HH:MM:SS`` text (SQLite) or
DATETIME/TIMESTAMP values (MySQL, PostgreSQL); the API shows some of them the
way the 2021 account manager did (``2021-06-01T10:00:00.000000Z``).  Code that
needs "now" receives a callable returning an aware UTC datetime, so tests can
pin it.
"""

from datetime import datetime, timedelta, timezone

DB_FORMAT = "%Y-%m-%d %H:%M:%S"


def utcnow():
    """The current time, an aware UTC datetime without microseconds."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def reactor_clock(reactor):
    """A "now" callable driven by C{reactor.seconds()} (a Clock in tests)."""

    def now():
        return datetime.fromtimestamp(int(reactor.seconds()), timezone.utc)

    return now


def to_db(moment):
    """An aware or naive-UTC datetime as the database's text form (L{DB_FORMAT})."""
    if moment.tzinfo is not None and moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    if moment.year < 1000:  # strftime's own rendering of such years varies by platform
        return moment.replace(tzinfo=None).strftime(DB_FORMAT)
    # What strftime(DB_FORMAT) writes, without parsing the format each time.
    return "%04d-%02d-%02d %02d:%02d:%02d" % (
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
    )


def from_db(text):
    """The database's text form as an aware UTC datetime."""
    return datetime.strptime(text, DB_FORMAT).replace(tzinfo=timezone.utc)


def normalize(value):
    """A value read from any engine (str, datetime or None) as the text form."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return to_db(value)
    return str(value)


def laravel(text):
    """The text form as Laravel serialized model timestamps in 2021."""
    if text is None:
        return None
    return from_db(text).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def ago(now, seconds):
    """C{now} minus that many seconds."""
    return now - timedelta(seconds=seconds)
