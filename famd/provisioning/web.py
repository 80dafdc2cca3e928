"""
The ``/provisioning`` web routes (not under ``/api``):

- ``GET /provisioning`` and ``GET /provisioning/{key}``: the lpconfig XML;
  a valid key adds its account once (the key is consumed atomically);
- ``GET /provisioning/qrcode/{key}``: a PNG QR code of the provisioning URL,
  without consuming the key, or 404 for an unknown or expired key.

The confirmation key is a credential: it is never logged (the site's access
log masks it, see L{famd.logsafe.redact}), and a wrong one is a wrong
secret of the client's address (L{famd.throttle}: 429 once its budget is
spent).  Refusals are answered like the
API's, by L{famd.web}.
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.client_address import TrustedProxies, client_address
from famd.clock import utcnow
from famd.errors import NotFound
from famd.provisioning import document, qr, rcfile
from famd.provisioning.document import ProvisioningRequest

UNKNOWN_KEY = "Unknown or expired confirmation key"

_NO_STORE = b"no-store"


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
    ):
        self._storage = storage
        self._throttle = throttle
        self._trusted = trusted_proxies
        self._public_url = public_url
        self._defaults = tuple(defaults)
        self._realm = realm
        self._overwrite_all = overwrite_all
        self._hooks = tuple(hooks)
        self._clock = clock

    @app.route("/", methods=["GET"], strict_slashes=False)
    def defaults_only(self, request):
        """The defaults, for a device that has no key."""
        return self._serve(request, None)

    @app.route("/<string:key>", methods=["GET"])
    @inlineCallbacks
    def with_key(self, request, key):
        """The defaults and, once, the account holding C{key}."""
        account = yield self._counted(
            request, self._storage.consume_confirmation_key, key, lambda found: found is not None
        )
        return self._serve(request, account)

    @app.route("/qrcode/<string:key>", methods=["GET"])
    @inlineCallbacks
    def qrcode(self, request, key):
        """The QR code of the provisioning URL of a valid key."""
        valid = yield self._counted(request, self._storage.confirmation_key_valid, key, bool)
        if not valid:
            raise NotFound(UNKNOWN_KEY)
        request.setHeader(b"Content-Type", b"image/png")
        request.setHeader(b"Cache-Control", _NO_STORE)
        return qr.png(qr.provisioning_url(self._public_url, key))

    @inlineCallbacks
    def _counted(self, request, look_up, key, right):
        """
        C{look_up(key, now)}, as a reserved wrong secret of the client that
        is forgotten when C{right(result)}.
        """
        attempt = None
        if self._throttle is not None:
            attempt = yield self._throttle.secret_attempt(client_address(request, self._trusted))
        result = yield look_up(key, self._clock())
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


def from_config(config, storage, hooks, clock=utcnow, throttle=None):
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
    )
