"""
Who is calling: the ``From`` header names the account, an ``x-api-key`` or
an RFC 7616 DIGEST answer proves it, an ``admins`` row makes it an admin.

L{Authenticator.authenticate} fires with the L{famd.model.Account} or fails
with the L{famd.api.http.HTTPError} the 2021 account manager answered: 422
without ``From``, 404 for an unknown account, 401 (one ``WWW-Authenticate``
challenge per stored password, a fresh nonce) for anything unproven, 403
for a non-admin on an admin endpoint.  Nonces live in storage, so every famd
process on the database accepts them; their count is raised atomically.
Keys, HA1s and responses are compared in constant time and never logged.
"""

import re
from urllib.parse import unquote_to_bytes

from twisted.internet.defer import fail, succeed

from famd import digest
from famd.api.http import HTTPError, ValidationError
from famd.clock import ago
from famd.credentials import random_string, realm_for, same

NO_ACCOUNT = "No query results for model [App\\Account]."
UNAUTHENTICATED = "Unauthenticated request"
UNAUTHORIZED = "Unauthorized"
REPLAYED = "Nonce replayed"
INVALID_NONCE = "Nonce invalid"
NOT_ADMIN = "Unauthorized area"
OPAQUE_SETTING = "digest_opaque"

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"]")
_PORT = re.compile(r":[0-9]*$")


class MalformedAddress(ValueError):
    """A From header that is not a SIP address."""


def parse_from(value):
    """
    (user, domain) of a ``From`` header value (str): ``sip:user@domain``,
    with or without ``"Name" <...>``, ``;tag=`` and URI parameters, a port,
    %-escapes, a ``sips:`` scheme or none.

    @raise MalformedAddress: not a SIP address with a user and a domain.
    """
    text = value.strip()
    if "<" in text:
        start = text.index("<")
        end = text.find(">", start)
        if end < 0:
            raise MalformedAddress("unclosed <")
        text = text[start + 1 : end].strip()
    scheme, colon, rest = text.partition(":")
    if colon and "@" not in scheme:
        if scheme.lower() not in ("sip", "sips"):
            raise MalformedAddress("not a sip: URI")
        text = rest
    userinfo, at, hostpart = text.partition("@")
    if not at:
        raise MalformedAddress("no @")
    user = userinfo.partition(":")[0]
    host = re.split(r"[;?]", hostpart, maxsplit=1)[0]
    host = host if host.endswith("]") else _PORT.sub("", host)
    try:
        user = unquote_to_bytes(user).decode("utf-8")
        host = unquote_to_bytes(host).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedAddress("not UTF-8") from None
    if not user or not host or _FORBIDDEN.search(user) or _FORBIDDEN.search(host) or "@" in host:
        raise MalformedAddress("empty or forbidden characters")
    return user, host


def from_address(request):
    """(user, domain) of the request's ``From``; 422 when missing or malformed."""
    raw = request.getHeader(b"from")
    if raw is None or not raw.strip():
        raise ValidationError({"from": ["The from field is required."]})
    try:
        return parse_from(raw.decode("utf-8"))
    except (UnicodeDecodeError, MalformedAddress):
        raise ValidationError({"from": ["The from must be a valid SIP address."]}) from None


class Authenticator:
    """
    Authenticates requests against C{storage} (an L{famd.interfaces.IStorage}).

    @param config: the L{famd.config.Config} (realm, nonce_lifetime,
        everyone_is_admin).
    @param now: a callable returning the current aware UTC datetime.
    """

    def __init__(self, config, storage, now):
        self.config = config
        self.storage = storage
        self.now = now
        self._opaque = None

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

        d = self.storage.get_setting(OPAQUE_SETTING, random_string(32))
        return d.addCallback(keep)

    def authenticate(self, request, admin=False):
        """
        Fire with the authenticated, activated L{famd.model.Account}; fail
        with an L{HTTPError}.  A successful DIGEST request gets the challenge
        again, same nonce, so the client continues with the next count.
        (Plain callbacks, not inlineCallbacks: this runs on every request.)
        """
        try:
            username, domain = from_address(request)
        except HTTPError:
            return fail()
        d = self.storage.find_account(username, domain)
        return d.addCallback(self._check, request, admin)

    def _check(self, account, request, admin):
        if account is None:
            raise HTTPError(404, NO_ACCOUNT)
        if not account.activated:
            return self._refuse(account, UNAUTHENTICATED)
        key = request.getHeader(b"x-api-key")
        if key:
            if not same(key, account.api_key):
                return self._refuse(account, UNAUTHENTICATED)
            return self._authorize(account, admin)
        return self._digest(request, account).addCallback(lambda _: self._authorize(account, admin))

    def _authorize(self, account, admin):
        if admin and account.admin is None and not self.config.everyone_is_admin:
            raise HTTPError(403, NOT_ADMIN)
        return account

    def _digest(self, request, account):
        header = request.getHeader(b"authorization")
        if not header:
            return self._refuse(account, UNAUTHENTICATED)
        try:
            params = digest.parse_authorization(header.decode("utf-8"))
        except (UnicodeDecodeError, digest.DigestError):
            return self._refuse(account, UNAUTHORIZED)
        return self.opaque().addCallback(self._answer, request, account, params)

    def _answer(self, opaque, request, account, params):
        nc = digest.check(
            params,
            method=request.method.decode("ascii", "replace"),
            uri=request.uri.decode("utf-8", "replace"),
            username=account.username,
            realm=self.realm(account),
            opaque=opaque,
            passwords=account.passwords,
        )
        if nc is None:
            return self._refuse(account, UNAUTHORIZED)
        now = self.now()
        d = self.storage.use_nonce(
            account.id, params["nonce"], nc, ago(now, self.config.nonce_lifetime), now
        )
        return d.addCallback(self._nonce_used, request, account, params["nonce"], opaque)

    def _nonce_used(self, outcome, request, account, nonce, opaque):
        if outcome != "ok":
            return self._refuse(account, REPLAYED if outcome == "replayed" else INVALID_NONCE)
        for name, value in self.challenges(account, nonce, opaque):
            request.responseHeaders.addRawHeader(name, value)

    def _refuse(self, account, message):
        """A Deferred failing with L{refusal}'s 401."""
        return self.refusal(account, message).addCallback(_raise)

    def realm(self, account):
        """The digest realm of C{account}: the configured one or its domain."""
        return realm_for(self.config.realm, account.domain)

    def challenges(self, account, nonce, opaque):
        """The ``WWW-Authenticate`` headers: one per stored password, in row order."""
        offered = digest.offered_algorithms(p.algorithm for p in account.passwords)
        return [
            (b"WWW-Authenticate", digest.challenge(self.realm(account), algorithm, nonce, opaque).encode("utf-8"))
            for algorithm in offered or digest.ALGORITHMS
        ]

    def refusal(self, account, message):
        """A Deferred of a 401 L{HTTPError} challenging C{account} with a freshly stored nonce."""
        nonce = random_string(32)

        def stored(_, opaque):
            return HTTPError(401, message, headers=self.challenges(account, nonce, opaque))

        def store(opaque):
            d = self.storage.create_nonce(account.id, nonce, self.now())
            return d.addCallback(stored, opaque)

        return self.opaque().addCallback(store)


def _raise(error):
    raise error
