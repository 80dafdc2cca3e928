"""
The providers that carry famd's messages out: e-mail (L{IEmailSender}), SMS
(L{ISMSSender}) and push notifications (L{IPushSender}).

Each module here is one backend, built by its C{build(options, context)}
factory and declared in L{famd.plugins.notifier_backends}.  L{templates}
renders the texts famd sends from files an operator can replace.

@see: L{famd.interfaces}
"""
