"""
Reading one contact as Flexisip's Redis registrar stores it.

Each binding of a user is one field of the HASH ``fs:user@domain``; the
value is the Contact header re-serialized by Flexisip (flexisip.md
section 3)::

    <sip:dev@192.0.2.1;transport=tcp;callid=abc;expires=3600;cseq=21;
     updatedAt=1764340370;alias=no;usedAsRoute=no?path=%3Csip%3A...%3E&
     accept=...&user-agent=LinphoneAndroid%2F5.0%20%28belle-sip%2F4.5%29>
     ;+sip.instance="<urn:uuid:...>"

Flexisip's bookkeeping sits in the URI parameters (URI-escaped values), the
SIP headers it keeps in the URI headers after ``?`` (URL-escaped values),
and the contact's own parameters, ``+sip.instance`` among them, after the
closing ``>``.  A contact without ``+sip.instance`` is stored under a key
Flexisip generated; the device id is always taken from the HASH field (see
L{famd.registrar.redis}), so such contacts are listed and deleted like the
others.  The expiry is C{updatedAt + expires}.  Parsing is lenient: a part
that is missing or unreadable gives None, never an exception.
"""

from dataclasses import dataclass
from typing import Optional
from urllib.parse import unquote


@dataclass(frozen=True)
class RedisContact:
    """
    What famd needs from one stored contact.

    @ivar uri: the contact URI as stored, Flexisip's parameters and
        headers included.
    @ivar instance: the raw ``+sip.instance`` value (quotes kept), or None.
    @ivar user_agent: the User-Agent header, unescaped, or None.
    @ivar updated_at: epoch seconds of the last REGISTER, or None.
    @ivar expires: seconds the binding lasts from C{updated_at}, or None.
    """

    uri: str
    instance: Optional[str]
    user_agent: Optional[str]
    updated_at: Optional[int]
    expires: Optional[int]

    @property
    def expires_at(self):
        """Epoch seconds the binding expires at, or None when unknown."""
        if self.updated_at is None or self.expires is None:
            return None
        return self.updated_at + self.expires


def _skip_display_name(text):
    """The index just past a leading quoted display name, or 0."""
    if not text.startswith('"'):
        return 0
    index = 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index + 1
        index += 1
    return 0


def _split_params(text):
    """Split C{;a=1;b="x;y"} on the semicolons outside double quotes."""
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _pairs(parts, unescape):
    """C{name=value} strings as a dict, lower-case names, first one wins."""
    found = {}
    for part in parts:
        name, _, value = part.partition("=")
        value = unquote(value, errors="replace") if unescape else value.strip()
        found.setdefault(name.strip().lower(), value)
    return found


def _integer(text):
    """An optionally signed decimal integer, or None."""
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def parse_contact(value):
    """
    Read one HASH value.

    @param value: the value as text (decoded from Redis as UTF-8).
    @return: a L{RedisContact}.
    """
    text = value.strip()
    start = text.find("<", _skip_display_name(text))
    if start == -1:
        uri, contact_params = text, ""
    else:
        end = text.find(">", start)
        if end == -1:
            uri, contact_params = text[start + 1 :], ""
        else:
            uri, contact_params = text[start + 1 : end], text[end + 1 :]
    address, _, headers = uri.partition("?")
    address_parts = address.split(";")
    uri_params = _pairs(address_parts[1:], unescape=True)
    header_values = _pairs(headers.split("&") if headers else [], unescape=True)
    params = _pairs(_split_params(contact_params), unescape=False)
    return RedisContact(
        uri=uri,
        instance=params.get("+sip.instance") or None,
        user_agent=header_values.get("user-agent") or None,
        updated_at=_integer(uri_params.get("updatedat")),
        expires=_integer(uri_params.get("expires")),
    )
