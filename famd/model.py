"""
The plain values that cross the storage boundary.

Storage providers return these, the domain layer (``famd.accounts``) reasons
about them and the API renders them.  Times are UTC strings in the database's
``YYYY-MM-DD HH:MM:SS`` form, whatever the engine; ``famd.clock`` converts.
"""

from dataclasses import dataclass, field, fields
from typing import Optional, Tuple

ALGORITHMS = ("MD5", "SHA-256")
"""The digest algorithms a client may choose; 'CLRTXT' rows may also exist."""


class Conflict(Exception):
    """
    A uniqueness rule refused a write.  C{field} names the request field
    that clashed ('username', 'phone', 'token').
    """

    def __init__(self, field):
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class Password:
    """One ``passwords`` row: an HA1 (or a clear password for 'CLRTXT')."""

    password: str
    algorithm: str


@dataclass(frozen=True)
class Timestamps:
    """The ``created_at``/``updated_at`` pair of a dependent row."""

    created_at: Optional[str]
    updated_at: Optional[str]


@dataclass(frozen=True)
class ActivationExpiration:
    """The ``activation_expirations`` row of an account."""

    id: int
    account_id: int
    expires: str
    created_at: Optional[str]
    updated_at: Optional[str]


@dataclass(frozen=True)
class EmailChange:
    """A pending e-mail change (``email_changed`` row)."""

    new_email: str
    created_at: Optional[str]


@dataclass(frozen=True)
class Account:
    """
    One account and what hangs off it.  C{passwords} is empty when the
    query did not load them (listings); C{api_key} is never rendered.
    """

    id: int
    username: str
    domain: str
    email: Optional[str]
    activated: bool
    confirmation_key: Optional[str]
    ip_address: str
    user_agent: str
    creation_time: str
    expire_time: Optional[str] = None
    passwords: Tuple[Password, ...] = ()
    admin: Optional[Timestamps] = None
    phone: Optional[str] = None
    activation_expiration: Optional[ActivationExpiration] = None
    email_changed: Optional[EmailChange] = None
    api_key: Optional[str] = field(default=None, repr=False)

    @property
    def sip_address(self):
        return "%s@%s" % (self.username, self.domain)

    @classmethod
    def loaded(cls, *values):
        """
        The account whose fields have C{values}, all of them, in declaration
        order: the storage's row loops use it, since a frozen dataclass's
        C{__init__} sets each field through C{object.__setattr__}, several
        times slower.  The result is an ordinary, equal L{Account}.
        """
        account = object.__new__(cls)
        account.__dict__.update(zip(ACCOUNT_FIELDS, values))
        return account


ACCOUNT_FIELDS = tuple(each.name for each in fields(Account))
"""The names of L{Account}'s fields, in declaration order."""


@dataclass(frozen=True)
class NewAccount:
    """Everything written when an account is created, in one transaction."""

    username: str
    domain: str
    passwords: Tuple[Password, ...]
    ip_address: str
    user_agent: str
    creation_time: str
    email: Optional[str] = None
    activated: bool = False
    confirmation_key: Optional[str] = None
    admin: bool = False
    phone: Optional[str] = None
    activation_expires: Optional[str] = None
    api_key: Optional[str] = field(default=None, repr=False)
    token: Optional[str] = field(default=None, repr=False)
