"""
The self-service rules, once, above storage and below HTTP: account-creation
tokens sent by push, activation by code, e-mail, phone and password changes.

Each flow takes the deployment's L{Context} (config, storage, clock, the
notifiers, the message templates, the limits of L{famd.throttle}), built once at
start-up, and either returns its result or raises a refusal of
L{famd.errors}.  Nothing here knows HTTP or SQL.  Secrets (codes, tokens,
link secrets, passwords) are compared in constant time and never logged.
"""

from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger

from famd.errors import Unavailable
from famd.interfaces import DeliveryFailed
from famd.metrics.recorder import NO_RECORDER
from famd.notifiers.templates import Templates
from famd.throttle import Throttle

log = Logger(namespace="famd.flows")


@dataclass(frozen=True)
class Context:
    """
    What the flows work with.  A notifier left None means its feature is
    turned off (the ``none`` backend).

    @ivar templates: the L{famd.notifiers.templates.Templates} of the
        messages sent.
    @ivar throttle: the L{Throttle} counting wrong codes and messages sent.
    @ivar metrics: the L{famd.metrics.recorder} counting the sign-up funnel.
    """

    config: Any
    storage: Any
    now: Any
    templates: Any
    throttle: Any
    email: Any = None
    sms: Any = None
    push: Any = None
    metrics: Any = NO_RECORDER

    @classmethod
    def from_config(cls, config, storage, now, email=None, sms=None, push=None, throttle=None,
                    metrics=NO_RECORDER):
        """
        The context C{config} describes; reads the message templates
        (blocking: call at start-up).

        @raise famd.notifiers.templates.TemplateError: a template is missing
            or unreadable.
        """
        return cls(
            config=config,
            storage=storage,
            now=now,
            templates=Templates(config.templates),
            throttle=throttle or Throttle.from_config(config, storage, now),
            email=email,
            sms=sms,
            push=push,
            metrics=metrics,
        )


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


@inlineCallbacks
def mail_then_store(context, change, account, to, template, values, store, not_sent):
    """
    The e-mail step of a flow that mails a new secret (a link, a code, a
    provisioning token): render C{template} with C{values}, send it to
    C{to}, and only once the message was accepted, C{store()} the secret.
    A message not accepted stores nothing (no pending change, and an
    account's working secret is not replaced) and the flow fails with
    L{Unavailable}(C{not_sent}).  Send first, store next: a crash between
    the two at worst mails a dead link, never leaves a secret nobody got.

    @param change: what is asked, for the log (the secret is never logged).
    @return: a Deferred firing with the result of C{store()}.
    """
    if context.email is None:
        raise Unavailable(not_sent)
    subject, text, html = context.templates.render(template, values)
    try:
        yield context.email.send(to, subject, text, html)
    except DeliveryFailed as failure:
        log.warn("{change} of account {id}: e-mail not sent: {reason}",
                 change=change, id=account.id, reason=str(failure))
        raise Unavailable(not_sent) from None
    stored = yield store()
    log.info("{change} of account {id}: e-mail sent", change=change, id=account.id)
    return stored
