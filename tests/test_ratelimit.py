"""
famd.ratelimit over real storage (on every engine) with a Clock: reserving
attempts, Retry-After, forgetting attempts that did not fail, the sliding
window.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.clock import reactor_clock
from famd.errors import TooMany
from famd.ratelimit import SCOPE_LENGTH, CodeAttempts, account_scope, address_scope
from tests.api_helpers import make_config
from tests.engines import on_engines, open_storage
from tests.serving import clock_at


class CodeAttemptsTests(unittest.TestCase):
    """CodeAttempts.begin and the Attempt it gives."""

    @defer.inlineCallbacks
    def setUp(self):
        self.clock = clock_at()
        self.storage = yield open_storage(self)
        self.attempts = CodeAttempts(self.storage, reactor_clock(self.clock), 3, 600)

    @defer.inlineCallbacks
    def fail_times(self, count, scopes=("s",)):
        for _ in range(count):
            attempt = yield self.attempts.begin(list(scopes))
            attempt.failed()

    @defer.inlineCallbacks
    def test_retry_after(self):
        """Once full, a scope is refused with the seconds until its oldest counted failure expires."""
        yield self.fail_times(1)
        self.clock.advance(100)
        yield self.fail_times(2)
        error = yield self.assertFailure(self.attempts.begin(["s"]), TooMany)
        self.assertEqual(error.retry_after, 500)
        self.clock.advance(499)
        error = yield self.assertFailure(self.attempts.begin(["s"]), TooMany)
        self.assertEqual(error.retry_after, 1)
        self.clock.advance(1)
        attempt = yield self.attempts.begin(["s"])
        attempt.failed()
        error = yield self.assertFailure(self.attempts.begin(["s"]), TooMany)
        self.assertEqual(error.retry_after, 100)

    @defer.inlineCallbacks
    def test_succeeded_forgets(self):
        """An attempt that succeeded leaves no failure behind."""
        for _ in range(5):
            attempt = yield self.attempts.begin(["s"])
            yield attempt.succeeded()
        yield self.fail_times(3)
        yield self.assertFailure(self.attempts.begin(["s"]), TooMany)

    @defer.inlineCallbacks
    def test_any_full_scope_refuses(self):
        """An attempt is refused when any of its scopes is full, and then counts in none."""
        yield self.fail_times(3, ["a"])
        yield self.assertFailure(self.attempts.begin(["b", "a"]), TooMany)
        yield self.fail_times(3, ["b"])
        yield self.assertFailure(self.attempts.begin(["b"]), TooMany)

    @defer.inlineCallbacks
    def test_from_config(self):
        """The limiter takes code_failures and code_failure_window from the configuration."""
        config = make_config(code_failures=1, code_failure_window=60)
        attempts = CodeAttempts.from_config(config, self.storage, reactor_clock(self.clock))
        (yield attempts.begin(["c"])).failed()
        error = yield self.assertFailure(attempts.begin(["c"]), TooMany)
        self.assertEqual(error.retry_after, 60)

    def test_scopes(self):
        """Scopes name their kind and fit the scope column."""
        self.assertEqual(account_scope("bob", "sip.example.org"), "account:bob@sip.example.org")
        self.assertEqual(address_scope("192.0.2.1"), "address:192.0.2.1")
        self.assertEqual(len(account_scope("u" * 300, "d")), SCOPE_LENGTH)


globals().update(on_engines(CodeAttemptsTests))
