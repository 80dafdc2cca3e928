"""
Making client values fit for log lines.

Some paths carry a secret (a provisioning key, an e-mail change link, a
reset-password link):
L{redact} masks it before any log line, access log included, shows the
path.  It reads the path as the routes do (%-escapes decoded, so
``/provisioning/%4BEY`` is the key ``KEY``) and with repeated slashes
collapsed first, so ``/provisioning//KEY`` is masked too, although the
edge answers it 404 (see L{famd.web.FamdRequest}).

L{printable} escapes what a client wrote (method, path, user agent...) so
that a line of the log stays one line: control characters, quotes,
backslashes and bytes outside printable ASCII become ``\\n``, ``\\"``,
``\\\\``, ``\\xNN``.
"""

import re
from urllib.parse import unquote_to_bytes

_SECRET_ROUTES = re.compile(
    rb"(/provisioning/qrcode/|/provisioning/|/api/accounts/me/email/confirm/"
    rb"|/api/accounts/me/api_key/|/api/accounts/auth_token/|/creation_token/check/"
    rb"|/reset_password/|/recovery/phone/)(?=.)",
    re.DOTALL,
)
_SLASHES = re.compile(rb"//+")
_PLAIN = re.compile(rb'[ !#-\[\]-~]*\Z')
_ESCAPES = ["\\x%02x" % (byte,) for byte in range(256)]
for _byte in range(0x20, 0x7F):
    _ESCAPES[_byte] = chr(_byte)
_ESCAPES[ord("\t")], _ESCAPES[ord("\n")], _ESCAPES[ord("\r")] = "\\t", "\\n", "\\r"
_ESCAPES[ord('"')], _ESCAPES[ord("\\")] = '\\"', "\\\\"
del _byte


def routed(path):
    """
    A path (bytes, no query) as the routes read it: %-escapes decoded and
    runs of slashes collapsed.
    """
    if b"%" in path:
        path = unquote_to_bytes(path)
    if b"//" in path:
        path = _SLASHES.sub(b"/", path)
    return path


def redact(path):
    """A request path fit for a log line: the query dropped, a secret route's secret masked."""
    path = path.split(b"?", 1)[0]
    secret = _SECRET_ROUTES.match(routed(path))
    return secret.group(1) + b"***" if secret else path


def printable(value):
    """C{value} (bytes, or str written as UTF-8) as one line of printable ASCII."""
    if isinstance(value, str):
        value = value.encode("utf-8", "backslashreplace")
    if _PLAIN.match(value):
        return value.decode("ascii")
    return "".join([_ESCAPES[byte] for byte in value])
