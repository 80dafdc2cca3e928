"""
The ``log`` e-mail and SMS backends: write what would be sent to the log.

For a developer's machine.  The recipient and the subject are logged; the
body only with ``show_body: true``, because bodies carry activation codes and
links that are secrets.
"""

from twisted.internet.defer import succeed
from twisted.logger import Logger
from zope.interface import implementer

from famd.interfaces import IEmailSender, ISMSSender


@implementer(IEmailSender)
class LogEmailSender:
    """Logs each e-mail instead of sending it."""

    def __init__(self, show_body=False, log=None):
        self._show_body = show_body
        self._log = log if log is not None else Logger(namespace="famd.email")

    def send(self, to, subject, text, html=None):
        if self._show_body:
            self._log.info(
                "e-mail to {to} not sent (log backend): {subject}\n{text}",
                to=to,
                subject=subject,
                text=text,
                html=html,
            )
        else:
            self._log.info(
                "e-mail to {to} not sent (log backend): {subject}",
                to=to,
                subject=subject,
            )
        return succeed(None)


@implementer(ISMSSender)
class LogSMSSender:
    """Logs each SMS instead of sending it."""

    def __init__(self, show_body=False, log=None):
        self._show_body = show_body
        self._log = log if log is not None else Logger(namespace="famd.sms")

    def send(self, phone, text):
        if self._show_body:
            self._log.info(
                "SMS to {phone} not sent (log backend): {text}", phone=phone, text=text
            )
        else:
            self._log.info("SMS to {phone} not sent (log backend)", phone=phone)
        return succeed(None)


def build_email(options, context):
    """The factory of the ``log`` e-mail backend."""
    return LogEmailSender(show_body=options["show_body"])


def build_sms(options, context):
    """The factory of the ``log`` SMS backend."""
    return LogSMSSender(show_body=options["show_body"])
