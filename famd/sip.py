"""
SIP addresses as clients write them: the ``From`` header of an API request,
the ``{sip}`` of a route, an administrator's command line.

One parser for all of them, L{parse_address}: ``sip:user@domain``, with or
without ``"Name" <...>``, ``;tag=`` and URI parameters, a port, %-escapes,
a ``sips:`` scheme or none.
"""

import re
from urllib.parse import unquote_to_bytes

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"]")
_PORT = re.compile(r":[0-9]*$")


class MalformedAddress(ValueError):
    """A text that is not a SIP address with a user and a domain."""


def parse_address(value):
    """
    (user, domain) of a SIP address (str).

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
