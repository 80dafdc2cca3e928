"""
famd.throttle over real storage (on every engine) with a Clock: buckets,
Retry-After, forgetting reservations that were no wrong guess, per-limit
windows, IPv6 /64 keys, voiding short codes, the password delay.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.clock import reactor_clock
from famd.errors import TooMany
from famd.throttle import SCOPE_LENGTH, Limit, Throttle, address_key, code_key
from tests.api_helpers import make_config
from tests.engines import on_engines, open_storage
from tests.serving import clock_at


class ThrottleTests(unittest.TestCase):
    """Throttle.take and the Attempt it gives, and the named limits."""

    @defer.inlineCallbacks
    def setUp(self):
        self.clock = clock_at()
        self.storage = yield open_storage(self)
        self.throttle = Throttle(self.storage, reactor_clock(self.clock))
        self.limit = Limit("test", 3, 600)

    @defer.inlineCallbacks
    def fail_times(self, count, key="s", limit=None):
        for _ in range(count):
            attempt = yield self.throttle.take((limit or self.limit, key))
            attempt.failed()

    @defer.inlineCallbacks
    def test_retry_after(self):
        """Once full, a bucket is refused with the seconds until its oldest counted event expires."""
        yield self.fail_times(1)
        self.clock.advance(100)
        yield self.fail_times(2)
        error = yield self.assertFailure(self.throttle.take((self.limit, "s")), TooMany)
        self.assertEqual(error.retry_after, 500)
        self.clock.advance(499)
        error = yield self.assertFailure(self.throttle.take((self.limit, "s")), TooMany)
        self.assertEqual(error.retry_after, 1)
        self.clock.advance(1)
        yield self.fail_times(1)
        error = yield self.assertFailure(self.throttle.take((self.limit, "s")), TooMany)
        self.assertEqual(error.retry_after, 100)

    @defer.inlineCallbacks
    def test_succeeded_forgets(self):
        """An attempt that succeeded leaves no event behind."""
        for _ in range(5):
            attempt = yield self.throttle.take((self.limit, "s"))
            yield attempt.succeeded()
        yield self.fail_times(3)
        yield self.assertFailure(self.throttle.take((self.limit, "s")), TooMany)

    @defer.inlineCallbacks
    def test_any_full_bucket_refuses_and_counts_in_none(self):
        """A take is refused when any of its buckets is full, and then counts in none."""
        other = Limit("other", 3, 60)
        yield self.fail_times(3, "a")
        for _ in range(4):
            yield self.assertFailure(self.throttle.take((other, "b"), (self.limit, "a")), TooMany)
        yield self.fail_times(3, "b", other)
        yield self.assertFailure(self.throttle.take((other, "b")), TooMany)

    @defer.inlineCallbacks
    def test_windows_are_per_limit(self):
        """A short limit's expiry never forgets a longer limit's events."""
        short, long = Limit("short", 1, 60), Limit("long", 2, 3600)
        yield self.fail_times(2, "k", long)
        self.clock.advance(120)
        yield self.fail_times(1, "k", short)
        yield self.assertFailure(self.throttle.take((long, "k")), TooMany)

    @defer.inlineCallbacks
    def test_from_config(self):
        """The limits take the throttle section of the configuration."""
        config = make_config(throttle={"wrong_secrets": 1, "wrong_secrets_window": 60})
        throttle = Throttle.from_config(config, self.storage, reactor_clock(self.clock))
        (yield throttle.secret_attempt("192.0.2.1")).failed()
        error = yield self.assertFailure(throttle.secret_attempt("192.0.2.1"), TooMany)
        self.assertEqual(error.retry_after, 60)
        yield throttle.secret_attempt("192.0.2.2")

    @defer.inlineCallbacks
    def test_ipv6_counts_per_64(self):
        """Addresses of one IPv6 /64 share a budget; another /64 has its own."""
        throttle = Throttle(self.storage, reactor_clock(self.clock), {"wrong_secrets": 2})
        (yield throttle.secret_attempt("2001:db8:1:2::1")).failed()
        (yield throttle.secret_attempt("2001:db8:1:2:ffff::9")).failed()
        yield self.assertFailure(throttle.secret_attempt("2001:db8:1:2::abcd"), TooMany)
        yield throttle.secret_attempt("2001:db8:1:3::1")

    @defer.inlineCallbacks
    def test_short_code_void_after_tries(self):
        """The code_tries-th wrong try voids a short code; a new code starts afresh; long codes never."""
        voided = []

        def void():
            voided.append(True)
            return defer.succeed(None)

        results = []
        for _ in range(5):
            results.append((yield self.throttle.wrong_code(7, "1234", void)))
        self.assertEqual(results, [False] * 4 + [True])
        self.assertFalse((yield self.throttle.wrong_code(7, "5678", void)))
        for _ in range(10):
            self.assertFalse((yield self.throttle.wrong_code(7, "abcdefghijklm", void)))
        self.assertEqual(len(voided), 1)

    @defer.inlineCallbacks
    def test_password_delay_grows(self):
        """Wrong passwords of one account are held back longer and longer, up to the maximum."""
        throttle = Throttle(self.storage, reactor_clock(self.clock), {"wrong_secrets": 100})
        delays = []
        for number in range(12):
            delays.append((yield throttle.wrong_password(3, "192.0.2.%d" % (number,))))
        self.assertEqual(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30])
        self.assertEqual((yield throttle.wrong_password(4, "192.0.2.99")), 0)

    def test_keys(self):
        """Keys are addresses (IPv6 as its /64) and ids; scopes fit the column."""
        self.assertEqual(address_key("192.0.2.1"), "192.0.2.1")
        self.assertEqual(address_key("2001:db8::1"), "2001:db8::/64")
        self.assertEqual(code_key(7, "1234"), code_key(7, "1234"))
        self.assertNotEqual(code_key(7, "1234"), code_key(8, "1234"))
        self.assertEqual(len(Limit("x", 1, 1).scope("k" * 300)), SCOPE_LENGTH)


globals().update(on_engines(ThrottleTests))
