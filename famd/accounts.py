"""
The account rules, once, above storage.

How a new account is made (HA1 per algorithm, confirmation key when not
activated, the realm used), shared by the API and the ``famd`` command.
Nothing here knows HTTP or SQL.
"""

from famd import credentials
from famd.model import NewAccount, Password

USER_AGENT = "famd"
"""The user_agent recorded on accounts famd creates (FAM wrote 'FlexiAPI')."""


def password_row(config, username, domain, password, algorithm):
    """The ``passwords`` row for a clear password."""
    realm = credentials.realm_for(config.realm, domain)
    return Password(credentials.ha1(username, realm, password, algorithm), algorithm)


def new_account(
    config,
    now,
    username,
    password,
    algorithm,
    domain=None,
    activated=False,
    admin=False,
    email=None,
    phone=None,
    activation_expires=None,
    ip_address="127.0.0.1",
    user_agent=USER_AGENT,
    api_key=None,
    token=None,
):
    """
    A L{NewAccount} ready for L{famd.interfaces.IAccountStore.create_account}:
    the password hashed, a confirmation key when not activated, and its first
    FAM 2.x provisioning token (every account has one from its creation on).

    @param now: the creation time, an aware datetime.
    @param activation_expires: when an account created not activated stops
        accepting its confirmation key: an aware datetime, or None.
    """
    domain = domain or config.sip_domain
    return NewAccount(
        username=username,
        domain=domain,
        passwords=(password_row(config, username, domain, password, algorithm),),
        ip_address=ip_address,
        user_agent=user_agent,
        creation_time=now,
        email=email,
        activated=activated,
        confirmation_key=None if activated else credentials.confirmation_key(),
        admin=admin,
        phone=phone,
        activation_expires=None if activated else activation_expires,
        api_key=api_key,
        token=token,
        provisioning_token=credentials.confirmation_key(),
    )
