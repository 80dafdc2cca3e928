"""
FAM 2.x's "Account unvalidated" rule for the linking requests
(``me/phone/request``, ``me/email/request``) of accounts not yet activated.

FAM 2.x lets any account that proved itself ask for a phone or e-mail code
only once an account-creation token was consumed for it (``tokens.account_id``
names it, ``used``): the token is what makes an account made by an app
"validated" (pushed to a device, or traded for a request token a person
validated).  famd applies the rule to accounts not yet activated only, the
ones that may now authenticate to the four linking routes (L{famd.auth}):
an activated account asks for codes as in 2021, whatever created it.  A
not-activated account with no consumed token (an administrator's
deactivation, a 2021 account created by e-mail) gets 403, before its
fields are read.
"""

from twisted.internet.defer import inlineCallbacks

from famd.errors import Forbidden

UNVALIDATED = "Account unvalidated"


@inlineCallbacks
def require_validated(context, account):
    """
    @return: a Deferred firing with None when C{account} may ask for a
        linking code, or failing with L{Forbidden}(C{UNVALIDATED}).
    """
    if account.activated:
        return
    if not (yield context.storage.creation_token_consumed(account.id)):
        raise Forbidden(UNVALIDATED)
