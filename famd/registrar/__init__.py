"""
The devices (SIP bindings) Flexisip's registrar holds for a user.

Providers of L{famd.interfaces.IRegistrar} live in this package: the proxy's
CLI socket (L{famd.registrar.flexisip_cli}), Flexisip's Redis registrar
database (L{famd.registrar.redis}), and none at all
(L{famd.registrar.disabled}).  What they share is here: the L{Device} value
the API renders, the public id of a binding, and the address of record.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from famd.interfaces import RegistrarUnavailable

_SIP_USER = re.compile(r"[A-Za-z0-9\-_.!~*'()&=+$,;?/]")
"""The characters RFC 3261 allows unescaped in the user part of a SIP URI."""

_SIP_HOST = re.compile(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]")
"""A host name, IPv4 address or bracketed IPv6 address."""


@dataclass(frozen=True)
class Device:
    """
    One binding as the API shows it.

    @ivar uuid: the public id, C{urn:uuid:...} (no quotes, no angle brackets).
    @ivar user_agent: the User-Agent the device registered with, or None.
    @ivar expires_at: when the binding expires, ISO 8601 UTC
        (C{2026-11-28T14:32:50Z}), or None when unknown.
    @ivar update_time: when the device last registered, same form, or None.
    """

    uuid: str
    user_agent: Optional[str]
    expires_at: Optional[str]
    update_time: Optional[str]


def iso_time(epoch):
    """
    An epoch second count as ISO 8601 UTC, or None for a missing, zero or
    unusable value (Flexisip writes 0 for "unknown").
    """
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
        return None
    if epoch <= 0:
        return None
    try:
        moment = datetime.fromtimestamp(int(epoch), timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def public_id(unique_id):
    """
    The public id of a binding from its unique id as Flexisip stores it:
    surrounding double quotes, then angle brackets, removed
    (C{"<urn:uuid:x>"} and C{<urn:uuid:x>} both give C{urn:uuid:x}).  A
    generated key without either (a contact that sent no +sip.instance) is
    its own public id.
    """
    value = unique_id.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]
    if len(value) >= 2 and value[0] == "<" and value[-1] == ">":
        value = value[1:-1]
    return value


def sip_user(username):
    """
    C{username} escaped for the user part of a SIP URI (RFC 3261): usual
    usernames come back unchanged; a space, quote, '@' or ':' becomes %XX,
    so a username can never add a word to a CLI command.
    """
    return "".join(
        (
            char
            if _SIP_USER.fullmatch(char)
            else "".join("%%%02X" % byte for byte in char.encode("utf-8"))
        )
        for char in username
    )


def address_of_record(username, domain):
    """
    The user's address without scheme, C{user@domain}, user part escaped.

    @raise RegistrarUnavailable: C{domain} is not a host name or address.
    """
    if not _SIP_HOST.fullmatch(domain):
        raise RegistrarUnavailable("not a SIP domain: %r" % (domain,))
    return "%s@%s" % (sip_user(username), domain)
