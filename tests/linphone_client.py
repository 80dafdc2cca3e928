"""
A test client that sends and reads what liblinphone's AccountManagerServices
sends and reads (fam-2-api.md §7), so that the sign-up, linking and devices
sequences of today's Linphone apps can be replayed against famd.

What it copies from liblinphone (linphone-sdk ``account-manager-services``,
``http-client``, belle-sip's ``http-provider``):
  - the base URL is the ``[account_creator] url`` with a ``/`` appended, and
    paths are relative to it;
  - every request has ``Accept: application/json`` and the app's
    ``User-Agent``; ``From: sip:user@domain`` (bare URI) only for
    ``accounts/me/*``;
  - parameters go as compact JSON with ``Content-Type: application/json``,
    whatever the method; without parameters, no body and no Content-Type;
  - on a 401, the first ``WWW-Authenticate`` challenge whose algorithm the
    app holds a password for is answered, with the first qop, ``nc``
    00000001 every time and the request path as ``uri``; it gives up after
    2 attempts;
  - success is any 2xx; a body is read only when the response's
    Content-Type is exactly ``application/json``; an error's message is
    ``message`` (empty if missing) and its field errors the first text of
    each ``errors`` entry, else the reason phrase.
"""

import json
import os
from typing import Dict, NamedTuple, Optional

from twisted.internet import defer

from tests.api_helpers import answer, challenges

USER_AGENT = "LinphoneAndroid/6.0.20 (Pixel 7) LinphoneSDK/5.4.40 (tags/5.4.40)"
"""A Linphone 6 app's user agent (the device name is inside the first parentheses)."""

JSON = b"application/json"


class Outcome(NamedTuple):
    """What liblinphone's callbacks get from one request."""

    status: int
    ok: bool
    data: Optional[object]
    message: str
    errors: Dict[str, str]
    content_type_ok: bool


class LinphoneClient:
    """
    Replays AccountManagerServices requests against a L{tests.serving.Served}.

    @param auth: the AuthInfo the app added: (username, domain, password,
        algorithm or None for any), or None before there is an account.
    """

    def __init__(self, served, base="http://famd.test/api/", user_agent=USER_AGENT):
        self.served = served
        self.base = base
        self.user_agent = user_agent
        self.auth = None
        self.sent = []

    def add_auth_info(self, username, domain, password, algorithm=None):
        self.auth = (username, domain, password, algorithm)

    @property
    def identity(self):
        return "sip:%s@%s" % (self.auth[0], self.auth[1])

    def _headers(self, path, body):
        headers = {b"Accept": [JSON], b"User-Agent": [self.user_agent.encode("ascii")]}
        if path.startswith("accounts/me") and self.auth is not None:
            headers[b"From"] = [self.identity.encode("utf-8")]
        if body is not None:
            headers[b"Content-Type"] = [JSON]
        return headers

    def _authorization(self, method, uri, offered):
        """The Authorization belle-sip sends for the first challenge it can answer, or None."""
        if self.auth is None:
            return None
        username, _, password, algorithm = self.auth
        for challenge in offered:
            if algorithm is None or challenge["algorithm"] == algorithm:
                return answer(challenge, username, password, method, uri, nc=1,
                              cnonce=os.urandom(8).hex())
        return None

    @defer.inlineCallbacks
    def request(self, method, path, params=None):
        """Send one request as liblinphone does; fire with its L{Outcome}."""
        body = None if params is None else json.dumps(params, separators=(",", ":")).encode()
        url = self.base + path
        uri = "/" + url.split("://", 1)[1].split("/", 1)[1]
        headers = self._headers(path, body)
        for attempt in range(2):
            self.sent.append((method, path, {k: list(v) for k, v in headers.items()}, body))
            status, response_headers, content = yield self.served.client.request(
                method, url, headers, body)
            if status != 401 or attempt == 1:
                break
            authorization = self._authorization(method, uri, challenges(response_headers))
            if authorization is None:
                break
            headers = dict(headers)
            headers[b"Authorization"] = [authorization.encode("utf-8")]
        return self._outcome(status, response_headers, content)

    @staticmethod
    def _outcome(status, headers, content):
        content_type = (headers.getRawHeaders(b"content-type") or [b""])[0]
        exact = content_type == JSON
        data = None
        if exact and content:
            try:
                data = json.loads(content)
            except ValueError:
                data = None
        ok = 200 <= status < 300
        message, errors = "", {}
        if not ok:
            if exact and isinstance(data, dict):
                message = data.get("message") or ""
                errors = {key: texts[0] for key, texts in (data.get("errors") or {}).items()}
            else:
                message = "HTTP %d" % (status,)
        return Outcome(status, ok, data, message, errors, exact)
