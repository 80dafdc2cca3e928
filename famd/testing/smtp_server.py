"""
A real, in-process ESMTP server for e-mail sender tests: it records every
message it accepts, can refuse chosen recipients, offer STARTTLS and require
AUTH LOGIN; plus a server that accepts connections and never answers.
"""

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import IRealm, Portal
from twisted.internet import defer, protocol
from twisted.mail import smtp
from zope.interface import implementer


@implementer(smtp.IMessage)
class _Message:
    """One message being received, handed to its delivery when complete."""

    def __init__(self, delivery, mail_from, recipient):
        self.delivery = delivery
        self.mail_from = mail_from
        self.recipient = recipient
        self.lines = []

    def lineReceived(self, line):
        self.lines.append(line)

    def eomReceived(self):
        self.delivery.messages.append(
            (self.mail_from, self.recipient, b"\n".join(self.lines) + b"\n")
        )
        return defer.succeed(None)

    def connectionLost(self):
        self.lines = []


@implementer(smtp.IMessageDelivery)
class RecordingDelivery:
    """
    Accepts mail and keeps it: C{messages} is a list of (envelope sender,
    recipient, raw message bytes).  Recipients in C{refuse} get a 550.
    """

    def __init__(self, refuse=()):
        self.messages = []
        self.refuse = set(refuse)
        self._from = None

    def receivedHeader(self, helo, origin, recipients):
        return None

    def validateFrom(self, helo, origin):
        self._from = str(origin)
        return origin

    def validateTo(self, user):
        address = str(user.dest)
        if address in self.refuse:
            raise smtp.SMTPBadRcpt(user)
        mail_from = self._from
        return lambda: _Message(self, mail_from, address)


@implementer(IRealm)
class _Realm:
    """Gives every authenticated user the same recording delivery."""

    def __init__(self, delivery):
        self.delivery = delivery

    def requestAvatar(self, avatarId, mind, *interfaces):
        return smtp.IMessageDelivery, self.delivery, lambda: None


class SMTPServerFactory(protocol.ServerFactory):
    """
    An ESMTP server delivering to a L{RecordingDelivery}.

    @param starttls: server TLS options to offer STARTTLS with, or None.
    @param users: a dict of username to password (bytes); when given, mail is
        accepted only after AUTH LOGIN.
    """

    def __init__(self, delivery, starttls=None, users=None):
        self.delivery = delivery
        self.starttls = starttls
        self.portal = None
        if users is not None:
            checker = InMemoryUsernamePasswordDatabaseDontUse(
                **{name.decode(): password for name, password in users.items()}
            )
            self.portal = Portal(_Realm(delivery), [checker])

    def buildProtocol(self, addr):
        challengers = {b"LOGIN": smtp.LOGINCredentials} if self.portal else {}
        p = smtp.ESMTP(challengers, self.starttls)
        p.factory = self
        p.host = b"smtp.test"
        p.portal = self.portal
        if self.portal is None:
            p.delivery = self.delivery
        return p


class SilentFactory(protocol.ServerFactory):
    """Accepts connections and never says a word."""

    protocol = protocol.Protocol
