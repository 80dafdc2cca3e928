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

from famd.flows.signup2 import minutes, push_then_store


def push_recovery_token(context, device, ip, user_agent):
    """
    Push a new recovery token to C{device} ((provider, param, prid)) and
    store it (L{famd.flows.signup2.push_then_store}).

    @return: a Deferred firing with None, or failing with L{TooMany} or
        L{famd.errors.Unavailable} (push off or failed: nothing stored).
    """
    storage = context.storage
    return push_then_store(
        context, device, minutes(context, "recovery_token_retry"),
        lambda since: storage.recovery_used_since(*device, since),
        lambda token, now, since: storage.add_recovery_token(
            token, *device, ip, user_agent, now, since),
        "account-recovery token",
    )


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
