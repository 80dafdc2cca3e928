"""
The ``/provisioning`` web routes (not under ``/api``):

- ``GET /provisioning`` and ``GET /provisioning/{key}``: the lpconfig XML;
  a valid key adds its account once (the key is consumed atomically).  The
  key is a FAM 2.x provisioning token or a 2021 confirmation key.  A
  provisioning token is consumed with the document and activates its
  account; one that was used or replaced by a newer one is 404, an expired
  one 410 (L{famd.flows.provisioning}).  A key that is neither gets the
  defaults, as in 2021;
- ``GET /provisioning/me``: the document of the authenticated account (DIGEST
  or API key, as ``/api``), any number of times, consuming nothing;
- ``GET /provisioning/auth_token/{auth_token}``: the document of the account
  attached to a QR-login auth token, which is deleted;
- ``GET /provisioning/qrcode/{key}``: a PNG QR code of the provisioning URL
  (also in the ``X-Qrcode-URL`` header), without consuming the key, or 404
  for an unknown, used or expired key.

``?reset_password`` (any value) on a provisioning token, ``me`` or an auth
token replaces the account's passwords by a new random one whose HA1s the
document carries; for a token, in the transaction that consumes it.  A
blocked account's token, key or auth token is 403 ``Account blocked`` and
nothing is consumed, activated or reset.  ``X-Linphone-Provisioning`` is
accepted, never required.

Keys and tokens are credentials: never logged (the site's access log masks
them, see L{famd.logsafe.redact}), and a wrong one is a wrong secret of the
client's address (L{famd.throttle}: 429 once its budget is spent).
Refusals are answered like the API's, by L{famd.web}.
"""

from typing import NamedTuple, Optional

from klein import Klein
from twisted.internet.defer import inlineCallbacks, succeed
from twisted.logger import Logger

from famd.api import shapes
from famd.api.declare import Query, Response, declare
from famd.api.http import authenticated
from famd.client_address import TrustedProxies, client_address
from famd.clock import utcnow
from famd.errors import BLOCKED, Forbidden, Gone, NotFound
from famd.flows import provisioning as flow
from famd.provisioning import document, qr, rcfile
from famd.provisioning.document import ProvisioningRequest

UNKNOWN_KEY = "Unknown or expired confirmation key"
UNKNOWN_TOKEN = "Unknown or used provisioning token"
UNKNOWN_AUTH_TOKEN = "Unknown, unattached or expired auth token"
EXPIRED = "Expired"

_NO_STORE = b"no-store"
RESET = Query("reset_password", "Present (any value or none): replace the account's passwords by a "
              "new random one whose HA1s the document carries.", {"type": "string"})


def _decode(value):
    return value.decode("utf-8", "replace")


def provisioning_request(request):
    """The L{ProvisioningRequest} hooks see for a twisted.web C{request}."""
    args = {
        _decode(name): tuple(_decode(value) for value in values)
        for name, values in (request.args or {}).items()
    }
    headers = {
        _decode(name).lower(): ", ".join(_decode(value) for value in values)
        for name, values in request.requestHeaders.getAllRawHeaders()
    }
    return ProvisioningRequest(args=args, headers=headers)


def asks_reset(request):
    """Whether the query has ``reset_password``, with any value or none (``?reset_password``)."""
    query = request.uri.partition(b"?")[2]
    return any(part.partition(b"=")[0] == b"reset_password" for part in query.split(b"&"))


class Provisioning:
    """
    The provisioning routes, over an L{famd.interfaces.IProvisioningStore}.

    @param storage: the IProvisioningStore provider.
    @param public_url: the base of the URL in QR codes (no trailing slash
        needed).
    @param defaults: the operator's linphonerc as
        L{famd.provisioning.rcfile.parse} returns it.
    @param realm: the configured digest realm, or None for each account's
        domain.
    @param overwrite_all: mark every entry ``overwrite="true"``.
    @param hooks: the L{famd.interfaces.IProvisioningHook} providers, in
        order.
    @param clock: a callable returning the current aware UTC datetime.
    @param throttle: the L{famd.throttle.Throttle} counting wrong keys
        (None: not counted).
    @param trusted_proxies: the L{famd.client_address.TrustedProxies} whose
        X-Forwarded-For is believed.
    @param authenticator: the L{famd.auth.Authenticator} of
        ``/provisioning/me`` (None: that route is 404).
    @param config: the L{famd.config.Config} giving the provisioning token
        lifetime and how a reset password is hashed (None: tokens never
        expire, and C{realm} alone hashes).
    """

    app = Klein()
    log = Logger()

    def __init__(
        self,
        storage,
        public_url,
        defaults=(),
        realm=None,
        overwrite_all=False,
        hooks=(),
        clock=utcnow,
        throttle=None,
        trusted_proxies=TrustedProxies(()),
        authenticator=None,
        config=None,
    ):
        self._storage = storage
        self._authenticator = authenticator
        self._config = config if config is not None else _Settings(realm, public_url)
        self._throttle = throttle
        self._trusted = trusted_proxies
        self._public_url = public_url
        self._defaults = tuple(defaults)
        self._realm = realm
        self._overwrite_all = overwrite_all
        self._hooks = tuple(hooks)
        self._clock = clock

    @app.route("/", methods=["GET"], strict_slashes=False)
    @declare(
        "The default provisioning document",
        """The operator's linphonerc as an lpconfig XML document, for a device that has no key;
        hooks may add to it.""",
        auth="public", generation="both", users=("provisioning",),
        responses={200: shapes.XML},
    )
    def defaults_only(self, request):
        """The defaults, for a device that has no key."""
        return self._serve(request, None)

    @app.route("/me", methods=["GET"])
    @declare(
        "The caller's provisioning document",
        """The document of the authenticated account, any number of times, consuming nothing;
        ?reset_password replaces its passwords by a new random one the document carries.""",
        auth="account", generation="2.x", users=("provisioning",), query=(RESET,),
        responses={200: shapes.XML, 403: "Message", 404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def me(self, request):
        """The authenticated account's own document, every time."""
        if self._authenticator is None:
            raise NotFound(UNKNOWN_TOKEN)
        account = yield authenticated(self._authenticator, request)
        account = yield self._reset_if_asked(request, account)
        return self._serve(request, account)

    @app.route("/auth_token/<string:token>", methods=["GET"])
    @declare(
        "The document of a QR-login auth token",
        """The document of the account attached to a fresh auth token, which is deleted; the
        token is the proof.""",
        auth="public", generation="2.x", users=("provisioning",), query=(RESET,),
        responses={200: shapes.XML, 403: "Message", 404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def with_auth_token(self, request, token):
        """The document of the account attached to a fresh auth token, once."""
        cutoff = flow.auth_token_cutoff(self._clock())
        new_passwords = self._new_passwords(request)
        account = yield self._counted(
            request, lambda: self._storage.take_auth_token(token, cutoff, new_passwords),
            lambda found: found is not None,
        )
        if account is None:
            raise NotFound(UNKNOWN_AUTH_TOKEN)
        return self._serve(request, flow.not_blocked(account))

    @app.route("/<string:key>", methods=["GET"])
    @declare(
        "The document of a provisioning token or confirmation key",
        """The defaults and, once, the account of a FAM 2.x provisioning token (consumed, and
        the account activated) or of a 2021 confirmation key (the deprecated form); a used or
        replaced token is 404, an expired one 410, a key that is neither gets the defaults.""",
        auth="public", generation="both", users=("provisioning", "FlexiAPIClient"), query=(RESET,),
        responses={200: shapes.XML, 403: "Message", 404: "Message", 410: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def with_key(self, request, key):
        """The defaults and, once, the account of the provisioning token or confirmation key C{key}."""
        found = yield self._counted(
            request, lambda: self._consume(key, self._new_passwords(request)),
            lambda found: found[0] != "unknown",
        )
        outcome, account = found
        if outcome == "stale":
            raise NotFound(UNKNOWN_TOKEN)
        if outcome == "expired":
            raise Gone(EXPIRED)
        if outcome == "blocked":
            raise Forbidden(BLOCKED)
        return self._serve(request, flow.not_blocked(account))

    @inlineCallbacks
    def _consume(self, key, new_passwords):
        """
        (outcome, account): the provisioning token's outcome (its account's
        passwords replaced by C{new_passwords} when not None), or for a key
        that is no provisioning token the 2021 confirmation key's
        ('confirmation_key', its account: blocked, the key is kept) or
        ('unknown', None).  A blocked account's key or token is refused
        before anything is consumed.
        """
        now = self._clock()
        outcome, account = yield self._storage.consume_provisioning_token(
            key, flow.expired_before(self._config, now), now, new_passwords
        )
        if outcome != "unknown":
            return outcome, account
        account = yield self._storage.consume_confirmation_key(key, now, unless_blocked=True)
        return ("confirmation_key" if account is not None else "unknown"), account

    def _new_passwords(self, request):
        """The C{new_passwords} of a consuming storage method: None unless the request says ``?reset_password``."""
        return flow.new_password_rows(self._config) if asks_reset(request) else None

    def _reset_if_asked(self, request, account):
        """C{account}, with a new password first when the request says ``?reset_password``."""
        if not asks_reset(request):
            return succeed(account)
        return flow.reset_password(self._storage, self._config, account)

    @app.route("/qrcode/<string:key>", methods=["GET"])
    @declare(
        "The QR code of a provisioning URL",
        """A PNG QR code of the provisioning URL of a valid key or unused token, without
        consuming it (the URL also in X-Qrcode-URL).""",
        auth="public", generation="both", users=("a browser",), query=(RESET,),
        responses={200: Response("The QR code.", None, media="image/png",
                                 headers=(("X-Qrcode-URL", "The provisioning URL it encodes."),)),
                   404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def qrcode(self, request, key):
        """The QR code of the provisioning URL of a valid key or unused provisioning token."""
        valid = yield self._counted(request, lambda: self._valid(key), bool)
        if not valid:
            raise NotFound(UNKNOWN_KEY)
        url = qr.provisioning_url(self._public_url, key)
        if asks_reset(request):
            url += "?reset_password=1"
        request.setHeader(b"Content-Type", b"image/png")
        request.setHeader(b"Cache-Control", _NO_STORE)
        request.setHeader(b"X-Qrcode-URL", url.encode("utf-8"))
        return qr.png(url)

    @inlineCallbacks
    def _valid(self, key):
        if (yield self._storage.provisioning_token_unused(key)):
            return True
        return (yield self._storage.confirmation_key_valid(key, self._clock()))

    @inlineCallbacks
    def _counted(self, request, look_up, right):
        """
        C{look_up()}, as a reserved wrong secret of the client that is
        forgotten when C{right(result)}.
        """
        attempt = None
        if self._throttle is not None:
            attempt = yield self._throttle.secret_attempt(client_address(request, self._trusted))
        result = yield look_up()
        if attempt is not None:
            if right(result):
                yield attempt.succeeded()
            else:
                attempt.failed()
        return result

    def _serve(self, request, account):
        hook_request = provisioning_request(request)
        body = document.build(
            self._defaults,
            account,
            self._realm,
            self._overwrite_all,
            self._hooks,
            hook_request,
        )
        self.log.info(
            "provisioning document served to {client}{account}",
            client="a Linphone app" if hook_request.from_linphone else "a client",
            account=(
                " with account #%d" % (account.id,) if account is not None else ""
            ),
        )
        request.setHeader(b"Content-Type", document.CONTENT_TYPE)
        request.setHeader(b"Cache-Control", _NO_STORE)
        return body


class _Settings(NamedTuple):
    """What the routes read of a config when none is given (tests building them by hand)."""

    realm: Optional[str]
    public_url: str
    provisioning_token_lifetime: int = 0
    both_algorithms: bool = False


def from_config(config, storage, hooks, clock=utcnow, throttle=None, authenticator=None):
    """
    A L{Provisioning} as a L{famd.config.Config} describes it; reads the
    rc file (blocking: call at start-up).

    @raise famd.provisioning.rcfile.RcFileError: the rc file is unreadable.
    """
    defaults = rcfile.load(config.rc_file) if config.rc_file else ()
    return Provisioning(
        storage,
        config.public_url,
        defaults=defaults,
        realm=config.realm,
        overwrite_all=config.overwrite_all,
        hooks=hooks,
        clock=clock,
        throttle=throttle,
        trusted_proxies=config.proxies,
        authenticator=authenticator,
        config=config,
    )
