"""
Changing an account's phone number: a 4-digit code goes to the new number
by SMS, and sending the code back replaces the account's alias and
activates the account (FAM 2.x's sign-up flows link a phone to a fresh
account).

The pending change is a ``phone_change_codes`` row (one per account, with
the client's address and ``User-Agent``).  A wrong code is a wrong secret
of the client's address (L{famd.throttle}) and burns the pending change, as
in 2021; the right code works once and for C{phone_change_code_lifetime}
seconds (then 410, as in FAM 2.x).  Codes sent are counted per account and
per number (L{famd.throttle.Throttle.sms}).
"""

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.credentials import digits, same
from famd.errors import Forbidden, NotFound, Unavailable
from famd.flows import send_or_withdraw
from famd.flows.codes import refuse_expired

log = Logger(namespace="famd.flows.phone_change")

CODE_LENGTH = 4
NOT_SENT = "The SMS could not be sent, try again later."
NO_CHANGE = "No phone change is pending for this account."
WRONG_CODE = "Wrong code: ask for a new one."


@inlineCallbacks
def request_change(context, account, phone, ip=None, user_agent=None):
    """
    Record a pending change to C{phone} (asked for from C{ip} with
    C{user_agent}) and send its code by SMS.

    @return: a Deferred firing with None, or failing with L{Unavailable}
        (SMS is off, or the SMS was not accepted: then nothing stays
        pending) or L{famd.errors.TooMany} (too many SMS for the account or
        the number).
    """
    if context.sms is None:
        raise Unavailable(NOT_SENT)
    yield context.throttle.sms(account.id, phone)
    code = digits(CODE_LENGTH)
    _, text, _ = context.templates.render(
        "sms_phone_code", {"app_name": context.config.app_name, "code": code}
    )
    yield context.storage.set_phone_change(account.id, phone, code, context.now(), ip, user_agent)
    yield send_or_withdraw(
        "phone change", "code", account,
        lambda: context.sms.send(phone, text),
        lambda: context.storage.drop_phone_change(account.id, code),
        NOT_SENT,
    )


@inlineCallbacks
def confirm_change(context, account, code, client_address):
    """
    Apply the account's pending change if C{code} is its code.

    @return: a Deferred firing with the updated, activated
        L{famd.model.Account}, or failing with L{NotFound} (nothing
        pending), L{famd.errors.Gone} (expired code; the pending change is gone),
        L{Forbidden} (wrong code; the pending change is gone),
        L{famd.errors.Conflict} ('phone':
        another account took the number meanwhile) or
        L{famd.errors.TooMany}.
    """
    attempt = yield context.throttle.secret_attempt(client_address)
    pending = yield context.storage.phone_change(account.id)
    if pending is None:
        yield attempt.succeeded()
        raise NotFound(NO_CHANGE)
    stored = pending.code
    yield refuse_expired(context, attempt, pending.created_at,
                         context.config.phone_change_code_lifetime,
                         lambda: context.storage.drop_phone_change(account.id, stored))
    if not same(code, stored):
        attempt.failed()
        yield context.storage.drop_phone_change(account.id, stored)
        log.info("wrong phone change code for account {id}", id=account.id)
        raise Forbidden(WRONG_CODE)
    yield attempt.succeeded()
    updated = yield context.storage.apply_phone_change(account.id, stored)
    if updated is None:
        raise NotFound(NO_CHANGE)
    log.info("phone number of account {id} changed", id=account.id)
    return updated
