"""
Times between famd and its databases.

famd hands storage aware datetimes and gets aware UTC datetimes back
(L{famd.model}).  In the database a time is UTC: ``YYYY-MM-DD HH:MM:SS``
text on SQLite (as the 2021 account manager wrote it), a DATETIME,
TIMESTAMP or ``timestamp without time zone`` on MySQL and PostgreSQL, whose
drivers return naive datetimes.  Every engine is sent the text form, which
each of them compares and stores as that time.

A stored value that is not a time (text C{datetime.fromisoformat} cannot
read, a MySQL zero date that PyMySQL returns as text, a number) reads as
None: the time is unknown.  Readable text in another ISO 8601 form (a
``T``, fractional seconds, an offset) reads as the time it names; text
without an offset is UTC.  Times come back at whole seconds.
"""

from datetime import datetime, timezone

from famd.clock import text as to_db

__all__ = ["to_db", "from_db"]

_UTC = timezone.utc
_UTC_SUFFIX = "+00:00"
_fromisoformat = datetime.fromisoformat


def from_db(value):
    """A value read from any engine as an aware UTC datetime, or None."""
    if value.__class__ is str:
        try:
            # The usual naive UTC text: reading it with an offset appended is
            # several times faster than reading it, then replacing its tzinfo.
            moment = _fromisoformat(value + _UTC_SUFFIX)
        except ValueError:
            return _unusual(value)
        if moment.tzinfo is not _UTC:  # a date alone: Python ignores the offset
            return _unusual(value)
    elif isinstance(value, datetime):
        moment = value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    else:
        return None
    return moment.replace(microsecond=0) if moment.microsecond else moment


def _unusual(value):
    """Text that is not in the usual form: another ISO 8601 time, or None."""
    try:
        moment = _fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment.astimezone(_UTC).replace(microsecond=0)
