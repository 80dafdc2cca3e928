"""
Changing an account's e-mail address: the new address receives one message
carrying a link (2021) and a 4-digit code (FAM 2.x); opening the link, or
sending the code back (``POST /api/accounts/me/email``), applies the change.

The pending change is an ``email_changed`` row (one per account) holding the
new address and the link's secret, and an ``email_change_codes`` row holding
the code, written in one transaction; the account object shows it as
``email_changed`` (2021) or ``email_change_code`` (2.x).  Either
confirmation removes both, and activates the account (FAM 2.x's sign-up
flows link an e-mail to a fresh account).  The link works once and for
C{email_change_lifetime} seconds, the code once and for
C{email_change_code_lifetime} seconds (then 410).  A failed e-mail records
nothing.  Messages sent are counted per account and per
address; a wrong link or code is a wrong secret of the client's address,
and a code is void after C{code_tries} wrong tries (L{famd.throttle}).
"""

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.credentials import digits, random_string, same
from famd.errors import Forbidden, Invalid, NotFound, Unavailable
from famd.flows import mail_then_store
from famd.flows.codes import expired, refuse_expired

log = Logger(namespace="famd.flows.email_change")

SECRET_LENGTH = 32
CODE_LENGTH = 4
CONFIRM_PATH = "/api/accounts/me/email/confirm/"
NOT_SENT = "The confirmation e-mail could not be sent, try again later."
NO_CHANGE = "This link is unknown or was already used."
EXPIRED = "This link has expired: ask for the change again."
NO_CODE = "No e-mail change is pending for this account."
WRONG_CODE = "The code should be valid"


def confirmation_link(config, secret):
    """The link mailed to the new address."""
    return config.public_url + CONFIRM_PATH + secret


@inlineCallbacks
def request_change(context, account, new_email, ip=None, user_agent=None):
    """
    Mail a new link and code to C{new_email}, then record them as the
    pending change (L{famd.flows.mail_then_store}).

    @param ip: the client's address, C{user_agent} its ``User-Agent``
        (kept with the code, as FAM 2.x does).
    @return: a Deferred firing with None, or failing with L{Unavailable}
        (e-mail is off, or the message was not accepted: then nothing
        stays pending) or L{famd.errors.TooMany} (too many e-mails for the
        account or the address).
    """
    if context.email is None:
        raise Unavailable(NOT_SENT)
    yield context.throttle.email(account.id, new_email)
    config = context.config
    secret = random_string(SECRET_LENGTH)
    code = digits(CODE_LENGTH)
    yield mail_then_store(
        context, "e-mail change", account, new_email, "email_change",
        {
            "app_name": config.app_name,
            "public_url": config.public_url,
            "link": confirmation_link(config, secret),
            "code": code,
            "new_email": new_email,
        },
        lambda: context.storage.request_email_change(
            account.id, new_email, secret, code, context.now(), ip, user_agent),
        NOT_SENT,
    )


@inlineCallbacks
def confirm_change(context, secret, client_address):
    """
    Apply the pending change whose link secret is C{secret}.

    @return: a Deferred firing with the new address, or failing with
        L{NotFound} (unknown or used link), L{Forbidden} (expired link;
        the pending change is removed) or L{famd.errors.TooMany} (the
        address's wrong secrets are spent).
    """
    attempt = yield context.throttle.secret_attempt(client_address)
    pending = yield context.storage.email_change(secret)
    if pending is None or not same(secret, pending.secret):
        attempt.failed()
        raise NotFound(NO_CHANGE)
    yield attempt.succeeded()
    account_id, stored, created_at = pending.account_id, pending.secret, pending.created_at
    if expired(context, created_at, context.config.email_change_lifetime):
        yield context.storage.drop_email_change(account_id, stored)
        raise Forbidden(EXPIRED)
    new_email = yield context.storage.apply_email_change(account_id, stored)
    if new_email is None:
        raise NotFound(NO_CHANGE)
    log.info("e-mail address of account {id} changed", id=account_id)
    return new_email


@inlineCallbacks
def confirm_code(context, account, code, client_address):
    """
    Apply the account's pending change if C{code} is its 4-digit code.

    @return: a Deferred firing with the updated, activated
        L{famd.model.Account}, or failing with L{NotFound} (nothing
        pending), L{famd.errors.Gone} (expired code; it is removed), L{Invalid} ('code':
        wrong code, a wrong secret; the code is void after C{code_tries}
        of them) or L{famd.errors.TooMany}.
    """
    attempt = yield context.throttle.secret_attempt(client_address)
    storage = context.storage
    pending = yield storage.email_code(account.id)
    if pending is None:
        yield attempt.succeeded()
        raise NotFound(NO_CODE)
    stored = pending.code
    yield refuse_expired(context, attempt, pending.created_at,
                         context.config.email_change_code_lifetime,
                         lambda: storage.drop_email_code(account.id, stored))
    if not same(code, stored):
        attempt.failed()
        voided = yield context.throttle.wrong_code(
            account.id, stored, lambda: storage.drop_email_code(account.id, stored)
        )
        log.info("wrong e-mail code for account {id}{void}", id=account.id,
                 void=" (now void)" if voided else "")
        raise Invalid({"code": [WRONG_CODE]})
    yield attempt.succeeded()
    updated = yield storage.apply_email_code(account.id, stored)
    if updated is None:
        raise NotFound(NO_CODE)
    log.info("e-mail address of account {id} changed by code", id=account.id)
    return updated
