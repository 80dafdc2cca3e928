"""
Account-recovery tokens (FAM 2.x ``POST /account_recovery_tokens/send-by-push``):
pushed to a device as C{{"token": ...}}, stored only once the push was
sent, valid ``signup.recovery_token_expiration`` minutes and used once.

A device whose recovery token was used less than
``signup.recovery_token_retry`` minutes ago gets no new one (429 ``Last
token requested too recently``, with Retry-After); pushes count against
``throttle.pushes_per_device`` like sign-up tokens.  The recovery pages
(the account-panel issue) find a token with L{usable_token} and spend it
with L{use_token}.
"""

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.credentials import confirmation_key
from famd.errors import TooMany
from famd.flows.signup2 import RECENT, clip, minutes, push, retry_after

log = Logger(namespace="famd.flows.recovery")


@inlineCallbacks
def push_recovery_token(context, device, ip, user_agent):
    """
    Push a new recovery token to C{device} ((provider, param, prid)) and
    store it.

    @return: a Deferred firing with None, or failing with L{TooMany} or
        L{famd.errors.Unavailable} (push off or failed: nothing stored).
    """
    storage, now = context.storage, context.now()
    window = minutes(context, "recovery_token_retry")
    push_off = context.push is None
    if not push_off:
        used_at = yield storage.recovery_used_since(*device, now - window)
        if used_at is not None:
            raise TooMany(retry_after(used_at + window, now), RECENT)
        yield context.throttle.device_push(*device)
    token = confirmation_key()
    yield push(context, device, token, "account-recovery token")
    used_at = yield storage.add_recovery_token(
        token, *device, clip(ip), clip(user_agent), now, now - window)
    if used_at is not None:
        raise TooMany(retry_after(used_at + window, now), RECENT)
    log.info("account-recovery token sent to a {provider} device", provider=device[0])


def not_before(context):
    """Recovery tokens created before this time have expired."""
    return context.now() - minutes(context, "recovery_token_expiration")


def usable_token(context, token):
    """A Deferred of the unused, unexpired L{famd.model.RecoveryToken} C{token}, or None."""
    return context.storage.recovery_token(token, not_before(context))


def use_token(context, token, account_id):
    """
    Spend the recovery token C{token} for the recovered C{account_id}, once:
    a Deferred of the token as it was, or None (unknown, used or expired).
    """
    return context.storage.use_recovery_token(token, account_id, not_before(context), context.now())
