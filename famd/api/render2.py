"""
Accounts as FAM 2.x serializes them, for the 2.x routes.

The 2021 routes keep their shapes byte for byte (L{famd.api.render}); the
routes FAM 2.x added or renamed answer the 2.x account object: ``created_at``
(ISO-8601, Laravel's model form) instead of ``creation_time``, ``admin`` and
``blocked`` as booleans, ``sip_uri``, the account's current provisioning
token, the pending e-mail change as ``email_change_code`` (its code shown to
administrators only) and empty ``dictionary``, ``types``, ``actions`` and
``carddav_servers`` (concepts famd does not keep).  Key order follows FAM
(columns, then appended fields, then relations); clients read keys by name.
The 2021 ``accounts`` table has no ``updated_at``: the creation time stands
for it.  Never a hash, a code (to the account itself) or an API key.
"""

from typing import NamedTuple, Optional

from famd.clock import laravel


class ProvisioningToken(NamedTuple):
    """An account's current provisioning token and when it expires (None: never)."""

    token: str
    expire_at: Optional[object] = None


class PendingCode(NamedTuple):
    """
    A pending e-mail or phone change as the 2.x object shows it: C{target}
    is the new address or number, C{code} is shown to administrators only.
    """

    target: str
    created_at: Optional[object]
    updated_at: Optional[object]
    ip: Optional[str] = None
    user_agent: Optional[str] = None
    code: Optional[str] = None


def _pending(change, key, show_code):
    if change is None:
        return None
    body = {
        key: change.target,
        "created_at": laravel(change.created_at),
        "updated_at": laravel(change.updated_at),
        "ip": change.ip,
        "user_agent": change.user_agent,
    }
    if show_code:
        body["code"] = change.code
    return body


def email_change_of(account):
    """The L{PendingCode} of the account's pending e-mail change (its 2021 row), or None."""
    change = account.email_changed
    if change is None:
        return None
    return PendingCode(change.new_email, change.created_at, change.created_at)


def account(account, provisioning=None, passwords=True, email_change=None, phone_change=None,
            admin_view=False):
    """
    The 2.x account object.

    @param provisioning: the account's current L{ProvisioningToken}, or None.
    @param passwords: include ``passwords`` (algorithms only); FAM leaves
        them out of the admin show and listing.
    @param email_change: the pending e-mail change (L{PendingCode}); by
        default the account's own 2021 ``email_changed`` row.
    @param phone_change: the pending phone change (L{PendingCode}), shown
        in the admin view only.
    @param admin_view: the administrators' view: pending codes show
        their ``code``, and ``phone_change_code`` is present.
    """
    body = {
        "id": account.id,
        "username": account.username,
        "domain": account.domain,
        "email": account.email,
        "activated": account.activated,
        "ip_address": account.ip_address,
        "user_agent": account.user_agent,
        "created_at": laravel(account.creation_time),
        "display_name": account.display_name,
        "dtmf_protocol": account.dtmf_protocol,
        "updated_at": laravel(account.creation_time),
        "blocked": account.blocked,
        "admin": account.admin is not None,
        "phone": account.phone,
        "provisioning_token": provisioning.token if provisioning is not None else None,
        "provisioning_token_expire_at": (
            laravel(provisioning.expire_at) if provisioning is not None else None
        ),
        "dictionary": {},
        "sip_uri": "sip:" + account.sip_address,
    }
    if passwords:
        body["passwords"] = [{"algorithm": password.algorithm} for password in account.passwords]
    if email_change is None:
        email_change = email_change_of(account)
    body["email_change_code"] = _pending(email_change, "email", admin_view)
    body["types"] = []
    body["actions"] = []
    body["carddav_servers"] = []
    if admin_view:
        body["phone_change_code"] = _pending(phone_change, "phone", True)
    return body
