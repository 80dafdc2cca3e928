"""
Who is calling: the ``From`` header names the account, an ``x-api-key`` or
an RFC 7616 DIGEST answer proves it, an ``admins`` row makes it an admin.

L{Authenticator.authenticate} takes what a request presents (L{Presented}:
header values, nothing of HTTP) and fires with the L{Authenticated}
account, or fails with the refusal the 2021 account manager answered:
L{Invalid} without a valid ``From``, L{NotFound} for an unknown account,
L{Unauthorized} (one DIGEST challenge per stored password, a fresh nonce)
for anything unproven, L{Forbidden} for a non-admin on an admin endpoint
and, after the proof, L{Forbidden} ``Account blocked`` for a blocked account
(FAM 2.x's ``accounts.blocked``: it authenticates nowhere).  A not yet
activated account is refused like an unknown password (the 2021 401 and
challenge), except on the routes that activate it (FAM 2.x's sign-up
flows: ``me/phone/request``, ``me/phone``, ``me/email/request``,
``me/email``), which ask for it with C{unactivated}.
A challenge writes nothing: its nonce is minted by L{famd.digest_nonces}
under a key every process shares, and gets a row only when used, where its
count is raised atomically.  A wrong DIGEST answer is a wrong secret of the
client's address (L{famd.throttle}: 429 once its budget is spent, for right
answers too) and of the account (its 401 comes later and later).  Keys,
HA1s and responses are compared in constant time and never logged.
"""

from typing import Any, NamedTuple, Optional, Tuple

from twisted.internet.defer import fail, inlineCallbacks, succeed
from twisted.internet.task import deferLater

from famd import digest, digest_nonces
from famd.clock import ago
from famd.credentials import random_string, realm_for, same
from famd.errors import BLOCKED, NO_ACCOUNT, Forbidden, Invalid, NotFound, TooMany, Unauthorized
from famd.sip import MalformedAddress, parse_address

UNAUTHENTICATED = "Unauthenticated request"
UNAUTHORIZED = "Unauthorized"
REPLAYED = "Nonce replayed"
INVALID_NONCE = "Nonce invalid"
NOT_ADMIN = "Unauthorized area"
OPAQUE_SETTING = "digest_opaque"


class Presented(NamedTuple):
    """
    What a request presents to prove who sends it: raw header values
    (bytes, or None when absent), its method and its URI as sent.
    """

    sender: Optional[bytes]
    api_key: Optional[bytes]
    authorization: Optional[bytes]
    method: bytes
    uri: bytes
    client: Optional[str] = None


class Authenticated(NamedTuple):
    """
    A proven account, with the DIGEST challenges (str) to send back with
    the answer (the same nonce, so the client goes on with the next count;
    empty for an API key).
    """

    account: Any
    challenges: Tuple[str, ...] = ()


def sender_address(sender):
    """
    (user, domain) of a ``From`` header value (bytes or None).

    @raise Invalid: missing, or not a SIP address.
    """
    if sender is None or not sender.strip():
        raise Invalid({"from": ["The from field is required."]})
    try:
        return parse_address(sender.decode("utf-8"))
    except (UnicodeDecodeError, MalformedAddress):
        raise Invalid({"from": ["The from must be a valid SIP address."]}) from None


class Authenticator:
    """
    Authenticates callers against C{storage} (an L{famd.interfaces.IStorage}).

    @param now: a callable returning the current aware UTC datetime.
    @param realm: the configured DIGEST realm, or None for each account's domain.
    @param nonce_lifetime: seconds a nonce stays valid.
    @param everyone_is_admin: every authenticated account is an admin.
    @param throttle: the L{famd.throttle.Throttle} counting wrong answers
        (None: not counted).
    @param clock: the IReactorTime holding back a wrong answer's 401
        (None: answered at once).
    @param first_use_window: seconds after its challenge a nonce may be
        used a first time.
    @param trusted_proxies: the L{famd.client_address.TrustedProxies}
        whose X-Forwarded-For is believed (for L{famd.api.http.presented}).
    """

    def __init__(self, storage, now, realm=None, nonce_lifetime=3600, everyone_is_admin=False,
                 throttle=None, clock=None, first_use_window=300, trusted_proxies=()):
        self.storage = storage
        self.now = now
        self.realm = realm
        self.nonce_lifetime = nonce_lifetime
        self.everyone_is_admin = everyone_is_admin
        self.throttle = throttle
        self.clock = clock
        self.first_use_window = min(first_use_window, nonce_lifetime)
        self.trusted_proxies = trusted_proxies
        self._opaque = None
        self._nonce_key = None

    @classmethod
    def from_config(cls, config, storage, now, throttle=None, clock=None):
        """The authenticator a L{famd.config.Config} describes."""
        return cls(
            storage, now, config.realm, config.nonce_lifetime, config.everyone_is_admin,
            throttle=throttle, clock=clock, first_use_window=config.nonce_first_use_window,
            trusted_proxies=config.proxies,
        )

    def authenticate(self, presented, admin=False, unactivated=False):
        """
        Fire with the L{Authenticated}, activated account C{presented}
        proves (an admin when C{admin}; activated or not when
        C{unactivated}), or fail with a refusal: L{Forbidden} for a blocked
        account, once proven.

        Every authenticated request takes this chain, so it is plain
        callbacks, one step after the other: find the account, check its
        proof, check its rights.
        """
        try:
            username, domain = sender_address(presented.sender)
        except Invalid:
            return fail()
        d = self.storage.find_account(username, domain)
        d.addCallback(self._prove, presented, unactivated)
        if admin:
            d.addCallback(self._authorize_admin)
        return d

    def _prove(self, account, presented, unactivated=False):
        """
        The L{Authenticated} C{account}, if C{presented} proves it (a
        Deferred for DIGEST) and it may authenticate: activated (or
        C{unactivated} allowed) and not blocked.
        """
        if account is None:
            raise NotFound(NO_ACCOUNT)
        if not account.activated and not unactivated:
            return self._refuse(account, UNAUTHENTICATED)
        if not presented.api_key:
            if not presented.authorization:
                return self._refuse(account, UNAUTHENTICATED)
            return self._digest(presented, account)
        if not same(presented.api_key, account.api_key):
            return self._refuse(account, UNAUTHENTICATED)
        if account.blocked:
            raise Forbidden(BLOCKED)
        return Authenticated(account)

    def _authorize_admin(self, proven):
        if proven.account.admin is None and not self.everyone_is_admin:
            raise Forbidden(NOT_ADMIN)
        return proven

    @inlineCallbacks
    def _digest(self, presented, account):
        """The L{Authenticated} C{account} once C{presented}'s DIGEST answer is proven and its nonce used."""
        try:
            params = digest.parse_authorization(presented.authorization.decode("utf-8"))
        except (UnicodeDecodeError, digest.DigestError):
            params = None
        if params is None:
            yield self._refuse(account, UNAUTHORIZED)
        opaque = yield self.opaque()
        nc = digest.check(
            params,
            method=presented.method.decode("ascii", "replace"),
            uri=presented.uri.decode("utf-8", "replace"),
            username=account.username,
            realm=self.realm_of(account),
            opaque=opaque,
            passwords=account.passwords,
        )
        if nc is None:
            yield self._wrong_answer(account, presented)
        now = self.now()
        key = yield self.nonce_key()
        issued = digest_nonces.first_use(
            key, account.id, params["nonce"], now, self.first_use_window
        )
        blocking = ()
        if self.throttle is not None:
            blocking = self.throttle.blocking(presented.client or "")
        outcome = yield self.storage.use_nonce(
            account.id, params["nonce"], nc, ago(now, self.nonce_lifetime), now, issued, blocking
        )
        if outcome == "limited":
            yield self._limited(presented)
        if outcome != "ok":
            yield self._refuse(account, REPLAYED if outcome == "replayed" else INVALID_NONCE)
        if account.blocked:
            raise Forbidden(BLOCKED)
        return Authenticated(account, self.challenges(account, params["nonce"], opaque))

    @inlineCallbacks
    def _wrong_answer(self, account, presented):
        """
        Count a wrong DIGEST answer; fail with L{TooMany} when the address
        has no wrong secret left, else with the L{Unauthorized} challenge,
        held back longer the more the account was recently failed.
        """
        if self.throttle is not None:
            delay = yield self.throttle.wrong_password(account.id, presented.client or "")
            if delay and self.clock is not None:
                yield deferLater(self.clock, delay, lambda: None)
        yield self._refuse(account, UNAUTHORIZED)

    @inlineCallbacks
    def _limited(self, presented):
        """Fail with the L{TooMany} of the address whose wrong secrets are spent."""
        attempt = yield self.throttle.secret_attempt(presented.client or "")
        # Freed between the two transactions: this answer was not a wrong one.
        yield attempt.succeeded()
        self.throttle.refused(self.throttle.wrong_secrets.name)
        raise TooMany(1)

    def opaque(self):
        """
        The deployment's digest ``opaque``: a random value stored once in the
        database, the same on every process, cached here since it never
        changes.
        """
        if self._opaque is not None:
            return succeed(self._opaque)

        def keep(value):
            self._opaque = value
            return value

        return self.storage.get_setting(OPAQUE_SETTING, random_string(32)).addCallback(keep)

    def nonce_key(self):
        """The deployment's nonce HMAC key, stored once like the opaque."""
        if self._nonce_key is not None:
            return succeed(self._nonce_key)

        def keep(value):
            self._nonce_key = value
            return value

        return self.storage.get_setting(
            digest_nonces.KEY_SETTING, digest_nonces.new_key()
        ).addCallback(keep)

    def realm_of(self, account):
        """The digest realm of C{account}: the configured one or its domain."""
        return realm_for(self.realm, account.domain)

    def challenges(self, account, nonce, opaque):
        """The DIGEST challenges (str): one per stored password, in row order."""
        offered = digest.offered_algorithms(p.algorithm for p in account.passwords)
        return tuple(
            digest.challenge(self.realm_of(account), algorithm, nonce, opaque)
            for algorithm in offered or digest.ALGORITHMS
        )

    def _refuse(self, account, message):
        """
        Fail with the L{Unauthorized} challenging C{account} with a freshly
        minted nonce (nothing stored).  Every challenge comes through here,
        half of every DIGEST exchange, so once the opaque and the nonce key
        are known (the first challenge of a process reads them) it is a
        Deferred that has already failed, like the success path's plain
        callbacks.
        """
        if self._opaque is None or self._nonce_key is None:
            d = self.opaque()
            d.addCallback(lambda _: self.nonce_key())
            return d.addCallback(lambda _: self._refuse(account, message))
        nonce = digest_nonces.mint(self._nonce_key, account.id, self.now())
        return fail(Unauthorized(message, self.challenges(account, nonce, self._opaque)))
