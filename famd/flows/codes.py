"""
What the short codes of the pending changes share (a phone change's SMS
code, an e-mail change's 2.x code): they expire.
"""

from datetime import timedelta

from twisted.internet.defer import inlineCallbacks

from famd.errors import Gone

EXPIRED_CODE = "Expired code"


def expired(context, created_at, lifetime):
    """Whether a code created at C{created_at} (None: unknown) is over C{lifetime} seconds old."""
    # A code whose creation time is unknown counts as expired.
    return created_at is None or created_at + timedelta(seconds=lifetime) < context.now()


@inlineCallbacks
def refuse_expired(context, attempt, created_at, lifetime, drop):
    """
    Refuse a code created more than C{lifetime} seconds ago (L{expired}):
    the client's attempt (L{famd.throttle}) does not count as a wrong
    secret, the pending change is removed (C{drop()}, a Deferred) and the
    flow fails with L{Gone}(EXPIRED_CODE), FAM 2.x's 410.  A Deferred firing
    with None for a fresh code (nothing done).
    """
    if not expired(context, created_at, lifetime):
        return
    yield attempt.succeeded()
    yield drop()
    raise Gone(EXPIRED_CODE)
