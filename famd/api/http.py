"""
JSON in, JSON out, and who is asking: the HTTP helpers every route uses.

Routes read their body with L{read_json_object}, learn their caller with
L{authenticated} and answer with L{json_response}; whatever they refuse
they raise as a L{famd.errors} refusal, answered by L{famd.web}.
"""

import json
import re
from http import HTTPStatus

import orjson

from famd.auth import Presented
from famd.client_address import client_address
from famd.errors import ODD_TEXT, BadRequest, UnsupportedMedia

PHRASES = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}
"""The standard reason phrase of every status."""

_STANDARD_TYPES_ONLY = (
    orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)
"""What the standard library cannot encode either is left to it (and fails there)."""


def encode(data):
    """
    Compact JSON bytes, as the 2021 account manager wrote them: no spaces,
    non-ASCII characters as UTF-8.  orjson writes exactly these bytes for
    famd's bodies (strings, integers, booleans, null, lists, objects with
    string keys) ten times faster than the standard library, which remains
    the answer for anything orjson refuses (an integer beyond 64 bits, a
    non-string key).
    """
    try:
        return orjson.dumps(data, option=_STANDARD_TYPES_ONLY)
    except TypeError:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_response(request, data, status=200, headers=()):
    """
    Set status (with its standard reason phrase: Twisted knows no 422 or
    429) and headers on C{request} and return C{data} as JSON bytes.
    """
    if status != 200:
        request.setResponseCode(status, PHRASES.get(status))
    request.setHeader(b"Content-Type", b"application/json")
    for name, value in headers:
        request.responseHeaders.addRawHeader(name, value)
    return encode(data)


ODD_CHARACTER = re.compile("[\x00\ud800-\udfff]")
"""A NUL or a lone UTF-16 surrogate: text no database famd uses stores (PostgreSQL
refuses a NUL, every driver a surrogate), so no route may receive it."""


def odd_text(value):
    """
    Whether C{value} (decoded JSON) holds, in any key or string, a
    character of L{ODD_CHARACTER}.
    """
    pending = [value]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if ODD_CHARACTER.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def read_json_object(request):
    """
    The request body as a dict.

    @raise UnsupportedMedia: a form body.
    @raise BadRequest: not a JSON object, or one holding a NUL or a lone
        surrogate (L{ODD_CHARACTER}) in a key or a string.  (A body over
        the size limit never gets here: see L{famd.web.FamdRequest}.)
    """
    content_type = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
    if content_type in (b"application/x-www-form-urlencoded", b"multipart/form-data"):
        raise UnsupportedMedia("Send a JSON object with Content-Type: application/json.")
    request.content.seek(0)
    raw = request.content.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    # Only an escape, or a body in UTF-16 or UTF-32 (which json reads), can hold one.
    if (b"\\u" in raw or b"\x00" in raw) and odd_text(data):
        raise BadRequest(ODD_TEXT)
    return data


AGENT_LENGTH = 255
"""The width of the ``ip`` and ``user_agent`` columns."""


def clip(text):
    """An address or user agent as stored (at most the column's width), or None."""
    return None if text is None else text[:AGENT_LENGTH]


def origin(request, proxies):
    """
    (client address, User-Agent) of C{request}, as famd keeps them with a
    token or a code: the address as L{client_address} finds it behind the
    trusted C{proxies}, the User-Agent decoded as UTF-8 (errors replaced),
    or None without the header (an empty header is ''); both clipped to the
    255 characters of the ``ip`` and ``user_agent`` columns.
    """
    agent = request.getHeader(b"user-agent")
    if agent is not None:
        agent = agent.decode("utf-8", "replace")
    return clip(client_address(request, proxies)), clip(agent)


def presented(request, trusted_proxies=()):
    """
    What C{request} presents to prove its sender (L{famd.auth.Presented});
    the client's address only with a DIGEST answer, which counts it.
    """
    api_key = request.getHeader(b"x-api-key")
    authorization = request.getHeader(b"authorization")
    client = None
    if authorization and not api_key:
        client = client_address(request, trusted_proxies)
    return Presented(
        request.getHeader(b"from"),
        api_key,
        authorization,
        request.method,
        request.uri,
        client,
    )


def authenticated(authenticator, request, admin=False, unactivated=False):
    """
    Authenticate C{request} with C{authenticator}; fire with the account,
    having added the DIGEST challenges to repeat to the answer's headers.
    C{unactivated}: a not yet activated account may authenticate (the
    routes that activate it only).
    """
    d = authenticator.authenticate(
        presented(request, authenticator.trusted_proxies), admin, unactivated)
    return d.addCallback(_repeat_challenges, request)


def _repeat_challenges(proven, request):
    for challenge in proven.challenges:
        request.responseHeaders.addRawHeader(b"WWW-Authenticate", challenge.encode("utf-8"))
    return proven.account
