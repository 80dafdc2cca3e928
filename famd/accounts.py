"""
The account rules, once, above storage.

How a new account is made (its HA1s, confirmation key when not
activated, the realm used), shared by the API and the ``famd`` command.
Nothing here knows HTTP or SQL.
"""

from famd import credentials
from famd.model import ALGORITHMS, NewAccount, Password

USER_AGENT = "famd"
"""The user_agent recorded on accounts famd creates (FAM wrote 'FlexiAPI')."""


def password_row(config, username, domain, password, algorithm):
    """The ``passwords`` row of C{algorithm} for a clear password."""
    realm = credentials.realm_for(config.realm, domain)
    return Password(credentials.ha1(username, realm, password, algorithm), algorithm)


def password_rows(config, username, domain, password, algorithm):
    """
    Every ``passwords`` row to store for a clear password: the HA1 of
    C{algorithm}, then, when C{config.both_algorithms} (famd.yaml
    ``passwords.both_algorithms``), the HA1 of the other DIGEST algorithm,
    so that MD5-only and SHA-256 clients both register.  Whatever creates an
    account or sets a password stores these rows.
    """
    algorithms = (algorithm,)
    if config.both_algorithms and algorithm in ALGORITHMS:
        algorithms += tuple(other for other in ALGORITHMS if other != algorithm)
    return tuple(password_row(config, username, domain, password, each) for each in algorithms)


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
    dtmf_protocol=None,
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
        passwords=password_rows(config, username, domain, password, algorithm),
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
        dtmf_protocol=dtmf_protocol,
    )
