"""
Reset-password links (FAM 2.x's ``send_reset_password_email``): an
administrator has famd mail an account's address a single-use link,
``<public_url>/reset_password/<token>``, valid
C{reset_password_email_lifetime} seconds.

The token is a ``reset_password_email_tokens`` row (16 characters, the
address it was mailed to, the asking client's address and agent).  The page
the link opens belongs to the account panel; L{use_link} is what it calls
to trade a token for its account, once.  A failed e-mail stores no token.
"""

from datetime import timedelta

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.clock import spoken
from famd.credentials import random_string, same
from famd.errors import Forbidden, Gone, NotFound, Unavailable
from famd.flows import mail_then_store

log = Logger(namespace="famd.flows.reset_password")

TOKEN_LENGTH = 16
LINK_PATH = "/reset_password/"
NO_EMAIL = "No email configured"
NOT_SENT = "The reset-password e-mail could not be sent, try again later."
NO_LINK = "This link is unknown or was already used."
EXPIRED = "This link has expired."
USER_AGENT_LIMIT = 255
"""The width of the ``user_agent`` column (varchar(255) on MariaDB)."""


def reset_link(config, token):
    """The link mailed to the account."""
    return config.public_url + LINK_PATH + token


@inlineCallbacks
def send_link(context, account, ip, user_agent):
    """
    Mail a new token's link to the account's address, then store the
    token (L{famd.flows.mail_then_store}).

    @param ip: the asking client's address (recorded with the token).
    @param user_agent: its User-Agent (str or None; cut to the column).
    @return: a Deferred firing with None, or failing with L{Forbidden}
        (the account has no e-mail), L{Unavailable} (e-mail is off, or the
        message was not accepted: no token is stored), L{NotFound}
        (the account is gone) or L{famd.errors.TooMany} (too many e-mails
        for the account or the address, L{famd.throttle}).
    """
    if not account.email:
        raise Forbidden(NO_EMAIL)
    if context.email is None:
        raise Unavailable(NOT_SENT)
    yield context.throttle.email(account.id, account.email)
    config = context.config
    token = random_string(TOKEN_LENGTH)
    if user_agent is not None:
        user_agent = user_agent[:USER_AGENT_LIMIT]
    now = context.now()
    stored = yield mail_then_store(
        context, "password reset", account, account.email, "reset_password",
        {
            "app_name": config.app_name,
            "public_url": config.public_url,
            "link": reset_link(config, token),
            "username": account.username,
            "hours": config.reset_password_email_lifetime // 3600,
            "lifetime": spoken(config.reset_password_email_lifetime),
        },
        lambda: context.storage.add_reset_password_token(
            account.id, token, account.email, ip, user_agent, now),
        NOT_SENT,
    )
    if not stored:
        raise NotFound("No such account.")


@inlineCallbacks
def use_link(context, token):
    """
    Trade a link's token for its account, once.

    @return: a Deferred firing with the account id, or failing with
        L{NotFound} (unknown or used token) or L{Gone} (expired).
    """
    found = yield context.storage.reset_password_token(token)
    if found is None or found.used or not same(token, found.token):
        raise NotFound(NO_LINK)
    not_before = context.now() - timedelta(seconds=context.config.reset_password_email_lifetime)
    if found.created_at is None or found.created_at < not_before:
        raise Gone(EXPIRED)
    account_id = yield context.storage.use_reset_password_token(found.token, not_before, context.now())
    if account_id is None:
        raise NotFound(NO_LINK)
    log.info("reset-password link of account {id} used", id=account_id)
    return account_id
