"""
Time as famd handles and shows it.

Inside famd a time is an aware UTC datetime (L{famd.model} values hold
nothing else); storage turns it into its database's form and back
(L{famd.storage.times}).  The API shows times the way the 2021 account
manager did: ``2021-06-01 10:00:00`` (L{text}) or, for Laravel's model
timestamps, ``2021-06-01T10:00:00.000000Z`` (L{laravel}).  Code that needs
"now" receives a callable returning an aware UTC datetime, so tests can pin
it.
"""

from datetime import datetime, timedelta, timezone

TEXT_FORMAT = "%Y-%m-%d %H:%M:%S"
"""The 2021 API's form of a time (Laravel's ``Y-m-d H:i:s``), always UTC."""


def utcnow():
    """The current time, an aware UTC datetime without microseconds."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def reactor_clock(reactor):
    """A "now" callable driven by C{reactor.seconds()} (a Clock in tests)."""

    def now():
        return datetime.fromtimestamp(int(reactor.seconds()), timezone.utc)

    return now


_UTC = timezone.utc
_TWO_DIGITS = tuple("%02d" % (number,) for number in range(100))
"""Month, day, hour, minute and second as the text forms write them: formatting
them once here makes a listing's twenty times a third cheaper."""


def text(moment):
    """
    A datetime (aware, or naive meaning UTC) as UTC ``YYYY-MM-DD HH:MM:SS``
    (L{TEXT_FORMAT}, whole seconds); None stays None.  (Every listed account
    comes through here: the checks are inlined.)
    """
    if moment is None:
        return None
    zone = moment.tzinfo
    if zone is not _UTC and zone is not None:
        moment = moment.astimezone(_UTC)
    if moment.year < 1000:  # strftime's own rendering of such years varies by platform
        return moment.replace(tzinfo=None).strftime(TEXT_FORMAT)
    # What strftime(TEXT_FORMAT) writes, without parsing the format each time.
    two = _TWO_DIGITS
    return "%04d-%s-%s %s:%s:%s" % (
        moment.year, two[moment.month], two[moment.day], two[moment.hour], two[moment.minute],
        two[moment.second],
    )


def laravel(moment):
    """A datetime as Laravel serialized model timestamps in 2021; None stays None."""
    if moment is None:
        return None
    zone = moment.tzinfo
    if zone is not _UTC and zone is not None:
        moment = moment.astimezone(_UTC)
    if moment.year < 1000:
        return moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    two = _TWO_DIGITS
    return "%04d-%s-%sT%s:%s:%s.000000Z" % (
        moment.year, two[moment.month], two[moment.day], two[moment.hour], two[moment.minute],
        two[moment.second],
    )


def ago(now, seconds):
    """C{now} minus that many seconds."""
    return now - timedelta(seconds=seconds)


_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def spoken(seconds):
    """
    A duration in words for a message, exact whatever its value:
    86400 is "1 day", 5400 "1 hour and 30 minutes", 90061 "1 day, 1 hour,
    1 minute and 1 second".
    """
    parts = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append("%d %s%s" % (count, name, "" if count == 1 else "s"))
    if not parts:
        return "0 seconds"
    return parts[0] if len(parts) == 1 else "%s and %s" % (", ".join(parts[:-1]), parts[-1])
