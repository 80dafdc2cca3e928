"""
FAM 2.x's QR login and API keys under ``/api``:

- ``POST /accounts/auth_token`` (anonymous, under the anonymous-write
  limit): a new auth token, 201 with its model JSON;
- ``GET /accounts/auth_token/{auth_token}/attach`` (an account): attaches
  a token younger than five minutes to the caller, 200 with an empty body;
- ``GET /accounts/me/api_key/{auth_token}`` (anonymous: the attached token
  is the proof): deletes the token and answers a new API key of its
  account, ``{"api_key": ...}`` and an ``x-api-key`` cookie;
- ``GET /accounts/me/api_key`` (an account): a new API key for the caller,
  as the raw body, and the cookie.

(``GET /provisioning/auth_token/{auth_token}`` trades a token for the
document instead: L{famd.provisioning.web}.)  famd keeps one API key per
account (the 2021 ``api_keys`` table has a unique ``account_id``): a new
key replaces the account's key, an administrator's included.  A wrong
token is a wrong secret of the client's address (L{famd.throttle}).
"""

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api import shapes
from famd.api.declare import Response, declare
from famd.api.http import authenticated, json_response, origin
from famd.client_address import client_address
from famd.clock import laravel
from famd.credentials import random_string
from famd.errors import NotFound
from famd.flows import provisioning as flow

UNKNOWN_AUTH_TOKEN = "Unknown, expired or already used auth token"
COOKIE_LIFETIME = 3600
"""Seconds the ``x-api-key`` cookie lives (FAM: APP_API_KEY_EXPIRATION_MINUTES, 60)."""


class AuthTokens:
    """
    @param authenticator: the L{famd.auth.Authenticator}.
    @param context: the L{famd.flows.Context}.
    """

    app = Klein()

    def __init__(self, authenticator, context):
        self._authenticator = authenticator
        self._context = context
        self._config = context.config

    @app.route("/accounts/auth_token", methods=["POST"])
    @declare(
        "A new auth token (QR login)",
        """Anyone gets a new auth token, not yet attached to an account; an app shows it as a QR
        code for a signed-in device to attach. The request body is ignored.""",
        auth="public", generation="2.x", users=("FlexiAPIClient",),
        responses={201: Response("The new token.", shapes.AUTH_TOKEN), 429: "TooMany"},
    )
    @inlineCallbacks
    def create(self, request):
        """A new, unattached auth token (the request body is ignored)."""
        address, agent = origin(request, self._config.proxies)
        yield self._context.throttle.anonymous_write(address)
        token = random_string(flow.AUTH_TOKEN_LENGTH)
        now = self._context.now()
        token_id = yield self._context.storage.add_auth_token(token, now, address, agent)
        body = {
            "token": token,
            "ip": address,
            "user_agent": agent,
            "updated_at": laravel(now),
            "created_at": laravel(now),
            "id": token_id,
        }
        return json_response(request, body, status=201)

    @app.route("/accounts/auth_token/<string:token>/attach", methods=["GET"])
    @declare(
        "Attach an auth token to the caller",
        """The authenticated account attaches an auth token younger than five minutes to itself,
        so that the device showing it may trade it for an API key or a provisioning document.""",
        auth="account", generation="2.x", users=("FlexiAPIClient",),
        responses={200: shapes.EMPTY_HTML, 404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def attach(self, request, token):
        """Attach a fresh auth token to the caller."""
        account = yield authenticated(self._authenticator, request)
        now = self._context.now()
        attached = yield self._checked(
            request,
            lambda: self._context.storage.attach_auth_token(
                token, account.id, flow.auth_token_cutoff(now), now),
        )
        if not attached:
            raise NotFound(UNKNOWN_AUTH_TOKEN)
        request.setHeader(b"Content-Type", b"text/html; charset=UTF-8")
        return b""

    @app.route("/accounts/me/api_key/<string:token>", methods=["GET"])
    @declare(
        "Trade an attached auth token for an API key",
        """The attached auth token is the proof: it is deleted, and its account gets a new API
        key (replacing its previous one), in the body and in an x-api-key cookie.""",
        auth="public", generation="2.x", users=("FlexiAPIClient",),
        responses={200: Response("The new key.", shapes.API_KEY,
                                 headers=(("Set-Cookie", "x-api-key=...; Max-Age=3600; HttpOnly"),)),
                   403: "Message", 404: "Message", 429: "TooMany"},
    )
    @inlineCallbacks
    def api_key_for_token(self, request, token):
        """Trade an attached auth token for a new API key of its account."""
        now = self._context.now()
        account = yield self._checked(
            request, lambda: self._context.storage.take_auth_token(token, flow.auth_token_cutoff(now))
        )
        if account is None:
            raise NotFound(UNKNOWN_AUTH_TOKEN)
        flow.not_blocked(account)
        key = yield flow.new_api_key(self._context.storage, account.id, now)
        self._cookie(request, key)
        return json_response(request, {"api_key": key})

    @app.route("/accounts/me/api_key", methods=["GET"])
    @declare(
        "A new API key for the caller",
        """The authenticated account gets a new API key, replacing its previous one: the raw
        key as a text/plain body, and an x-api-key cookie.""",
        auth="account", generation="2.x", users=("tools",),
        responses={200: Response("The new key, raw.", {"type": "string"}, media="text/plain",
                                 headers=(("Set-Cookie", "x-api-key=...; Max-Age=3600; HttpOnly"),)),
                   429: "TooMany"},
    )
    @inlineCallbacks
    def renew(self, request):
        """A new API key for the caller, as the raw body."""
        account = yield authenticated(self._authenticator, request)
        key = yield flow.new_api_key(self._context.storage, account.id, self._context.now())
        self._cookie(request, key)
        request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
        return key.encode("ascii")

    @inlineCallbacks
    def _checked(self, request, look_up):
        """
        The result of C{look_up()} (a Deferred), run once a wrong secret of
        the client is reserved, which is forgotten when the result is true.
        """
        attempt = yield self._context.throttle.secret_attempt(
            client_address(request, self._config.proxies))
        try:
            result = yield look_up()
        except Exception:
            attempt.failed()
            raise
        if result:
            yield attempt.succeeded()
        else:
            attempt.failed()
        return result

    def _cookie(self, request, key):
        secure = b"; Secure" if self._config.public_url.startswith("https://") else b""
        request.responseHeaders.addRawHeader(
            b"Set-Cookie",
            b"x-api-key=%s; Max-Age=%d; Path=/; HttpOnly; SameSite=Lax%s"
            % (key.encode("ascii"), COOKIE_LIFETIME, secure),
        )
