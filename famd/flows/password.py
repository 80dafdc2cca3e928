"""
Changing one's own password: the old password, when the account has one,
must match one of its stored credentials; the new HA1 then replaces them
all in one transaction.
"""

from twisted.logger import Logger

from famd.accounts import password_rows
from famd.credentials import ha1, realm_for, same
from famd.model import ALGORITHMS

log = Logger(namespace="famd.flows.password")

def old_password_matches(config, account, old_password):
    """
    Whether C{old_password} is the password behind one of the account's
    rows (an HA1, or a clear 'CLRTXT' one).  Every row is checked, in
    constant time, whatever the outcome.
    """
    realm = realm_for(config.realm, account.domain)
    matched = False
    for row in account.passwords:
        if row.algorithm == "CLRTXT":
            candidate = old_password
        elif row.algorithm in ALGORITHMS:
            candidate = ha1(account.username, realm, old_password, row.algorithm)
        else:
            continue
        stored = row.password.lower() if row.algorithm != "CLRTXT" else row.password
        matched = same(candidate, stored) or matched
    return matched


def change_password(context, account, password, algorithm):
    """
    Replace the account's passwords by the HA1s of C{password}
    (L{famd.accounts.password_rows}: both algorithms when configured).

    @return: a Deferred firing with True, or False when the account is gone.
    """
    rows = password_rows(context.config, account.username, account.domain, password, algorithm)
    d = context.storage.replace_passwords(account.id, rows)

    def changed(done):
        if done:
            log.info("password of account {id} changed", id=account.id)
        return done

    return d.addCallback(changed)
