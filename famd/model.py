"""
The plain values that cross the storage boundary.

Storage providers return these, the domain layer (``famd.accounts``) reasons
about them and the API renders them.  Every time is an aware UTC datetime at
whole seconds, whatever the engine, or None: absent, or a stored value that
is not a time (see L{famd.storage.times}).  Nothing here is database text.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Optional, Tuple

ALGORITHMS = ("MD5", "SHA-256")
"""The digest algorithms a client may choose; 'CLRTXT' rows may also exist."""


@dataclass(frozen=True)
class Password:
    """One ``passwords`` row: an HA1 (or a clear password for 'CLRTXT'), never in repr."""

    password: str = field(repr=False)
    algorithm: str


@dataclass(frozen=True)
class Timestamps:
    """The ``created_at``/``updated_at`` pair of a dependent row."""

    created_at: Optional[datetime]
    updated_at: Optional[datetime]


@dataclass(frozen=True)
class ActivationExpiration:
    """The ``activation_expirations`` row of an account."""

    id: int
    account_id: int
    expires: Optional[datetime]
    created_at: Optional[datetime]
    updated_at: Optional[datetime]


@dataclass(frozen=True)
class EmailChange:
    """
    A pending e-mail change (``email_changed`` row).  C{secret} is the
    link's stored secret when the change was looked up by it
    (L{famd.interfaces.ICodeStore.email_change}); an account's own
    C{email_changed} never carries it (None).
    """

    account_id: int
    new_email: str
    created_at: Optional[datetime]
    secret: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class PhoneChange:
    """
    A pending phone change (``phone_change_codes`` row) and its code;
    C{created_at} (None when unknown) is left out of comparisons.
    """

    account_id: int
    phone: str
    code: str = field(repr=False)
    created_at: Optional[datetime] = field(default=None, compare=False)


@dataclass(frozen=True)
class EmailCode:
    """
    A pending FAM 2.x e-mail change (``email_change_codes`` row): the new
    address, its 4-digit code, when and from where it was asked for.
    """

    account_id: int
    email: str
    code: str = field(repr=False)
    created_at: Optional[datetime]
    ip: Optional[str] = None
    user_agent: Optional[str] = None


@dataclass(frozen=True)
class Account:
    """
    One account and what hangs off it.  C{passwords} is empty when the
    query did not load them (listings); C{api_key} is never rendered.
    C{blocked}, C{display_name} and C{dtmf_protocol} are the columns FAM
    2.x added to ``accounts`` (a blocked account authenticates nowhere).
    """

    id: int
    username: str
    domain: str
    email: Optional[str]
    activated: bool
    confirmation_key: Optional[str] = field(repr=False)
    ip_address: str
    user_agent: str
    creation_time: Optional[datetime]
    expire_time: Optional[datetime] = None
    passwords: Tuple[Password, ...] = ()
    admin: Optional[Timestamps] = None
    phone: Optional[str] = None
    activation_expiration: Optional[ActivationExpiration] = None
    email_changed: Optional[EmailChange] = None
    api_key: Optional[str] = field(default=None, repr=False)
    blocked: bool = False
    display_name: Optional[str] = None
    dtmf_protocol: Optional[str] = None

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
    creation_time: datetime
    email: Optional[str] = None
    activated: bool = False
    confirmation_key: Optional[str] = field(default=None, repr=False)
    admin: bool = False
    phone: Optional[str] = None
    activation_expires: Optional[datetime] = None
    api_key: Optional[str] = field(default=None, repr=False)
    token: Optional[str] = field(default=None, repr=False)
    provisioning_token: Optional[str] = field(default=None, repr=False)
    dtmf_protocol: Optional[str] = None


@dataclass(frozen=True)
class IssuedToken:
    """
    A secret issued to an account (a ``provisioning_tokens`` row): its text
    and when it was issued (None when the stored value is no time).
    """

    token: str = field(repr=False)
    created_at: Optional[datetime]


# FAM 2.x sign-up and recovery tokens (famd.storage.sql_signup).


@dataclass(frozen=True)
class CreationToken:
    """
    One account-creation token (a ``tokens`` row, both API generations):
    pushed to a device (``pn_*`` set) or made without one (an administrator's,
    or one traded for a validated request token: ``pn_*`` empty).
    """

    id: int
    token: str = field(repr=False)
    pn_provider: str
    pn_param: str
    pn_prid: str
    used: bool
    account_id: Optional[int]
    ip: Optional[str]
    user_agent: Optional[str]
    created_at: Optional[datetime]


@dataclass(frozen=True)
class RequestToken:
    """One ``account_creation_request_tokens`` row (desktop sign-up)."""

    id: int
    token: str = field(repr=False)
    used: bool
    validated_at: Optional[datetime]
    acc_creation_token_id: Optional[int]
    created_at: Optional[datetime]


@dataclass(frozen=True)
class RecoveryToken:
    """One ``account_recovery_tokens`` row, pushed to a device."""

    id: int
    token: str = field(repr=False)
    pn_provider: str
    pn_param: str
    pn_prid: str
    used: bool
    account_id: Optional[int]
    created_at: Optional[datetime]


@dataclass(frozen=True)
class AccountChanges:
    """
    What an administrator's ``PUT /api/accounts/{id}`` (FAM 2.x) writes, in
    one transaction.  FAM's "resend all the parameters": C{email},
    C{display_name}, C{dtmf_protocol} and C{phone} are written as they are
    (None clears them); C{passwords}, C{admin}, C{activated} and C{blocked}
    change only when not None.
    """

    username: str
    email: Optional[str] = None
    display_name: Optional[str] = None
    dtmf_protocol: Optional[str] = None
    phone: Optional[str] = None
    passwords: Optional[Tuple[Password, ...]] = field(default=None, repr=False)
    admin: Optional[bool] = None
    activated: Optional[bool] = None
    blocked: Optional[bool] = None


@dataclass(frozen=True)
class ResetPasswordToken:
    """
    A ``reset_password_email_tokens`` row: the link an administrator had
    mailed to an account's address.  C{token} is the stored text (compare
    it in constant time).
    """

    id: int
    account_id: int
    token: str = field(repr=False)
    email: str
    used: bool
    created_at: Optional[datetime]
    ip: Optional[str] = None
    user_agent: Optional[str] = None


@dataclass(frozen=True)
class WebSession:
    """
    A ``famd_sessions`` row: an account panel session bound to an account.
    Only the SHA-256 of the session id is stored (C{id_hash}).
    """

    account_id: int
    created_at: datetime
    last_seen_at: datetime
