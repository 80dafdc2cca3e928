"""
SIP addresses as clients write them: the ``From`` header of an API request,
the ``{sip}`` of a route, an administrator's command line.

One parser for all of them, L{parse_address}: ``sip:user@domain``, with or
without ``"Name" <...>``, ``;tag=`` and URI parameters, a port, %-escapes,
a ``sips:`` scheme or none.

It never trims: a value starting or ending with whitespace or a control
character, and a user or domain holding one (escaped or not, Unicode's
included), is no address.  ``user@domain%20`` in a URL must not find
``user@domain`` (MariaDB's collations ignore trailing spaces and some
invisible characters, so the database would).  The spaces around a
``From`` header's value are not part of it: the HTTP parser drops them.
"""

import re
import unicodedata
from urllib.parse import unquote_to_bytes

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"]")
_PORT = re.compile(r":[0-9]*$")
_UNSEEN = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))
"""Unicode categories of control, format (invisible) and space characters."""


class MalformedAddress(ValueError):
    """A text that is not a SIP address with a user and a domain."""


def parse_address(value):
    """
    (user, domain) of a SIP address (str).

    @raise MalformedAddress: not a SIP address with a user and a domain.
    """
    if not value or _unseen(value[0]) or _unseen(value[-1]):
        raise MalformedAddress("empty, or whitespace or a control character around it")
    text = value
    if "<" in text:
        start = text.index("<")
        end = text.find(">", start)
        if end < 0:
            raise MalformedAddress("unclosed <")
        text = text[start + 1 : end]
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
    if not user or not host or not _clean(user) or not _clean(host) or "@" in host:
        raise MalformedAddress("empty or forbidden characters")
    return user, host


def _unseen(character):
    """Whether C{character} is whitespace or a control or invisible character."""
    if character.isascii():
        return character <= " " or character == "\x7f"
    return unicodedata.category(character) in _UNSEEN


def _clean(part):
    """Whether a user or domain holds no whitespace, control, invisible or delimiting character."""
    if _FORBIDDEN.search(part):
        return False
    return part.isascii() or not any(unicodedata.category(c) in _UNSEEN for c in part)
