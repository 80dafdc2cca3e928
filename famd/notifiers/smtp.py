"""
The ``smtp`` e-mail backend: hand each message to an SMTP relay with
L{twisted.mail.smtp}, never a blocking C{smtplib}.

C{tls} chooses how the connection is protected:

    - C{starttls} (the default): the relay must offer STARTTLS and present a
      certificate valid for C{host} (system CAs, or C{ca_file}); otherwise
      nothing is sent.
    - C{implicit}: TLS from the first byte (SMTPS, usually port 465).
    - C{none}: plain text, for a relay on the same machine; a login (if any)
      then crosses the connection readable.

Failures become L{DeliveryFailed} whose message names the relay and what it
answered, never the password (the SMTP exchange log, which holds the AUTH
lines, is never used).
"""

from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from io import BytesIO

from OpenSSL import SSL, crypto
from twisted.internet import defer, ssl
from twisted.logger import Logger
from twisted.mail import smtp
from zope.interface import implementer

from famd.interfaces import DeliveryFailed, DeliveryTimedOut, IEmailSender

_POLICY = policy.default.clone(cte_type="7bit")
"""Header and body encoding safe for any relay; C{\\n} line ends, which
L{twisted.mail.smtp} turns into CRLF itself."""


def envelope_address(text):
    """
    The bare ASCII address of C{text} (``a@b`` or ``Name <a@b>``), as bytes.

    @raise ValueError: it is not one address.
    """
    address = parseaddr(text)[1]
    if "@" not in address or any(c.isspace() for c in address):
        raise ValueError("%r is not an e-mail address" % (text,))
    try:
        return address.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("%r is not an ASCII e-mail address" % (text,)) from None


def build_message(sender, to, subject, text, html, when):
    """
    The RFC 5322 message, plain text or multipart/alternative with HTML.

    @param when: seconds since the epoch, for the Date header.
    @return: bytes with C{\\n} line ends.
    @raise ValueError: a header value is unusable (e.g. holds a line break).
    """
    message = EmailMessage(policy=_POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(when, usegmt=True)
    domain = envelope_address(sender).decode("ascii").rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


def load_trust_root(ca_file):
    """The trust root of the PEM certificates in C{ca_file} (read now)."""
    with open(ca_file, "rb") as f:
        pem = f.read()
    marker = b"-----END CERTIFICATE-----"
    blocks = [block + marker for block in pem.split(marker) if b"-----BEGIN" in block]
    if not blocks:
        raise ValueError("%s holds no PEM certificate" % (ca_file,))
    return ssl.trustRootFromCertificates(
        [ssl.Certificate.loadPEM(block) for block in blocks]
    )


class _SenderFactory(smtp.ESMTPSenderFactory):
    """An L{smtp.ESMTPSenderFactory} that also reports when it is done."""

    noisy = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.closed = defer.Deferred()

    def clientConnectionFailed(self, connector, reason):
        super().clientConnectionFailed(connector, reason)
        self._done()

    def clientConnectionLost(self, connector, reason):
        super().clientConnectionLost(connector, reason)
        self._done()

    def _done(self):
        if not self.closed.called:
            self.closed.callback(None)


def _abort(factory, connector):
    """Give up on a session: no result will be reported but the timeout."""
    factory.sendFinished = True
    if connector.state == "connected":
        connector.transport.abortConnection()
    else:
        connector.stopConnecting()


@implementer(IEmailSender)
class SMTPEmailSender:
    """
    Sends each message over its own connection to one relay.

    @param trust_root: what verifies the relay's certificate (None: the
        platform's CAs); see L{twisted.internet.ssl.optionsForClientTLS}.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        host,
        port,
        sender,
        username=None,
        password=None,
        tls="starttls",
        timeout=30.0,
        trust_root=None,
    ):
        if tls not in ("none", "starttls", "implicit"):
            raise ValueError("tls must be none, starttls or implicit")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self._reactor = reactor
        self._host = host
        self._port = port
        self._sender = sender
        self._envelope_from = envelope_address(sender)
        self._username = None if username is None else username.encode("utf-8")
        self._password = password
        self._tls = tls
        self._timeout = timeout
        self._tls_options = None
        if tls != "none":
            self._tls_options = ssl.optionsForClientTLS(host, trustRoot=trust_root)

    def send(self, to, subject, text, html=None):
        try:
            recipient = envelope_address(to)
            message = build_message(
                self._sender, to, subject, text, html, self._reactor.seconds()
            )
        except ValueError as e:
            return defer.fail(DeliveryFailed("e-mail not sent: %s" % (e,)))
        d = self._transfer(recipient, message)
        d.addCallbacks(self._sent, self._failed, callbackArgs=(to,), errbackArgs=(to,))
        return d

    def _transfer(self, recipient, message):
        """
        Run one SMTP session.

        @return: a Deferred firing once the connection is closed, with the
            outcome of the exchange, or L{defer.TimeoutError} when C{timeout}
            ran out first (the connection is then aborted).
        """
        outcome = []
        exchange = defer.Deferred()
        exchange.addBoth(outcome.append)
        authenticate = self._username is not None
        factory = _SenderFactory(
            self._username,
            None if self._password is None else self._password.encode("utf-8"),
            self._envelope_from,
            [recipient],
            BytesIO(message),
            exchange,
            retries=0,
            timeout=None,
            contextFactory=self._tls_options if self._tls == "starttls" else None,
            heloFallback=not authenticate and self._tls == "none",
            requireAuthentication=authenticate,
            requireTransportSecurity=self._tls == "starttls",
        )
        if self._tls == "implicit":
            connector = self._reactor.connectSSL(
                self._host, self._port, factory, self._tls_options, self._timeout + 1
            )
        else:
            connector = self._reactor.connectTCP(
                self._host, self._port, factory, self._timeout + 1
            )
        # One deadline for the whole session (the connect timeout is longer).
        timer = self._reactor.callLater(self._timeout, _abort, factory, connector)

        def closed(_):
            if timer.active():
                timer.cancel()
            if outcome:
                return outcome[0]
            raise defer.TimeoutError()

        return factory.closed.addCallback(closed)

    def _sent(self, result, to):
        self.log.info(
            "e-mail to {to} accepted by {host}:{port}",
            to=to,
            host=self._host,
            port=self._port,
        )

    def _failed(self, failure, to):
        relay = "%s:%d" % (self._host, self._port)
        reason = failure.value
        if failure.check(defer.TimeoutError):
            why = "no answer from %s within %g seconds" % (relay, self._timeout)
        elif failure.check(smtp.SMTPDeliveryError) and reason.addresses:
            refused = [a for a in reason.addresses if a[1] not in smtp.SUCCESS]
            code, resp = (
                (refused[0][1], refused[0][2])
                if refused
                else (
                    reason.code,
                    reason.resp,
                )
            )
            why = "%s refused it: %s" % (relay, _answer(code, resp))
        elif failure.check(smtp.SMTPConnectError) and reason.code < 0:
            cause = reason.__cause__
            if isinstance(cause, SSL.Error):
                why = "TLS with %s failed: %s" % (relay, _tls_reasons(cause))
            else:
                why = "cannot connect to %s: %s" % (
                    relay,
                    _short(str(cause) if cause is not None else _text(reason.resp)),
                )
        elif failure.check(
            smtp.TLSRequiredError, smtp.AUTHRequiredError, smtp.EHLORequiredError
        ):
            why = "%s: %s" % (relay, _answer(-1, reason.resp))
        elif failure.check(smtp.SMTPClientError):
            why = "%s answered %s" % (relay, _answer(reason.code, reason.resp))
        else:
            why = "%s: %s" % (relay, _short(failure.getErrorMessage()))
        if self._password:
            why = why.replace(self._password, "***")
        timed_out = failure.check(defer.TimeoutError)
        raise (DeliveryTimedOut if timed_out else DeliveryFailed)(
            "e-mail to %s not sent: %s" % (to, why))


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _short(text, limit=200):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tls_reasons(error):
    """The reasons of an OpenSSL error, e.g. 'certificate verify failed'."""
    try:
        reasons = [entry[-1] for entry in error.args[0] if entry[-1]]
    except (IndexError, TypeError):
        reasons = []
    return _short(", ".join(reasons) or str(error))


def _answer(code, resp):
    """An SMTP reply as text: code and server message, without the log."""
    resp = _short(_text(resp))
    return "%03d %s" % (code, resp) if code and code > 0 else resp


def build(options, context):
    """
    The factory of the ``smtp`` e-mail backend.

    @raise ValueError: the options do not fit together or C{ca_file} is
        unusable; the message starts with the dotted key.
    """
    if (options["username"] is None) != (options["password"] is None):
        raise ValueError("email.username, email.password: give both or neither")
    trust_root = None
    if options["ca_file"] is not None:
        try:
            trust_root = load_trust_root(options["ca_file"])
        except (OSError, ValueError, crypto.Error) as e:
            raise ValueError("email.ca_file: %s" % (e,)) from None
    return SMTPEmailSender(
        context.reactor,
        options["host"],
        options["port"],
        options["from"],
        username=options["username"],
        password=options["password"],
        tls=options["tls"],
        timeout=options["timeout"],
        trust_root=trust_root,
    )
