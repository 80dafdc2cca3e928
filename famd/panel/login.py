"""
Logging in to the panel: find the account by SIP username, SIP address or
e-mail address, and check the password against its stored HA1s (each
recomputed with its row's algorithm and the account's realm, in constant
time: L{famd.flows.password.old_password_matches}).  Nothing here knows
HTTP.
"""

from twisted.internet.defer import inlineCallbacks

from famd.flows.password import old_password_matches
from famd.model import Account, Password

WRONG, BLOCKED, NOT_ACTIVATED = "wrong", "blocked", "not_activated"
"""Why a login fails."""

_NOBODY = Account(
    id=0, username="nobody", domain="invalid", email=None, activated=False, confirmation_key=None,
    ip_address="", user_agent="", creation_time=None, passwords=(Password("0" * 64, "SHA-256"),),
)
"""Checked when no account matches, so that an unknown name costs what a known one does."""

MOST = 255
"""No identifier or password is longer (what no column holds cannot match)."""


@inlineCallbacks
def find_account(storage, sip_domain, identifier):
    """
    The account named by C{identifier}: a SIP address (``user@domain``,
    ``sip:`` optional), else an e-mail address, or a username of
    C{sip_domain}; None when none matches.
    """
    identifier = identifier.strip()
    if identifier.startswith("sip:"):
        identifier = identifier[4:]
    if not identifier or len(identifier) > MOST:
        return None
    if "@" in identifier:
        # A SIP address first: an e-mail address is anyone's to choose, so
        # it never hides the account whose SIP address it spells.
        username, _, domain = identifier.rpartition("@")
        account = yield storage.find_account(username, domain)
        if account is not None:
            return account
        return (yield storage.find_account_by_email(identifier))
    return (yield storage.find_account(identifier, sip_domain))


@inlineCallbacks
def check_login(config, storage, identifier, password):
    """
    The account C{identifier} and C{password} prove, or why not.

    @return: a Deferred firing with (account, None) or (account or None,
        one of L{WRONG}, L{BLOCKED}, L{NOT_ACTIVATED}); blocked and not
        activated are only told once the password matched.
    """
    account = yield find_account(storage, config.sip_domain, identifier or "")
    password = password or ""
    if account is None or len(password) > MOST:
        old_password_matches(config, _NOBODY, password[:MOST])
        return None, WRONG
    if not old_password_matches(config, account, password):
        return None, WRONG
    if account.blocked:
        return account, BLOCKED
    if not account.activated:
        return account, NOT_ACTIVATED
    return account, None
