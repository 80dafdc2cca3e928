"""
Changing an account's e-mail address: the new address receives a link, and
opening the link applies the change.

The pending change is an ``email_changed`` row (one per account) holding the
new address and the link's secret; the account object shows it as
``email_changed``.  The link works once and for C{email_change_lifetime}
seconds.  A failed e-mail removes the pending change again.  Messages sent
are counted per account and per address, and a wrong link is a wrong secret
of the client's address (L{famd.throttle}).
"""

from datetime import timedelta

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.credentials import random_string, same
from famd.errors import Forbidden, NotFound, Unavailable
from famd.flows import send_or_withdraw

log = Logger(namespace="famd.flows.email_change")

SECRET_LENGTH = 32
CONFIRM_PATH = "/api/accounts/me/email/confirm/"
NOT_SENT = "The confirmation e-mail could not be sent, try again later."
NO_CHANGE = "This link is unknown or was already used."
EXPIRED = "This link has expired: ask for the change again."


def confirmation_link(config, secret):
    """The link mailed to the new address."""
    return config.public_url + CONFIRM_PATH + secret


@inlineCallbacks
def request_change(context, account, new_email):
    """
    Record the pending change and mail the link to C{new_email}.

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
    subject, text, html = context.templates.render(
        "email_change",
        {
            "app_name": config.app_name,
            "public_url": config.public_url,
            "link": confirmation_link(config, secret),
            "new_email": new_email,
        },
    )
    yield context.storage.set_email_change(account.id, new_email, secret, context.now())
    yield send_or_withdraw(
        "e-mail change", "confirmation", account,
        lambda: context.email.send(new_email, subject, text, html),
        lambda: context.storage.drop_email_change(account.id, secret),
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
    lifetime = timedelta(seconds=context.config.email_change_lifetime)
    # A change whose creation time is unknown counts as expired.
    if created_at is None or created_at + lifetime < context.now():
        yield context.storage.drop_email_change(account_id, stored)
        raise Forbidden(EXPIRED)
    new_email = yield context.storage.apply_email_change(account_id, stored)
    if new_email is None:
        raise NotFound(NO_CHANGE)
    log.info("e-mail address of account {id} changed", id=account_id)
    return new_email
