"""
Account-creation tokens: sent to a device by push notification, then traded
once for a new, not activated account.

A token is stored only after the push carrying it was sent, so a failed
push leaves nothing behind.  A device gets a new token only when it has no
unused one and has not already received more than three (the 2021 rules).
The token is consumed in the transaction that creates the account, so of
concurrent requests with one token exactly one creates an account.
"""

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd import accounts
from famd.credentials import confirmation_key
from famd.errors import Forbidden, Unavailable
from famd.interfaces import DeliveryFailed

log = Logger(namespace="famd.flows.tokens")

DEVICE_TOKENS = 4
"""How many tokens one device may ever receive (FAM refused more than 3)."""

NOT_SENT = "Token not sent"
REFUSALS = {
    "pending": "A similar token was already used",
    "limit": "The limit of tokens generated for this device has been reached",
}


@inlineCallbacks
def send_token(context, pn_provider, pn_param, pn_prid):
    """
    Push a new token to the device and store it, unused.

    @return: a Deferred firing with None, or failing with L{Forbidden} (the
        device rules) or L{Unavailable} (push is off or the push failed;
        nothing is stored then).
    """
    if context.push is None:
        raise Unavailable(NOT_SENT)
    storage = context.storage
    refusal = yield storage.token_refusal(pn_provider, pn_param, pn_prid, DEVICE_TOKENS)
    if refusal is not None:
        raise Forbidden(REFUSALS[refusal])
    token = confirmation_key()
    try:
        yield context.push.send(pn_provider, pn_param, pn_prid, {"token": token})
    except DeliveryFailed as failure:
        log.warn("account-creation token not sent: {reason}", reason=str(failure))
        raise Unavailable(NOT_SENT) from None
    refusal = yield storage.add_token(
        token, pn_provider, pn_param, pn_prid, DEVICE_TOKENS, context.now()
    )
    if refusal is not None:
        log.info("account-creation token sent but not kept: the device got another one")
        raise Forbidden(REFUSALS[refusal])
    log.info("account-creation token sent to a {provider} device", provider=pn_provider)
    context.metrics.signup("token_pushed", "2021")


def create_account(context, username, password, algorithm, domain, token, ip_address,
                   dtmf_protocol=None, generation="2021"):
    """
    Create a not activated account, consuming C{token} in the same
    transaction.

    @param token: the stored text of an unused token (as
        C{ISignUpStore.creation_token} found it).
    @param dtmf_protocol: FAM 2.x's ``dtmf_protocol`` of the account, or None.
    @param generation: the API generation asking ('2021' or '2'), for metrics.
    @return: a Deferred firing with the new L{famd.model.Account}, or
        failing with L{famd.errors.Conflict} ('username' or 'token').
    """
    fresh = accounts.new_account(
        context.config,
        context.now(),
        username,
        password,
        algorithm,
        domain=domain,
        activated=False,
        ip_address=ip_address,
        token=token,
        dtmf_protocol=dtmf_protocol,
    )
    d = context.storage.create_and_load_account(fresh)

    def created(account):
        log.info("account {id} created with a token", id=account.id)
        context.metrics.signup("account_created", generation)
        return account

    return d.addCallback(created)
