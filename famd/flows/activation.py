"""
Activating an account with the code it received: the 13-character key sent
by e-mail or the 4-digit code sent by SMS.  The 2021 account manager kept
both in ``accounts.confirmation_key``, and so does famd.

A wrong code is a wrong secret of the client's address (L{famd.throttle}:
its budget spent, 429); a short (4-digit) code is also void after
C{code_tries} wrong tries on its account, whoever made them, and the owner
asks for a new one, which works at once.  A stranger's wrong tries never
refuse the owner's right code.  A right code works once: the key is
cleared by an update conditional on it.
"""

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.credentials import same
from famd.errors import NO_ACCOUNT, Forbidden, NotFound

log = Logger(namespace="famd.flows.activation")

EXPIRED = "Activation expired"


def activation_expired(account, now):
    """
    Whether the account's ``activation_expirations`` row is in the past (an
    unknown expiry time never expires).
    """
    expiration = account.activation_expiration
    if expiration is None or expiration.expires is None:
        return False
    return expiration.expires < now


@inlineCallbacks
def activate(context, username, domain, code, client_address, how):
    """
    Activate C{username@domain} if C{code} is its confirmation key.

    @param how: 'email' or 'phone', for the log.
    @return: a Deferred firing with the activated L{famd.model.Account}, or
        failing with L{NotFound} (unknown account or wrong code),
        L{Forbidden} (the activation expired) or
        L{famd.errors.TooMany}.
    """
    attempt = yield context.throttle.secret_attempt(client_address)
    account = None
    if username and domain:
        account = yield context.storage.find_account(username, domain)
    key = account.confirmation_key if account is not None else None
    if not same(code, key):
        attempt.failed()
        log.info("wrong activation code for an account from {address}", address=client_address)
        if account is not None and key:
            voided = yield context.throttle.wrong_code(
                account.id, key, lambda: context.storage.consume_confirmation_key(key, context.now())
            )
            if voided:
                log.info("activation code of account {id} void after wrong tries", id=account.id)
        raise NotFound(NO_ACCOUNT)
    yield attempt.succeeded()
    if activation_expired(account, context.now()):
        raise Forbidden(EXPIRED)
    activated = yield context.storage.activate_with_code(account.id, key)
    if activated is None:
        raise NotFound(NO_ACCOUNT)
    log.info("account {id} activated by {how}", id=account.id, how=how)
    context.metrics.signup("activated", "2021")
    return activated
