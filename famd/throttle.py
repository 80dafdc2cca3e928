"""
famd's throttling model, in one place: named limits, each a bucket of
events counted per key within a sliding window, shared by every famd
process through the database.

=====================  ==============================  =====================
limit (``throttle:``)  counted                         key
=====================  ==============================  =====================
wrong_secrets          wrong passwords (DIGEST), wrong client address (IPv6:
                       codes, links, provisioning      its /64)
                       keys
code_tries             wrong tries of one short        account id and the
                       pending code: then it is void   pending code
password_failures      wrong DIGEST passwords, for     account id
                       the growing delay of the 401
anonymous_writes       anonymous requests that create  client address, and
                       (push tokens, accounts)         all addresses
sms_* / emails_*       messages requested              account id, and the
                                                       destination (hashed)
pushes_per_device      tokens pushed by the 2.x        the device (hashed)
                       send-by-push routes
request_token_polls    desktop polls of a request      client address
                       token (FAM 2.x sign-up)
=====================  ==============================  =====================

Every count is a row of ``famd_code_failures`` (L{famd.interfaces.IRateLimitStore}):
an event is recorded before what it guards runs, in the transaction that
checks the limit, so simultaneous requests in any number of processes
cannot pass a limit together; a reservation that turns out not to be a
wrong secret is forgotten (L{Attempt.succeeded}).  A full bucket answers
L{famd.errors.TooMany} (429 with Retry-After).  Keys are account ids and
addresses, never the raw text of a URL or header, so that a name a
database's collation pads or folds counts against its account.  Nothing
here knows HTTP.
"""

import hashlib
import ipaddress
import math
from dataclasses import dataclass

from twisted.internet.defer import inlineCallbacks, succeed

from famd.clock import ago
from famd.errors import TooMany
from famd.options import Option, positive

SCOPE_LENGTH = 191
"""The width of ``famd_code_failures.scope``."""

LONG_CODE = 13
"""Codes this long or longer (e-mail keys, links) cannot be guessed within a
budget: a stranger's wrong tries never void them."""

MINUTE, HOUR, DAY = 60, 3600, 86400
LONGEST_WINDOW = DAY
"""No limit counts further back: older counts are purged (L{famd.service})."""


def _non_negative(value):
    return None if value >= 0 else "must be 0 or more"


def _window(value):
    if not 0 < value <= LONGEST_WINDOW:
        return "must be between 1 and %d seconds" % (LONGEST_WINDOW,)
    return None


THROTTLE = (
    Option("wrong_secrets", int, 20, check=positive),
    Option("wrong_secrets_window", int, 900, check=_window),
    Option("code_tries", int, 5, check=positive),
    Option("password_delay_after", int, 5, check=positive),
    Option("password_delay_max", int, 30, check=_non_negative),
    Option("anonymous_writes", int, 30, check=positive),
    Option("anonymous_writes_total", int, 300, check=positive),
    Option("sms_per_account", int, 5, check=positive),
    Option("sms_per_destination", int, 5, check=positive),
    Option("emails_per_account", int, 10, check=positive),
    Option("emails_per_destination", int, 10, check=positive),
    Option("pushes_per_device", int, 5, check=positive),
    Option("request_token_polls", int, 60, check=positive),
)
"""The keys of famd.yaml's ``throttle:`` section (explained there)."""


@dataclass(frozen=True)
class Limit:
    """At most C{count} events per key within C{window} seconds; C{name} prefixes its scopes."""

    name: str
    count: int
    window: int

    def scope(self, key):
        """The ``famd_code_failures.scope`` of this limit's bucket for C{key}."""
        return ("%s:%s" % (self.name, key))[:SCOPE_LENGTH]


def address_key(address):
    """
    The bucket key of a client address: an IPv6 address counts as its /64
    (one subscriber's whole prefix), an IPv4 address as itself.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return str(address)[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network("%s/64" % (parsed,), strict=False))
    return str(parsed)


def hashed(text):
    """A key for a destination (phone, e-mail address) that does not store it."""
    return hashlib.sha256(text.strip().lower().encode("utf-8")).hexdigest()[:32]


def code_key(account_id, code):
    """The key of one account's pending code: a new code starts a new count."""
    return "%d:%s" % (account_id, hashlib.sha256(("%d:%s" % (account_id, code)).encode("utf-8")).hexdigest()[:16])


class Attempt:
    """
    Reserved events.  Call L{failed} or L{succeeded} once the outcome is
    known; L{succeeded} forgets them (the secret was right).
    """

    def __init__(self, storage, ids):
        self._storage = storage
        self._ids = tuple(ids)

    def failed(self):
        """The secret was wrong: the recorded events stay."""
        self._ids = ()

    def succeeded(self):
        """
        The attempt was no wrong guess: forget its events.

        @return: a Deferred firing when they are gone.
        """
        ids, self._ids = self._ids, ()
        return self._storage.forget_attempts(ids) if ids else succeed(0)


class Throttle:
    """
    The named limits of one deployment over an
    L{famd.interfaces.IRateLimitStore}.

    @param now: a callable returning the current aware UTC datetime.
    @param settings: the values of L{THROTTLE}, by key.
    """

    def __init__(self, storage, now, settings=None):
        values = {option.key: option.default for option in THROTTLE}
        values.update(settings or {})
        self.storage = storage
        self.now = now
        self.settings = values
        secrets_window = values["wrong_secrets_window"]
        self.wrong_secrets = Limit("secret", values["wrong_secrets"], secrets_window)
        self.code_tries = Limit("code", values["code_tries"], DAY)
        self.password_failures = Limit("password", 2**31, secrets_window)
        self.anonymous_writes = Limit("anonymous", values["anonymous_writes"], MINUTE)
        self.anonymous_writes_total = Limit("anonymous-all", values["anonymous_writes_total"], MINUTE)
        self.sms_per_account = Limit("sms-account", values["sms_per_account"], HOUR)
        self.sms_per_destination = Limit("sms-to", values["sms_per_destination"], DAY)
        self.emails_per_account = Limit("email-account", values["emails_per_account"], HOUR)
        self.emails_per_destination = Limit("email-to", values["emails_per_destination"], DAY)
        self.pushes_per_device = Limit("push-device", values["pushes_per_device"], HOUR)
        self.request_token_polls = Limit("request-poll", values["request_token_polls"], MINUTE)

    @classmethod
    def from_config(cls, config, storage, now):
        """The limits of C{config.throttle}."""
        return cls(storage, now, config.throttle)

    @staticmethod
    def refused(limit_name):
        """A refusal by the limit C{limit_name} (metrics set their counter here)."""

    @inlineCallbacks
    def take(self, *buckets):
        """
        Record one event in each (L{Limit}, key) bucket, all or none.

        @return: a Deferred firing with the L{Attempt}, or failing with
            L{TooMany} (retry after the latest time a full bucket frees).
        """
        now = self.now()
        ids = []
        for limit, key in buckets:
            reserved, oldest = yield self.storage.reserve_attempt(
                [limit.scope(key)], limit.count, ago(now, limit.window), now
            )
            if oldest is not None:
                if ids:
                    yield self.storage.forget_attempts(ids)
                free_at = oldest.timestamp() + limit.window
                self.refused(limit.name)
                raise TooMany(max(1, math.ceil(free_at - now.timestamp())))
            ids.extend(reserved)
        return Attempt(self.storage, ids)

    def blocking(self, address):
        """
        The buckets a DIGEST answer checks without recording, in the
        nonce's transaction: (scope, limit, since) triples.
        """
        limit = self.wrong_secrets
        return ((limit.scope(address_key(address)), limit.count, ago(self.now(), limit.window)),)

    # ---------------------------------------------------------- wrong secrets

    def secret_attempt(self, address):
        """Reserve one wrong secret of C{address}: forget it when the secret was right."""
        return self.take((self.wrong_secrets, address_key(address)))

    @inlineCallbacks
    def wrong_code(self, account_id, code, void):
        """
        Count a wrong try at the account's pending C{code}; the try that
        uses up C{code_tries} calls C{void()} (a Deferred), which removes
        the code: the owner asks for a new one, whose count starts afresh.
        Long codes are never voided by strangers.

        @return: a Deferred firing with True when the code was voided.
        """
        if code is None or len(code) >= LONG_CODE:
            return False
        limit = self.code_tries
        now = self.now()
        _, oldest = yield self.storage.reserve_attempt(
            [limit.scope(code_key(account_id, code))], limit.count - 1, ago(now, limit.window), now
        )
        if oldest is None:
            return False
        yield void()
        return True

    @inlineCallbacks
    def wrong_password(self, account_id, address):
        """
        Count a wrong DIGEST answer for the account from C{address}.

        @return: a Deferred firing with the seconds to hold back the 401
            (growing with the account's recent failures, up to
            C{password_delay_max}), or failing with L{TooMany} when the
            address has no wrong secret left.
        """
        attempt = yield self.take(
            (self.wrong_secrets, address_key(address)), (self.password_failures, account_id)
        )
        attempt.failed()
        limit = self.password_failures
        failures = yield self.storage.count_attempts(
            limit.scope(account_id), ago(self.now(), limit.window)
        )
        beyond = failures - self.settings["password_delay_after"]
        if beyond <= 0:
            return 0
        return min(self.settings["password_delay_max"], 2 ** min(beyond - 1, 16))

    # ---------------------------------------------------------- anonymous writes

    def anonymous_write(self, address):
        """Count one anonymous write from C{address} (and of everyone)."""
        return self.take(
            (self.anonymous_writes, address_key(address)), (self.anonymous_writes_total, "*")
        )

    # ---------------------------------------------------------- sending

    def sms(self, account_id, phone):
        """Count one SMS the account asks famd to send to C{phone}."""
        return self.take(
            (self.sms_per_account, account_id), (self.sms_per_destination, hashed(phone))
        )

    def email(self, account_id, address):
        """Count one e-mail the account asks famd to send to C{address}."""
        return self.take(
            (self.emails_per_account, account_id), (self.emails_per_destination, hashed(address))
        )

    # ---------------------------------------------------------- FAM 2.x sign-up

    def device_push(self, pn_provider, pn_param, pn_prid):
        """Count one token pushed to a device by a 2.x send-by-push route."""
        device = "\n".join((pn_provider, pn_param, pn_prid))
        return self.take((self.pushes_per_device, hashed(device)))

    def request_token_poll(self, address):
        """Count one desktop poll of a request token from C{address}."""
        return self.take((self.request_token_polls, address_key(address)))
