"""
Signing up on the account panel: a new account, not activated, activated
by the link of a confirmation e-mail (its 13-character confirmation key,
L{famd.flows.activation}, as the 2021 account manager) or by the code of an
SMS (L{famd.flows.recovery_codes}: the number becomes the account's once
the code is back).

The account is stored first (its username is taken at once), then the
message is sent; a message that cannot be sent, or that the throttle
refuses, deletes the account again: no account stays that nobody can
activate.  Nothing here knows HTTP; the field rules are the API's
(L{famd.api.validation}), checked by the page.
"""

from urllib.parse import urlencode

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd import accounts
from famd.errors import Unavailable
from famd.flows import recovery_codes
from famd.interfaces import DeliveryFailed

log = Logger(namespace="famd.flows.panel_signup")

ACTIVATE_PATH = "/signup/activate"
NOT_SENT = "The confirmation could not be sent, try again later."
ALGORITHM = "SHA-256"
"""The algorithm of the HA1 a sign-up stores (both when ``passwords.both_algorithms``)."""


def activation_link(config, username, key):
    """The link of the confirmation e-mail: the panel page that activates the account."""
    return "%s%s?%s" % (config.public_url, ACTIVATE_PATH, urlencode({"username": username, "code": key}))


def _new(context, username, password, ip, user_agent, email=None):
    fresh = accounts.new_account(
        context.config, context.now(), username, password, ALGORITHM, activated=False,
        email=email, ip_address=ip, user_agent=user_agent or accounts.USER_AGENT,
    )
    return context.storage.create_and_load_account(fresh)


@inlineCallbacks
def _undone(context, account, failure):
    """Delete the account a message could not be sent for, then fail with C{failure}."""
    yield context.storage.delete_account(account.id)
    log.info("sign-up of account {id} undone: its message was not sent", id=account.id)
    raise failure


@inlineCallbacks
def sign_up_by_email(context, username, password, email, ip, user_agent):
    """
    Create a not activated account with C{email} and mail it its activation link.

    @return: a Deferred firing with the new L{famd.model.Account}, or
        failing with L{famd.errors.Conflict} ('username'), L{Unavailable}
        (e-mail off or not accepted) or L{famd.errors.TooMany} (e-mails to
        the address): then no account was kept.
    """
    if context.email is None:
        raise Unavailable(NOT_SENT)
    account = yield _new(context, username, password, ip, user_agent, email=email)
    try:
        yield context.throttle.email(account.id, email)
        config = context.config
        subject, text, html = context.templates.render("activation", {
            "app_name": config.app_name,
            "link": activation_link(config, account.username, account.confirmation_key),
            "code": account.confirmation_key,
            "username": account.username,
        })
        yield context.email.send(email, subject, text, html)
    except DeliveryFailed as failure:
        log.warn("sign-up of account {id}: e-mail not sent: {reason}", id=account.id,
                 reason=str(failure))
        yield _undone(context, account, Unavailable(NOT_SENT))
    except Exception as failure:
        yield _undone(context, account, failure)
    log.info("account {id} signed up by e-mail", id=account.id)
    return account


@inlineCallbacks
def sign_up_by_phone(context, username, password, phone, ip, user_agent):
    """
    Create a not activated account and send C{phone} the code that
    activates it and makes C{phone} its number
    (L{famd.flows.recovery_codes.check_code}).

    @return: a Deferred firing with the new L{famd.model.Account}, or
        failing with L{famd.errors.Conflict} ('username'), L{Unavailable}
        (SMS off or not accepted) or L{famd.errors.TooMany} (SMS to the
        number): then no account was kept.
    """
    if context.sms is None:
        raise Unavailable(NOT_SENT)
    account = yield _new(context, username, password, ip, user_agent)
    try:
        yield recovery_codes.send_phone_code(context, account, phone, ip, user_agent)
    except Exception as failure:
        yield _undone(context, account, failure)
    log.info("account {id} signed up by phone", id=account.id)
    return account
