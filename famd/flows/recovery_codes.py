"""
The short codes of the account panel's public pages: the 4-digit code that
recovers an account by e-mail or by SMS, and the SMS code that activates an
account signed up with a phone number.

Codes are kept where famd's existing flows keep theirs, so no table is
added: a code sent by SMS is a pending phone change to the number it was
sent to (``phone_change_codes``, L{famd.flows.phone_change}), a code sent
by e-mail a pending FAM 2.x e-mail change to the address it was sent to
(``email_change_codes``, L{famd.flows.email_change}).  The right code of
a recovery is spent and changes nothing else (a deactivated account stays
so); the right code of a phone sign-up applies its change: the number
becomes the account's, which activates it.  A code works for
``phone_change_code_lifetime`` / ``email_change_code_lifetime`` seconds
and for at most L{TRIES} wrong tries, counted in the database
(``famd_code_failures``, L{famd.throttle}) per code and per form (its
signed L{new_ticket}): the last one voids it.  Each
try is also a secret of the client's address (``throttle.wrong_secrets``).

Recovery answers alike whether the account exists or not: a code is only
sent when it does, but messages are counted per destination either way,
and a try at a code of nobody counts and fails like a wrong one.
"""

import hashlib
import hmac
from datetime import timedelta

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.clock import ago, spoken
from famd.credentials import digits, random_string, same
from famd.errors import Gone, Unavailable
from famd.flows import mail_then_store, phone_change
from famd.throttle import DAY, Limit, hashed

log = Logger(namespace="famd.flows.recovery_codes")

CODE_LENGTH = 4
TRIES = 3
"""Wrong tries a code survives, as FAM 2.1's recovery pages (then it is void)."""
EMAIL, PHONE = "email", "phone"
"""How a code was sent."""
EXPIRED = "The code has expired"
NOT_SENT = "The code could not be sent, try again later."
NOBODY = "nobody"
"""The account key of messages and tries of an unknown account."""


class WrongCode(Exception):
    """A wrong code; C{left} tries remain (0: the code is void now)."""

    def __init__(self, left):
        super().__init__("wrong code, %d tries left" % (left,))
        self.left = left


# ---------------------------------------------------------------- sending


@inlineCallbacks
def send_phone_code(context, account, phone, ip, user_agent):
    """
    Send a code to C{phone} by SMS for C{account} (None: nobody has the
    number; nothing is sent but the number's messages are counted).

    @return: a Deferred firing with None, or failing with L{Unavailable}
        (SMS off or not accepted: nothing pending) or L{famd.errors.TooMany}.
    """
    if context.sms is None:
        raise Unavailable(NOT_SENT)
    if account is None:
        yield context.throttle.sms(NOBODY, phone)
        return
    # The code is a pending change to the number: the phone change's own sending.
    yield phone_change.request_change(context, account, phone, ip, user_agent)


@inlineCallbacks
def send_email_code(context, account, email, ip, user_agent):
    """
    Mail a recovery code to C{email} for C{account} (None: nobody has the
    address; nothing is sent but the address's messages are counted).

    @return: a Deferred firing with None, or failing with L{Unavailable}
        (e-mail off or not accepted: nothing pending) or L{famd.errors.TooMany}.
    """
    if context.email is None:
        raise Unavailable(NOT_SENT)
    yield context.throttle.email(account.id if account is not None else NOBODY, email)
    if account is None:
        return
    config = context.config
    code = digits(CODE_LENGTH)
    # The store takes a 2021 link with the code; it is removed at once: only the code works.
    secret = random_string(32)

    @inlineCallbacks
    def store():
        yield context.storage.request_email_change(
            account.id, email, secret, code, context.now(), ip, user_agent)
        yield context.storage.drop_email_change(account.id, secret)

    yield mail_then_store(
        context, "account recovery", account, email, "recovery",
        {
            "app_name": config.app_name,
            "public_url": config.public_url,
            "username": account.username,
            "code": code,
            "lifetime": spoken(config.email_change_code_lifetime),
        },
        store,
        NOT_SENT,
    )


# ---------------------------------------------------------------- checking


def _pending(context, method, account_id):
    """(a Deferred of the pending row or None, drop(code), apply(code)) of C{method}."""
    storage = context.storage
    if method == PHONE:
        return (storage.phone_change(account_id),
                lambda code: storage.drop_phone_change(account_id, code),
                lambda code: storage.apply_phone_change(account_id, code))
    return (storage.email_code(account_id),
            lambda code: storage.drop_email_code(account_id, code),
            lambda code: storage.apply_email_code(account_id, code))


def new_ticket(secret, method, destination, now):
    """
    The ticket of a code just asked for (a hidden field of the code form):
    when it was asked for, a nonce, and an HMAC of them with C{method} and
    C{destination} under the deployment's C{secret}.  Wrong tries are
    counted per ticket, so that a form answers alike whether a code was
    sent or nobody has the destination.
    """
    issued = "%d.%s" % (int(now.timestamp()), random_string(12))
    return issued + "." + _signature(secret, method, destination, issued)


def _signature(secret, method, destination, issued):
    message = "\n".join((method, destination, issued)).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:32]


def _ticket_time(secret, method, destination, ticket):
    """When a genuine C{ticket} was issued (a POSIX time), else None."""
    if not isinstance(ticket, str) or len(ticket) > 80 or ticket.count(".") != 2:
        return None
    issued, signature = ticket.rsplit(".", 1)
    if not same(signature, _signature(secret, method, destination, issued)):
        return None
    try:
        return int(issued.split(".")[0])
    except ValueError:
        return None


@inlineCallbacks
def _count_wrong(context, *scopes):
    """Record a wrong try in each scope; a Deferred of the tries each has left, in order."""
    limit = Limit("recovery", TRIES, DAY)
    storage = context.throttle.storage
    now = context.now()
    since = ago(now, limit.window)
    left = []
    for scope in scopes:
        _, full = yield storage.reserve_attempt([limit.scope(scope)], limit.count, since, now)
        used = yield storage.count_attempts(limit.scope(scope), since)
        left.append(0 if full is not None else max(0, limit.count - used))
    return left


@inlineCallbacks
def check_code(context, secret, method, account, destination, code, ticket, client_address,
               sent_to=None, link=False):
    """
    Check C{code} against C{account}'s pending code sent by C{method} to
    C{sent_to} (C{destination}, the address or number the form was for,
    unless given).  C{account} None (nobody) fails as a wrong code would.
    C{ticket} is the form's L{new_ticket} for C{destination}: a code is
    void once its ticket's lifetime (the code's) has passed or after
    L{TRIES} wrong tries.  The right code is spent; with C{link} its
    pending change is applied (a sign-up's number becomes the account's,
    which activates it), otherwise the account is left as it was (a
    recovery: a deactivated account stays so).

    @return: a Deferred firing with the L{famd.model.Account} (updated
        with C{link}), or failing with L{WrongCode} (its C{left} tries),
        L{Gone} (expired or void code, or a forged ticket: ask for a new
        one), L{famd.errors.Conflict} (a sign-up's number was taken
        meanwhile) or L{famd.errors.TooMany}.
    """
    attempt = yield context.throttle.secret_attempt(client_address)
    lifetime = (context.config.phone_change_code_lifetime if method == PHONE
                else context.config.email_change_code_lifetime)
    issued = _ticket_time(secret, method, destination or "", ticket)
    if issued is None:
        attempt.failed()
        raise Gone(EXPIRED)
    pending, drop, apply = None, None, None
    if account is not None:
        found, drop, apply = _pending(context, method, account.id)
        pending = yield found
    address = getattr(pending, "phone" if method == PHONE else "email", None)
    if pending is not None and not same(address or "", sent_to or destination or ""):
        pending = None
    stored = pending.code if pending is not None else None
    now = context.now()
    if issued + lifetime < now.timestamp() or (
            pending is not None and (pending.created_at is None or pending.created_at
                                     + timedelta(seconds=lifetime) < now)):
        yield attempt.succeeded()
        if stored is not None:
            yield drop(stored)
        raise Gone(EXPIRED)
    if stored is not None and same(code or "", stored):
        yield attempt.succeeded()
        if link:
            updated = yield apply(stored)
        else:
            updated = account if (yield drop(stored)) else None
        if updated is None:
            raise Gone(EXPIRED)
        log.info("{method} code of account {id} used", method=method, id=account.id)
        return updated
    attempt.failed()
    scopes = [hashed(ticket)]
    if stored is not None:
        scopes.append("%d:%s" % (account.id, hashed(stored)))
    left = yield _count_wrong(context, *scopes)
    if stored is not None and min(left) == 0:
        yield drop(stored)
        log.info("{method} code of account {id} void after wrong tries", method=method,
                 id=account.id)
    if left[0] == 0:
        raise Gone(EXPIRED)
    raise WrongCode(left[0])
