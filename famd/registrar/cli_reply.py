"""
Reading what Flexisip's proxy CLI answers to REGISTRAR_GET and
REGISTRAR_DELETE.

The answer is raw text: a JSON record, or one error line.  Two JSON shapes
exist (see flexisip.md section 2), both ``{"contacts": [...]}``:

- until August 2021: ``expires_at``, ``update_time``, ``user_agent``,
  ``line_value_copy`` (the +sip.instance as registered), ``contact_id``;
- from Flexisip 2.1.0: ``expires-at``, ``update-time``, ``user-agent``,
  ``unique-id`` (the key Flexisip matches a REGISTRAR_DELETE against).

Flexisip answers a GET for an address it holds nothing for with
``Error - 404 Not Found: ...``: that is an empty record, not a failure.  Any
other error line, an empty answer or text that is not such a record raises
L{RegistrarUnavailable}; an empty object (or null contacts) is an empty
record.
"""

import json
import re
from dataclasses import dataclass

from famd.interfaces import RegistrarUnavailable
from famd.registrar import Device, iso_time, public_id

_NOT_FOUND = re.compile(r"^Error\b.*\b404\b")
_ERROR = re.compile(r"^(Error|ERROR|INVALID)\b")
_SHOWN = 200
"""At most this many characters of a bad reply go into an error message."""


@dataclass(frozen=True)
class Binding:
    """
    A device and the unique id Flexisip keys it by.

    @ivar unique_id: the id exactly as Flexisip stored it, quotes and angle
        brackets included (C{"<urn:uuid:...>"}): REGISTRAR_DELETE needs it
        byte for byte.
    @ivar device: the L{Device} the API shows.
    """

    unique_id: str
    device: Device


def _first(contact, *keys):
    """The first of C{keys} that C{contact} holds as a non-empty string."""
    for key in keys:
        value = contact.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _number(contact, *keys):
    """The first of C{keys} that C{contact} holds as a number, or None."""
    for key in keys:
        value = contact.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None


def _binding(contact):
    """One contact object of either generation, or None if it has no id."""
    unique_id = _first(contact, "unique-id", "line_value_copy", "contact_id")
    if unique_id is None:
        return None
    device = Device(
        uuid=public_id(unique_id),
        user_agent=_first(contact, "user-agent", "user_agent"),
        expires_at=iso_time(_number(contact, "expires-at", "expires_at")),
        update_time=iso_time(_number(contact, "update-time", "update_time")),
    )
    return Binding(unique_id, device)


def _shown(text):
    """The start of a reply, safe to put in a one-line message."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:_SHOWN]


def parse_reply(reply):
    """
    The bindings of a REGISTRAR_GET or REGISTRAR_DELETE reply.

    @param reply: the bytes read from the socket up to EOF.
    @return: a list of L{Binding}, in Flexisip's order; empty for a 404.
    @raise RegistrarUnavailable: an empty reply, an error line, or text that
        is not a record of either generation.
    """
    text = reply.decode("utf-8", "replace")
    stripped = text.strip()
    if not stripped:
        raise RegistrarUnavailable("the Flexisip CLI closed without answering")
    if _NOT_FOUND.match(stripped):
        return []
    if _ERROR.match(stripped):
        raise RegistrarUnavailable("the Flexisip CLI answered %r" % (_shown(text),))
    try:
        record = json.loads(stripped)
    except ValueError:
        raise RegistrarUnavailable(
            "the Flexisip CLI answered something that is not JSON: %r" % (_shown(text),)
        ) from None
    if record == {} or record == {"contacts": None}:
        return []
    contacts = record.get("contacts") if isinstance(record, dict) else None
    if not isinstance(contacts, list) or not all(
        isinstance(contact, dict) for contact in contacts
    ):
        raise RegistrarUnavailable(
            "the Flexisip CLI answered JSON that is not a registrar record: %r"
            % (_shown(text),)
        )
    bindings = (_binding(contact) for contact in contacts)
    return [binding for binding in bindings if binding is not None]
