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


def _utc(moment):
    """An aware datetime in UTC; a naive one is taken as UTC already."""
    if moment.tzinfo is not None and moment.tzinfo is not timezone.utc:
        return moment.astimezone(timezone.utc)
    return moment


def text(moment):
    """
    A datetime (aware, or naive meaning UTC) as UTC ``YYYY-MM-DD HH:MM:SS``
    (L{TEXT_FORMAT}, whole seconds); None stays None.
    """
    if moment is None:
        return None
    moment = _utc(moment)
    if moment.year < 1000:  # strftime's own rendering of such years varies by platform
        return moment.replace(tzinfo=None).strftime(TEXT_FORMAT)
    # What strftime(TEXT_FORMAT) writes, without parsing the format each time.
    return "%04d-%02d-%02d %02d:%02d:%02d" % (
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
    )


def laravel(moment):
    """A datetime as Laravel serialized model timestamps in 2021; None stays None."""
    if moment is None:
        return None
    moment = _utc(moment)
    if moment.year < 1000:
        return moment.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    return "%04d-%02d-%02dT%02d:%02d:%02d.000000Z" % (
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
    )


def ago(now, seconds):
    """C{now} minus that many seconds."""
    return now - timedelta(seconds=seconds)
