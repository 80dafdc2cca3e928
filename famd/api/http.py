"""
JSON in, JSON out: the HTTP helpers every API route uses.

Routes raise L{HTTPError} (or its L{ValidationError} form) and return plain
data; the application's error handlers and L{json_response} turn both into
JSON bodies.  No handler ever lets an exception become a 500 without a JSON
body.
"""

import json

import orjson

VALIDATION_MESSAGE = "The given data was invalid."


class HTTPError(Exception):
    """An answer other than success: status, JSON body and extra headers."""

    def __init__(self, status, message, headers=None, body=None):
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else {"message": message}
        self.headers = headers or []


class ValidationError(HTTPError):
    """422 with the 2021 shape: a message and every failing field's texts."""

    def __init__(self, errors):
        super().__init__(422, VALIDATION_MESSAGE, body={"message": VALIDATION_MESSAGE, "errors": errors})
        self.errors = errors


def not_found(what="Not found"):
    return HTTPError(404, what)


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
    """Set status and headers on C{request} and return C{data} as JSON bytes."""
    request.setResponseCode(status)
    request.setHeader(b"Content-Type", b"application/json")
    for name, value in headers:
        request.responseHeaders.addRawHeader(name, value)
    return encode(data)


def read_json_object(request):
    """
    The request body as a dict.

    @raise HTTPError: 415 for a form body, 400 when it is not a JSON
        object.  (A body over the size limit never gets here: see
        L{famd.web.FamdRequest}.)
    """
    content_type = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
    if content_type in (b"application/x-www-form-urlencoded", b"multipart/form-data"):
        raise HTTPError(415, "Send a JSON object with Content-Type: application/json.")
    request.content.seek(0)
    raw = request.content.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise HTTPError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "The request body must be a JSON object.")
    return data
