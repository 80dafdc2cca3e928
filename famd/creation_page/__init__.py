"""
The page where a person validates a desktop sign-up's request token
(FAM 2.x's ``validation_url``), served at the site root, not under ``/api``:

 - ``GET /creation_token/check/{token}``: for an unused, not validated
   request token, a form with an ALTCHA proof-of-work check
   (L{famd.creation_page.human_check}); an unknown or used token is a 404
   page and counts as a wrong secret of the client (``throttle.wrong_secrets``),
   an already validated one says to continue in the application;
 - ``POST /creation_token/validate`` (the form: the request token, a CSRF
   token, the widget's answer): validates the request token and says to
   continue in the application; a wrong CSRF token or answer (wrong,
   replayed or expired) is a 403 page and counts as a wrong secret
   (``throttle.wrong_secrets``);
 - ``GET /creation_token/assets/{name}``: the page's stylesheet and the
   vendored ALTCHA widget (npm ``altcha``, MIT, its ``dist/external``
   build, its SHA worker), so the browser fetches nothing from a third party.

Every page is sent with a Content-Security-Policy allowing scripts, workers
and styles from famd only (no inline script), ``Referrer-Policy:
no-referrer`` (the URL holds the token) and ``Cache-Control: no-store``.
"""

import os
from urllib.parse import urlsplit

from klein import Klein
from twisted.internet.defer import inlineCallbacks

from famd.api.http import origin
from famd.client_address import client_address
from famd.creation_page import human_check, page
from famd.flows.signup2 import TOKEN_LENGTH

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
ASSET_TYPES = {
    "altcha.min.js": b"text/javascript; charset=utf-8",
    "sha.js": b"text/javascript; charset=utf-8",
    "init.js": b"text/javascript; charset=utf-8",
    "altcha.css": b"text/css; charset=utf-8",
    "page.css": b"text/css; charset=utf-8",
}
CSP = (
    b"default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    b"frame-ancestors 'none'"
)
"""Inline styles only (the widget sets element styles); no inline script."""
SEGMENT = b"creation_token"


def load_assets():
    """The served assets, read once (blocking: at start-up)."""
    found = {}
    for name in ASSET_TYPES:
        with open(os.path.join(ASSETS, name), "rb") as f:
            found[name] = f.read()
    return found


class CreationPage:
    """
    @param context: the L{famd.flows.Context} (config, storage, clock, throttle).
    """

    app = Klein()

    def __init__(self, context):
        self._context = context
        self._config = context.config
        self._assets = load_assets()
        self._base = urlsplit(context.config.public_url).path.rstrip("/") + "/creation_token/"
        self._secret = None

    def _secure(self, request):
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"Content-Security-Policy", CSP)
        request.setHeader(b"Referrer-Policy", b"no-referrer")
        request.setHeader(b"Cache-Control", b"no-store")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")

    @inlineCallbacks
    def _deployment_secret(self):
        if self._secret is None:
            self._secret = yield self._context.storage.get_setting(
                human_check.SECRET_SETTING, human_check.new_secret())
        return self._secret

    def _message(self, request, status, title, text):
        request.setResponseCode(status)
        return page.message(title, text, self._base + "assets/")

    def _not_found(self, request):
        return self._message(request, 404, "Link not valid",
                             "This link is unknown or was already used. Start the sign-up again "
                             "from the application.")

    def _done(self, request):
        return self._message(request, 200, "Done",
                             "You can now continue in the application: it creates your account.")

    @inlineCallbacks
    def _pending(self, token):
        """The request token if it exists and is unused, else None."""
        if len(token) != TOKEN_LENGTH:
            return None
        found = yield self._context.storage.request_token(token)
        return None if found is None or found.used else found

    @app.route("/check/<string:token>", methods=["GET"])
    @inlineCallbacks
    def check(self, request, token):
        """The form for an unused, not validated request token."""
        self._secure(request)
        # A guessed token is a wrong secret of the client, as on every route that checks one.
        attempt = yield self._context.throttle.secret_attempt(
            client_address(request, self._config.proxies))
        found = yield self._pending(token)
        if found is None:
            attempt.failed()
            return self._not_found(request)
        yield attempt.succeeded()
        if found.validated_at is not None:
            return self._done(request)
        secret = yield self._deployment_secret()
        challenge = human_check.challenge(
            secret, found.token, self._context.now(),
            self._config.signup["human_check_max_number"])
        return page.check_form(
            self._config.app_name, self._base + "validate", found.token,
            human_check.csrf_token(secret, found.token), challenge, self._base + "assets/")

    @app.route("/validate", methods=["POST"])
    @inlineCallbacks
    def validate(self, request):
        """Validate the request token once the form's CSRF token and the proof of work check."""
        self._secure(request)
        token = _field(request, b"account_creation_request_token")
        address, agent = origin(request, self._config.proxies)
        attempt = yield self._context.throttle.secret_attempt(address)
        secret = yield self._deployment_secret()
        now = self._context.now()
        if not (human_check.csrf_valid(secret, token, _field(request, b"csrf"))
                and human_check.verified(secret, token, _field(request, b"altcha"), now)):
            attempt.failed()
            return self._message(request, 403, "Check failed",
                                 "The check did not pass or has expired. Go back, reload the page "
                                 "and try again.")
        yield attempt.succeeded()
        validated = yield self._context.storage.validate_request_token(token, address, agent, now)
        if not validated:
            return self._not_found(request)
        return self._done(request)

    @app.route("/assets/<string:name>", methods=["GET"])
    def asset(self, request, name):
        """A vendored asset of the page."""
        content = self._assets.get(name)
        if content is None:
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"Not found"
        request.setHeader(b"Content-Type", ASSET_TYPES[name])
        request.setHeader(b"Cache-Control", b"public, max-age=86400")
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        return content


def _field(request, name):
    """A form field's text ('' when absent or not UTF-8)."""
    values = request.args.get(name) or [b""]
    try:
        return values[0].decode("utf-8")
    except UnicodeDecodeError:
        return ""
