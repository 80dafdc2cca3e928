"""
FAM 2.x sign-up: account-creation tokens pushed to a device
(``send-by-push``), traded for a not activated account
(``with-account-creation-token``) or consumed by an existing account
(``consume``), made by an administrator, and the desktop's request tokens,
validated by a person on famd's page and then traded for a creation token.

One pool of tokens serves both API generations (the 2021 ``tokens`` table):
a token pushed by either route creates an account through either creation
route.  The two push routes keep their own rules over that pool:

 - 2021 ``POST /tokens`` answers 403 while the device holds an unused token
   and after its fourth token (L{famd.flows.tokens}), as in 2021;
 - 2.x ``send-by-push`` lets a device retry while its earlier token is
   unused (a lost push): the new token replaces the device's unused ones,
   so a device holds at most one usable token.  Once a token of the device
   was used, the device gets no new one for ``signup.creation_token_retry``
   minutes (429 ``Last token requested too recently``, with Retry-After),
   and no device is pushed more than ``throttle.pushes_per_device`` tokens
   an hour, retries included.  So one device makes at most one account per
   retry window.

A token is stored only after the push carrying it was sent (503 ``Token
not sent`` otherwise, nothing stored).  Secrets are compared in constant
time (storage matches exact text) and never logged.  The client's ``ip``
and ``user_agent`` arrive as L{famd.api.http.origin} reads them, already
clipped to their columns.
"""

from datetime import timedelta
import math

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.credentials import confirmation_key
from famd.errors import NotFound, TooMany, Unavailable
from famd.flows import tokens
from famd.interfaces import DeliveryFailed

log = Logger(namespace="famd.flows.signup2")

RECENT = "Last token requested too recently"
EXPIRED_TOKEN = "The provided token is expired"
"""FAM 2.x's text for a creation token past ``signup.creation_token_expiration``."""
NOT_SENT = tokens.NOT_SENT
TOKEN_LENGTH = 13
"""The length of every token FAM 2.x checks."""
def retry_after(free_at, now):
    """Whole seconds (at least 1) from C{now} until C{free_at}."""
    return max(1, math.ceil((free_at - now).total_seconds()))


def minutes(context, key):
    """A C{signup} setting in minutes, as a timedelta."""
    return timedelta(minutes=context.config.signup[key])


def expire_at(context, token):
    """When a creation token expires (``signup.creation_token_expiration``), or None: never."""
    if not context.config.signup["creation_token_expiration"] or token.created_at is None:
        return None
    return token.created_at + minutes(context, "creation_token_expiration")


def expired(context, token):
    """Whether a creation token is past its expiry."""
    moment = expire_at(context, token)
    return moment is not None and moment < context.now()


@inlineCallbacks
def push(context, device, payload_token, what):
    """Push C{payload_token} to C{device} as FAM does, C{{"token": ...}}: 503 when it fails."""
    if context.push is None:
        raise Unavailable(NOT_SENT)
    try:
        yield context.push.send(*device, {"token": payload_token})
    except DeliveryFailed as failure:
        log.warn("{what} not sent: {reason}", what=what, reason=str(failure))
        raise Unavailable(NOT_SENT) from None


@inlineCallbacks
def push_then_store(context, device, window, used_since, store, what):
    """
    Push a new token to C{device} ((provider, param, prid)), then store it:
    the one way account-creation and account-recovery tokens are pushed.

    A device whose token of that kind was used within the retry C{window}
    (a timedelta) gets none.  Otherwise the push counts against the
    device's pushes (L{famd.throttle.Throttle.device_push}), is sent, and
    only then is the token stored; the store checks the rule again in its
    transaction (a token used meanwhile: nothing kept).

    Retry-After, one rule for both refusals: the whole seconds (at least 1)
    until the device's latest used token leaves the window, that is its
    creation time plus C{window}, minus now.

    @param used_since: C{used_since(since)}: a Deferred firing with the
        creation time of the device's latest used token created after
        C{since}, or None.
    @param store: C{store(token, now, since)}: a Deferred firing with None
        once the token is stored, else with what C{used_since} would.
    @param what: the kind of token, for the log.
    @return: a Deferred firing with None, or failing with L{TooMany}
        (RECENT, or the device's pushes are spent) or L{Unavailable} (push
        off or failed: nothing stored).
    """
    if context.push is None:
        raise Unavailable(NOT_SENT)
    now = context.now()
    since = now - window
    used_at = yield used_since(since)
    if used_at is None:
        yield context.throttle.device_push(*device)
        token = confirmation_key()
        yield push(context, device, token, what)
        used_at = yield store(token, now, since)
        if used_at is None:
            log.info("{what} sent to a {provider} device", what=what, provider=device[0])
            return
        log.info("{what} sent but not kept: the device used another one", what=what)
    raise TooMany(retry_after(used_at + window, now), RECENT)


def _latest_used(pairs):
    """The latest creation time of the used ones of (created_at, used) C{pairs}, or None."""
    return max((created for created, used in pairs if used), default=None)


def push_creation_token(context, device, ip, user_agent):
    """
    Push a new account-creation token to C{device} ((provider, param, prid))
    and store it, replacing the device's unused ones (L{push_then_store}).

    @return: a Deferred firing with None, or failing with L{TooMany} (a
        token of the device was used within the retry window, or the device
        was pushed too many tokens) or L{Unavailable} (push off or failed).
    """
    storage = context.storage
    return push_then_store(
        context, device, minutes(context, "creation_token_retry"),
        lambda since: storage.device_tokens(*device, since).addCallback(_latest_used),
        lambda token, now, since: storage.add_device_token(
            token, *device, ip, user_agent, now, since),
        "account-creation token (2.x)",
    ).addCallback(lambda _: context.metrics.signup("token_pushed", "2"))


@inlineCallbacks
def consume(context, account, token, ip, user_agent):
    """
    The authenticated C{account} consumes an unused token no account holds.

    @return: a Deferred firing with the L{famd.model.CreationToken} as
        stored, or failing with L{NotFound}.
    """
    if not isinstance(token, str) or not token:
        raise NotFound("Account creation token not found")
    consumed = yield context.storage.consume_creation_token(
        token, account.id, ip, user_agent, context.now())
    if consumed is None:
        raise NotFound("Account creation token not found")
    log.info("account {id} consumed an account-creation token", id=account.id)
    return consumed


def make_token(context, ip, user_agent):
    """An administrator's token (no device): a Deferred of its L{famd.model.CreationToken}."""
    return context.storage.add_plain_token(
        confirmation_key(), ip, user_agent, context.now())


@inlineCallbacks
def new_request_token(context):
    """Store a new request token; fire with its text."""
    token = confirmation_key()
    yield context.storage.add_request_token(token, context.now())
    return token


@inlineCallbacks
def trade_request_token(context, token, ip, user_agent):
    """
    The creation token of a validated request token.

    @return: a Deferred firing with ('invalid', None) (unknown, used or not
        13 characters), ('pending', None) (not validated yet) or ('made',
        the new L{famd.model.CreationToken}).
    """
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH:
        return "invalid", None
    found = yield context.storage.request_token(token)
    if found is None or found.used:
        return "invalid", None
    if found.validated_at is None:
        return "pending", None
    made = yield context.storage.trade_request_token(
        token, confirmation_key(), ip, user_agent, context.now())
    if made is None:  # another poll traded it first
        return "invalid", None
    log.info("request token traded for an account-creation token")
    return "made", made
