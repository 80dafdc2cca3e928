"""
Who is calling: the ``From`` header names the account, an ``x-api-key`` or
an RFC 7616 DIGEST answer proves it, an ``admins`` row makes it an admin.

L{Authenticator.authenticate} takes what a request presents (L{Presented}:
header values, nothing of HTTP) and fires with the L{Authenticated}
account, or fails with the refusal the 2021 account manager answered:
L{Invalid} without a valid ``From``, L{NotFound} for an unknown account,
L{Unauthorized} (one DIGEST challenge per stored password, a fresh nonce)
for anything unproven, L{Forbidden} for a non-admin on an admin endpoint.
Nonces live in storage, so every famd process on the database accepts them;
their count is raised atomically.  Keys, HA1s and responses are compared in
constant time and never logged.
"""

from typing import Any, NamedTuple, Optional, Tuple

from twisted.internet.defer import fail, inlineCallbacks, succeed

from famd import digest
from famd.clock import ago
from famd.credentials import random_string, realm_for, same
from famd.errors import NO_ACCOUNT, Forbidden, Invalid, NotFound, Unauthorized
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
    """

    def __init__(self, storage, now, realm=None, nonce_lifetime=3600, everyone_is_admin=False):
        self.storage = storage
        self.now = now
        self.realm = realm
        self.nonce_lifetime = nonce_lifetime
        self.everyone_is_admin = everyone_is_admin
        self._opaque = None

    @classmethod
    def from_config(cls, config, storage, now):
        """The authenticator a L{famd.config.Config} describes."""
        return cls(storage, now, config.realm, config.nonce_lifetime, config.everyone_is_admin)

    def authenticate(self, presented, admin=False):
        """
        Fire with the L{Authenticated}, activated account C{presented}
        proves (an admin when C{admin}), or fail with a refusal.

        Every authenticated request takes this chain, so it is plain
        callbacks, one step after the other: find the account, check its
        proof, check its rights.
        """
        try:
            username, domain = sender_address(presented.sender)
        except Invalid:
            return fail()
        d = self.storage.find_account(username, domain)
        d.addCallback(self._prove, presented)
        if admin:
            d.addCallback(self._authorize_admin)
        return d

    def _prove(self, account, presented):
        """The L{Authenticated} C{account}, if C{presented} proves it (a Deferred for DIGEST)."""
        if account is None:
            raise NotFound(NO_ACCOUNT)
        if not account.activated:
            return self._refuse(account, UNAUTHENTICATED)
        if not presented.api_key:
            if not presented.authorization:
                return self._refuse(account, UNAUTHENTICATED)
            return self._digest(presented, account)
        if not same(presented.api_key, account.api_key):
            return self._refuse(account, UNAUTHENTICATED)
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
            yield self._refuse(account, UNAUTHORIZED)
        now = self.now()
        outcome = yield self.storage.use_nonce(
            account.id, params["nonce"], nc, ago(now, self.nonce_lifetime), now
        )
        if outcome != "ok":
            yield self._refuse(account, REPLAYED if outcome == "replayed" else INVALID_NONCE)
        return Authenticated(account, self.challenges(account, params["nonce"], opaque))

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
        stored nonce.  (Every challenge comes through here, half of every
        DIGEST exchange: plain callbacks, as the success path.)
        """
        nonce = random_string(32)
        d = self.storage.create_nonce(account.id, nonce, self.now())
        d.addCallback(lambda _: self.opaque())
        return d.addCallback(self._unauthorized, account, message, nonce)

    def _unauthorized(self, opaque, account, message, nonce):
        raise Unauthorized(message, self.challenges(account, nonce, opaque))
