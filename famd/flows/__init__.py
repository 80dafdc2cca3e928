"""
The self-service rules, once, above storage and below HTTP: account-creation
tokens sent by push, activation by code, e-mail, phone and password changes.

Each flow takes a L{Context} (config, storage, clock, the notifiers) and
either returns its result or raises one of the L{Refused} exceptions below
(or L{famd.ratelimit.TooManyAttempts}); the API turns those into statuses.
Nothing here knows HTTP or SQL.  Secrets (codes, tokens, link secrets,
passwords) are compared in constant time and never logged.
"""

from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.interfaces import DeliveryFailed
from famd.ratelimit import CodeAttempts

log = Logger(namespace="famd.flows")


class Refused(Exception):
    """A flow said no; C{message} is safe to show to the client."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotFound(Refused):
    """No such account, pending change or code."""


class Forbidden(Refused):
    """The request is understood and refused (expired, wrong code, limit)."""


class Unavailable(Refused):
    """The notifier the flow needs is turned off or failed to deliver."""


class Invalid(Refused):
    """The input breaks a rule; C{errors} maps each field to its messages."""

    def __init__(self, errors):
        super().__init__("The given data was invalid.")
        self.errors = errors


@dataclass(frozen=True)
class Context:
    """
    What the flows work with.  A notifier left None means its feature is
    turned off (the ``none`` backend).
    """

    config: Any
    storage: Any
    now: Any
    email: Any = None
    sms: Any = None
    push: Any = None

    def attempts(self):
        """The failed-code limiter of this deployment."""
        return CodeAttempts.from_config(self.config, self.storage, self.now)


@inlineCallbacks
def send_or_withdraw(change, message, account, send, withdraw, not_sent):
    """
    Send the C{message} of a pending C{change} of C{account} (both names
    for the log): C{send()} fires once the notifier accepted it.  When it
    is not accepted, C{withdraw()} removes the pending change, so that
    nothing stays pending, and the flow fails with L{Unavailable}(C{not_sent}).
    """
    try:
        yield send()
    except DeliveryFailed as failure:
        log.warn(
            "{change} of account {id}: {what} not sent: {reason}",
            change=change, what=message, id=account.id, reason=str(failure),
        )
        yield withdraw()
        raise Unavailable(not_sent) from None
    log.info("{change} of account {id} requested", change=change, id=account.id)
