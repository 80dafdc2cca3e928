"""
The limit on guessing codes: at most C{limit} failed attempts per scope (an
account, a client address) within a sliding window of C{window} seconds.

Failures are rows in storage (L{famd.interfaces.IRateLimitStore}), so every
famd process sharing the database enforces one limit.  An attempt is
recorded as a failure before the code is even looked at, in the same
transaction that checks the limit, and forgotten when it turns out not to
be a failure: so a burst of simultaneous guesses cannot get past the limit
either.  Nothing here knows HTTP.
"""

import math

from twisted.internet.defer import inlineCallbacks

from famd.clock import ago
from famd.errors import TooMany

SCOPE_LENGTH = 191
"""The width of ``famd_code_failures.scope``."""


def account_scope(username, domain):
    """The scope of one account's codes."""
    return ("account:%s@%s" % (username, domain))[:SCOPE_LENGTH]


def address_scope(address):
    """The scope of one client address."""
    return ("address:%s" % (address,))[:SCOPE_LENGTH]


class Attempt:
    """
    One reserved attempt.  Call L{failed} or L{succeeded} once its outcome
    is known; L{succeeded} forgets the failure recorded in advance.
    """

    def __init__(self, storage, ids):
        self._storage = storage
        self._ids = ids

    def failed(self):
        """The code was wrong: the recorded failure stays."""
        self._ids = ()

    def succeeded(self):
        """
        The attempt was not a wrong guess: forget its failure rows.

        @return: a Deferred firing when they are gone.
        """
        ids, self._ids = self._ids, ()
        return self._storage.forget_attempts(ids)


class CodeAttempts:
    """
    The failed-attempt limiter of one deployment.

    @param storage: an L{famd.interfaces.IRateLimitStore}.
    @param now: a callable returning the current aware UTC datetime.
    """

    def __init__(self, storage, now, limit, window):
        self.storage = storage
        self.now = now
        self.limit = limit
        self.window = window

    @classmethod
    def from_config(cls, config, storage, now):
        """The limiter configured by C{code_failures} and C{code_failure_window}."""
        return cls(storage, now, config.code_failures, config.code_failure_window)

    @inlineCallbacks
    def begin(self, scopes):
        """
        Reserve one attempt in every scope.

        @return: a Deferred firing with an L{Attempt}, or failing with
            L{famd.errors.TooMany} when a scope has no failure left.
        """
        now = self.now()
        ids, oldest = yield self.storage.reserve_attempt(
            scopes, self.limit, ago(now, self.window), now
        )
        if oldest is not None:
            free_at = oldest.timestamp() + self.window
            raise TooMany(max(1, math.ceil(free_at - now.timestamp())))
        return Attempt(self.storage, ids)
