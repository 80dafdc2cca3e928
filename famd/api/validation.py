"""
The field rules of the account endpoints, with the 2021 error texts.

A rule set reads a decoded JSON object and returns the clean values and
every failing field's messages, in the order the 2021 account manager
listed them.  Types are strict: a number is not a username, a boolean is
``true`` or ``false``; ``null`` stands for an absent optional field.
Uniqueness needs the database, so the caller passes the fields storage
found taken.  Each helper is the check of a field kind of
L{famd.api.fields}, which also reads its bounds for the field's JSON
Schema: a route's rules are a L{famd.api.fields.Body} of them.
"""

import re
from datetime import datetime, timezone

from famd.clock import TEXT_FORMAT
from famd.model import ALGORITHMS

SIP_USER = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+\Z")
"""RFC 3261 ``user``: unreserved and user-unreserved characters, unescaped."""

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL = re.compile(r"^%s(?:\.%s)*@%s(?:\.%s)*\Z" % (_ATEXT, _ATEXT, _LABEL, _LABEL))
E164 = re.compile(r"^\+[1-9][0-9]{1,14}\Z")
DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\Z")
DOMAIN_LENGTH = (3, 64)
"""The shortest and longest domain a body may name (the ``domain`` column holds 64)."""
DOMAIN = re.compile(
    r"^(?=.{%d,%d}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\Z"
    % DOMAIN_LENGTH
)
"""A DNS name of 3 to 64 characters."""
USERNAME_LENGTH = (6, 64)
"""The shortest and longest username an anonymous or admin creation takes."""
PASSWORD_LENGTH = 6
"""The shortest password."""
EMAIL_LENGTH = 64


class Errors:
    """Messages per field, in the order they were found."""

    def __init__(self):
        self.fields = {}

    def add(self, field, message):
        self.fields.setdefault(field, []).append(message)

    def __bool__(self):
        return bool(self.fields)


def label(field):
    """How Laravel named a field in its messages: 'confirmation key expires'."""
    return field.replace("_", " ")


def is_text(value):
    """A JSON string that storage can hold (no NUL, no lone surrogate)."""
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def missing(value):
    """Laravel's ``required`` failure: absent, null, blank or empty."""
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], {})


def required_text(data, field, errors, minimum=None, maximum=None):
    """A required string within length bounds; None when it failed."""
    value = data.get(field)
    if missing(value):
        errors.add(field, "The %s field is required." % (label(field),))
        return None
    if not is_text(value):
        errors.add(field, "The %s must be a string." % (label(field),))
        return None
    ok = True
    if minimum is not None and len(value) < minimum:
        errors.add(field, "The %s must be at least %d characters." % (label(field), minimum))
        ok = False
    if maximum is not None and len(value) > maximum:
        errors.add(field, "The %s may not be greater than %d characters." % (label(field), maximum))
        ok = False
    return value if ok else None


def boolean(data, field, errors):
    """An optional JSON boolean, False when absent."""
    value = data.get(field)
    if value is None:
        return False
    if not isinstance(value, bool):
        errors.add(field, "The %s field must be true or false." % (label(field),))
        return False
    return value


NOT_A_PHONE = "The username should not be a phone number"
"""FAM 2.x's IsNotPhoneNumber text."""


def username(data, errors, taken=(), phone_shaped=True):
    """
    The ``username``: 6 to 64 characters of a SIP user part.  With
    C{phone_shaped} False (the anonymous creation routes), not an E.164
    number either, as FAM 2.x's IsNotPhoneNumber: a phone number is looked
    up as a username too, so a stranger would squat the number; an
    administrator may still create one.
    """
    value = required_text(data, "username", errors, *USERNAME_LENGTH)
    if value is not None and not SIP_USER.match(value):
        errors.add("username", "The username must be a valid SIP user part.")
        value = None
    if value is not None and not phone_shaped and E164.match(value):
        errors.add("username", NOT_A_PHONE)
        value = None
    if "username" in taken:
        errors.add("username", "The username has already been taken.")
    return value


def algorithm(data, errors):
    value = data.get("algorithm")
    if missing(value):
        errors.add("algorithm", "The algorithm field is required.")
        return None
    if value not in ALGORITHMS or not isinstance(value, str):
        errors.add("algorithm", "The selected algorithm is invalid.")
        return None
    return value


def email(data, errors):
    value = data.get("email")
    if value is None:
        return None
    if not is_text(value) or not EMAIL.match(value):
        errors.add("email", "The email must be a valid email address.")
        return None
    if len(value) > EMAIL_LENGTH:
        errors.add("email", "The email may not be greater than %d characters." % (EMAIL_LENGTH,))
        return None
    return value


def phone(data, errors, taken=()):
    value = data.get("phone")
    if value is None:
        return None
    if not is_text(value):
        errors.add("phone", "The phone must be a string.")
        return None
    ok = True
    if re.search(r"\s", value):
        errors.add("phone", "The phone contains spaces")
        ok = False
    if not value.startswith("+"):
        errors.add("phone", "The phone must start with one of the following: +")
        ok = False
    if ok and not E164.match(value):
        errors.add("phone", "The phone must be an E.164 number: + then up to 15 digits.")
        ok = False
    if "phone" in taken:
        errors.add("phone", "The phone has already been taken.")
        ok = False
    return value if ok else None


def datetime_field(data, field, errors):
    """An optional ``Y-m-d H:i:s`` UTC time, as an aware datetime."""
    value = data.get(field)
    if value is None:
        return None
    if is_text(value) and DATETIME.match(value):
        try:
            return datetime.strptime(value, TEXT_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    errors.add(field, "The %s does not match the format Y-m-d H:i:s." % (label(field),))
    return None


def nullable_boolean(data, field, errors):
    """An optional JSON boolean; None when absent or null (nothing to change)."""
    value = data.get(field)
    if value is not None and not isinstance(value, bool):
        errors.add(field, "The %s field must be true or false." % (label(field),))
        return None
    return value


def optional_text(data, field, errors, maximum=255):
    """An optional string of at most C{maximum} characters; None when absent or null."""
    value = data.get(field)
    if value is None:
        return None
    if not is_text(value):
        errors.add(field, "The %s must be a string." % (label(field),))
        return None
    if len(value) > maximum:
        errors.add(field, "The %s may not be greater than %d characters." % (label(field), maximum))
        return None
    return value


def domain(data, default, errors):
    """The optional ``domain``: a DNS name (L{DOMAIN}), C{default} when absent or null."""
    value = data.get("domain")
    if value is None:
        return default
    if not is_text(value):
        errors.add("domain", "The domain must be a string.")
        return None
    if len(value) < DOMAIN_LENGTH[0]:
        errors.add("domain", "The domain must be at least %d characters." % (DOMAIN_LENGTH[0],))
        return None
    if not DOMAIN.match(value):
        errors.add("domain", "The domain must be a valid domain name.")
        return None
    return value


def device_text(data, field, errors, maximum):
    """
    A 2021 ``pn_*`` field: required text of at most C{maximum} characters,
    printable characters only (no line breaks to forge log lines), not
    starting with ``-`` (it would read as an option of the pusher's command).
    """
    value = required_text(data, field, errors, maximum=maximum)
    if value is None:
        return None
    if not value.isprintable():
        errors.add(field, "The %s must hold printable characters only." % (label(field),))
        return None
    if value.startswith("-"):
        errors.add(field, "The %s must not start with a dash." % (label(field),))
        return None
    return value


def one_of(data, field, errors, choices, maximum=None):
    """A required string among C{choices} (Laravel's ``in``), of at most C{maximum} characters."""
    value = required_text(data, field, errors, maximum=maximum)
    if value is not None and value not in choices:
        errors.add(field, "The selected %s is invalid." % (label(field),))
        return None
    return value


def matching(data, field, errors, pattern, maximum=None):
    """A required string C{pattern} (compiled) matches whole (Laravel's ``regex``), of at most C{maximum} characters."""
    value = required_text(data, field, errors, maximum=maximum)
    if value is not None and not pattern.fullmatch(value):
        errors.add(field, "The %s format is invalid." % (label(field),))
        return None
    return value


def with_taken(fields, taken, order):
    """
    Laravel's ``unique`` rule added to the messages C{fields} (field ->
    messages) of the other rules: for each field in C{taken}, "has already
    been taken" after its other messages, the fields in rule C{order}.
    """
    merged = {}
    for field in order:
        messages = list(fields.get(field, ()))
        if field in taken:
            messages.append("The %s has already been taken." % (label(field),))
        if messages:
            merged[field] = messages
    return merged


def unique_candidates(data):
    """
    The (username, phone) worth checking for uniqueness, else None: only
    values their own rule accepts, so that no engine finds ``user `` taken
    by ``user`` (MariaDB's collations ignore trailing spaces) and no value
    a database cannot hold (a NUL) reaches one.
    """
    name = data.get("username")
    number = data.get("phone")
    return (name if is_text(name) and SIP_USER.match(name) else None,
            number if is_text(number) and E164.match(number) else None)


EMAIL_CODE_LENGTH = 13
PHONE_CODE_DIGITS = 4
"""A phone (or FAM 2.x e-mail) code's digits."""


def code(data, errors, length=None, digits=None):
    """
    The ``code`` of an activation or a change: C{length} characters (the
    e-mail activation's 13) or C{digits} ASCII digits (L{PHONE_CODE_DIGITS}).
    """
    value = data.get("code")
    if missing(value):
        errors.add("code", "The code field is required.")
        return None
    if length is not None and (not is_text(value) or len(value) != length):
        errors.add("code", "The code must be %d characters." % (length,))
        return None
    if digits is not None and (not is_text(value) or not re.fullmatch("[0-9]{%d}" % (digits,), value)):
        errors.add("code", "The code must be %d digits." % (digits,))
        return None
    return value
