"""
The field rules of the account endpoints, with the 2021 error texts.

A rule set reads a decoded JSON object and returns the clean values and
every failing field's messages, in the order the 2021 account manager
listed them.  Types are strict: a number is not a username, a boolean is
``true`` or ``false``; ``null`` stands for an absent optional field.
Uniqueness needs the database, so the caller passes the fields storage
found taken.
"""

import re
from datetime import datetime, timezone

from famd.clock import TEXT_FORMAT
from famd.errors import Invalid
from famd.model import ALGORITHMS

SIP_USER = re.compile(r"^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+\Z")
"""RFC 3261 ``user``: unreserved and user-unreserved characters, unescaped."""

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL = re.compile(r"^%s(?:\.%s)*@%s(?:\.%s)*\Z" % (_ATEXT, _ATEXT, _LABEL, _LABEL))
E164 = re.compile(r"^\+[1-9][0-9]{1,14}\Z")
_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\Z")


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
    value = required_text(data, "username", errors, minimum=6, maximum=64)
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
    if len(value) > 64:
        errors.add("email", "The email may not be greater than 64 characters.")
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
    if is_text(value) and _DATETIME.match(value):
        try:
            return datetime.strptime(value, TEXT_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    errors.add(field, "The %s does not match the format Y-m-d H:i:s." % (label(field),))
    return None


NEW_ACCOUNT_FIELDS = (
    "username", "algorithm", "password", "email", "activated", "admin",
    "confirmation_key_expires", "phone",
)
"""The fields of L{new_account}, in the order its rules run."""


def new_account(data):
    """
    The admin ``POST /api/accounts`` rules but uniqueness, which needs the
    database (see L{with_taken}).  ``domain`` is ignored: the account always
    gets the configured sip_domain.

    @return: (values, L{Errors}); values has username, password,
        algorithm, email, activated, admin, phone, activation_expires.
    """
    errors = Errors()
    values = {"username": username(data, errors)}
    values["algorithm"] = algorithm(data, errors)
    values["password"] = required_text(data, "password", errors, minimum=6)
    values["email"] = email(data, errors)
    values["activated"] = boolean(data, "activated", errors)
    values["admin"] = boolean(data, "admin", errors)
    values["activation_expires"] = datetime_field(data, "confirmation_key_expires", errors)
    values["phone"] = phone(data, errors)
    return values, errors


def with_taken(fields, taken, order=NEW_ACCOUNT_FIELDS):
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
_PHONE_CODE = re.compile(r"[0-9]{4}")


def email_code(data):
    """
    The ``code`` of an e-mail activation: exactly 13 characters.

    @raise Invalid: anything else.
    """
    code = data.get("code")
    if missing(code):
        raise Invalid({"code": ["The code field is required."]})
    if not is_text(code) or len(code) != EMAIL_CODE_LENGTH:
        raise Invalid({"code": ["The code must be %d characters." % (EMAIL_CODE_LENGTH,)]})
    return code


def phone_code(data):
    """
    A 4-digit ``code`` (phone activation, phone change).

    @raise Invalid: anything else.
    """
    code = data.get("code")
    if missing(code):
        raise Invalid({"code": ["The code field is required."]})
    if not is_text(code) or not _PHONE_CODE.fullmatch(code):
        raise Invalid({"code": ["The code must be 4 digits."]})
    return code
