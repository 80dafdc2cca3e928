"""
FAM 2.x provisioning, above storage and below HTTP: provisioning tokens
(issued, expiring, consumed once by ``/provisioning/{token}``), the new
password a document may carry (``?reset_password``), the provisioning
e-mail, and the QR login's auth tokens and API keys.

An account's current provisioning token is its newest unused one (every
account gets one at creation, L{famd.accounts.new_account}); issuing one
retires the older ones.  A token expires C{provisioning.token_lifetime}
seconds after it was issued (0: never).  Auth tokens live
L{AUTH_TOKEN_LIFETIME} seconds, as in FAM.  Secrets are never logged.
"""

from dataclasses import replace
from datetime import timedelta

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd import credentials
from famd.accounts import password_row
from famd.clock import ago
from famd.errors import BLOCKED, Forbidden, NotFound
from famd.flows import mail_then_store
from famd.model import ALGORITHMS

log = Logger(namespace="famd.flows.provisioning")

AUTH_TOKEN_LIFETIME = 300
"""Seconds an auth token may be attached, then traded (FAM: 5 minutes)."""
AUTH_TOKEN_LENGTH = 32
RESET_PASSWORD_LENGTH = 16
NO_EMAIL = "No email configured"
NOT_SENT = "The provisioning e-mail could not be sent, try again later."
NO_ACCOUNT = "No such account"


def provisioning_url(config, token):
    """The URL a device GETs to load its document with C{token}."""
    return "%s/provisioning/%s" % (config.public_url, token)


def qrcode_url(config, token):
    """The URL of the PNG QR code holding L{provisioning_url}."""
    return "%s/provisioning/qrcode/%s" % (config.public_url, token)


def expire_at(config, issued):
    """When an L{famd.model.IssuedToken} expires: an aware datetime, or None (never)."""
    lifetime = config.provisioning_token_lifetime
    if not lifetime or issued.created_at is None:
        return None
    return issued.created_at + timedelta(seconds=lifetime)


def expired_before(config, now):
    """The cut-off L{famd.interfaces.IProvisioningTokenStore.consume_provisioning_token} takes."""
    lifetime = config.provisioning_token_lifetime
    return ago(now, lifetime) if lifetime else None


@inlineCallbacks
def issue(context, account_id, ip=None, user_agent=None):
    """
    Issue a new provisioning token to the account, retiring its older ones.

    @return: a Deferred firing with the L{famd.model.IssuedToken}, or
        failing with L{NotFound} (no such account).
    """
    now = context.now()
    token = credentials.confirmation_key()
    if not (yield context.storage.issue_provisioning_token(account_id, token, now, ip, user_agent)):
        raise NotFound(NO_ACCOUNT)
    log.info("provisioning token issued to account {id}", id=account_id)
    issued = yield context.storage.current_provisioning_token(account_id)
    return issued


def not_blocked(account):
    """
    C{account} (or None) unless it is blocked: a blocked account is given no
    credentials by a token either (L{Forbidden} ``Account blocked``, as
    L{famd.auth} answers it), whatever the token was.
    """
    if account is not None and account.blocked:
        raise Forbidden(BLOCKED)
    return account


def reset_algorithms(account, both=False):
    """
    The algorithms a reset password is hashed with: both when C{both}
    (``passwords.both_algorithms``), else those of the account's HA1s, or
    both when it has none (only a clear-text password, or none).
    """
    if both:
        return ALGORITHMS
    stored = [p.algorithm for p in account.passwords if p.algorithm in ALGORITHMS]
    return tuple(dict.fromkeys(stored)) or ALGORITHMS


def replacement_rows(config, account, password):
    """The ``passwords`` rows replacing the account's for C{password}, hashed as L{reset_algorithms} says."""
    return tuple(
        password_row(config, account.username, account.domain, password, algorithm)
        for algorithm in reset_algorithms(account, config.both_algorithms)
    )


def new_password_rows(config):
    """
    A function of an account returning the password rows of one new
    random password (L{replacement_rows}), for the C{new_passwords} of the
    storage methods that consume a token: the HA1s are made, and stored, in
    the consuming transaction.  Nobody ever sees the password in clear: the
    document carries its HA1s.
    """
    password = credentials.random_string(RESET_PASSWORD_LENGTH)
    return lambda account: replacement_rows(config, account, password)


@inlineCallbacks
def reset_password(storage, config, account):
    """
    Replace the account's passwords by one new random password (see
    L{new_password_rows}); for an account that consumes no token.

    @return: a Deferred firing with C{account} holding its new passwords,
        or failing with L{NotFound} (the account is gone).
    """
    rows = new_password_rows(config)(account)
    if not (yield storage.replace_passwords(account.id, rows)):
        raise NotFound(NO_ACCOUNT)
    log.info("password of account {id} reset by provisioning", id=account.id)
    return replace(account, passwords=rows)


@inlineCallbacks
def send_provisioning_email(context, account, ip=None, user_agent=None):
    """
    Mail the account a new provisioning token's link and QR code URL, then
    issue that token (L{famd.flows.mail_then_store}): a message not
    accepted leaves the account's current token current.

    @return: a Deferred firing with None, or failing with L{Forbidden}
        (the account has no e-mail address), L{NotFound} or
        L{famd.errors.Unavailable} (e-mail is off, or the message was not
        accepted).
    """
    if not account.email:
        raise Forbidden(NO_EMAIL)
    config = context.config
    token = credentials.confirmation_key()
    issued = yield mail_then_store(
        context, "provisioning", account, account.email, "provisioning",
        {
            "app_name": config.app_name,
            "username": account.username,
            "sip_address": account.sip_address,
            "link": provisioning_url(config, token),
            "qrcode_url": qrcode_url(config, token),
        },
        lambda: context.storage.issue_provisioning_token(account.id, token, context.now(), ip, user_agent),
        NOT_SENT,
    )
    if not issued:
        raise NotFound(NO_ACCOUNT)
    log.info("provisioning token issued to account {id}", id=account.id)


# ---------------------------------------------------------------- auth tokens


def auth_token_cutoff(now):
    """Auth tokens made before this are too old."""
    return ago(now, AUTH_TOKEN_LIFETIME)


@inlineCallbacks
def new_api_key(storage, account_id, now):
    """
    Give the account a new API key, replacing its key (famd keeps one key
    per account, the 2021 ``api_keys`` rule: an administrator's key is
    replaced too).

    @return: a Deferred firing with the key, or failing with L{NotFound}.
    """
    key = credentials.api_key()
    if not (yield storage.set_api_key(account_id, key, now)):
        raise NotFound(NO_ACCOUNT)
    log.info("API key of account {id} renewed", id=account_id)
    return key
