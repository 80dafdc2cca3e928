"""
The FAM 2.x account object of a route's answer: L{famd.api.render2} with
the account's current provisioning token read from storage (FAM shows it to
the account's owner and to administrators alike).
"""

from famd.api import render2
from famd.flows import provisioning


def provisioning_token(config, issued):
    """The L{render2.ProvisioningToken} of an L{famd.model.IssuedToken} (None stays None)."""
    if issued is None:
        return None
    return render2.ProvisioningToken(issued.token, provisioning.expire_at(config, issued))


def account_object(storage, config, account, **options):
    """
    A Deferred firing with the 2.x object of C{account} (C{options} as
    L{render2.account} takes them), carrying its current provisioning token.
    """
    d = storage.current_provisioning_token(account.id)
    return d.addCallback(
        lambda issued: render2.account(
            account, provisioning=provisioning_token(config, issued), **options
        )
    )
