"""
Real, in-process counterparts of the services famd's notifiers talk to: an
SMTP server, the OVH SMS API and a ``flexisip_pusher`` executable, plus the
plumbing that lets a test close every connection it opened.
"""

import ipaddress
import json
import os
import stat
import sys
from datetime import datetime, timedelta, timezone
from hashlib import sha1

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import IRealm, Portal
from twisted.internet import defer, protocol, reactor, ssl
from twisted.mail import smtp
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.web import resource, server
from zope.interface import implementer

# ---------------------------------------------------------------- listening


class _TrackedProtocol(ProtocolWrapper):
    def __init__(self, factory, wrapped):
        super().__init__(factory, wrapped)
        self.closed = defer.Deferred()

    def connectionLost(self, reason):
        super().connectionLost(reason)
        self.closed.callback(None)


class _TrackingFactory(WrappingFactory):
    protocol = _TrackedProtocol

    def __init__(self, wrapped):
        super().__init__(wrapped)
        self.all = []

    def buildProtocol(self, addr):
        p = super().buildProtocol(addr)
        if p is not None:
            self.all.append(p)
        return p


def listen(test, factory, tls=None):
    """
    Listen on a free loopback port until the end of C{test}.

    The cleanup stops listening, aborts the connections still open and waits
    until they are closed, so that the reactor is left clean.

    @param tls: server TLS options for a TLS-only listener, or None.
    @return: the port number.
    """
    tracking = _TrackingFactory(factory)
    if tls is None:
        port = reactor.listenTCP(0, tracking, interface="127.0.0.1")
    else:
        port = reactor.listenSSL(0, tracking, tls, interface="127.0.0.1")

    @defer.inlineCallbacks
    def stop():
        yield port.stopListening()
        for p in tracking.all:
            if not p.closed.called:
                p.transport.abortConnection()
        yield defer.gatherResults([p.closed for p in tracking.all])

    test.addCleanup(stop)
    return port.getHost().port


def unused_port():
    """A loopback port on which nothing listens (it was free a moment ago)."""
    port = reactor.listenTCP(0, protocol.ServerFactory(), interface="127.0.0.1")
    number = port.getHost().port
    port.stopListening()
    return number


# ---------------------------------------------------------------- TLS


def self_signed():
    """A new self-signed certificate for localhost and 127.0.0.1: (cert, key) PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "famd test")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_tls(cert_pem, key_pem):
    """Server TLS options presenting that certificate."""
    return ssl.PrivateCertificate.loadPEM(cert_pem + key_pem).options()


# ---------------------------------------------------------------- SMTP


@implementer(smtp.IMessage)
class _Message:
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


# ---------------------------------------------------------------- OVH

SKEW = 3600
"""How far ahead of the reactor's clock the fake OVH's clock runs."""


def _error(request, status, code, message):
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json")
    return json.dumps(
        {"errorCode": code, "httpCode": "%d" % (status,), "message": message}
    ).encode()


class FakeOVH(resource.Resource):
    """
    The two OVH API calls famd makes, checking the signature headers exactly.

    C{jobs} holds the decoded bodies of the accepted SMS jobs; C{time_calls}
    counts the GET /auth/time calls.  Set C{invalid} to report every receiver
    invalid, C{stall} to never answer a job.
    """

    isLeaf = True

    def __init__(self, application_key, application_secret, consumer_key, service):
        super().__init__()
        self.application_key = application_key
        self.application_secret = application_secret
        self.consumer_key = consumer_key
        self.service = service
        self.jobs = []
        self.time_calls = 0
        self.invalid = False
        self.stall = False
        self.origin = None

    def now(self):
        return int(reactor.seconds()) + SKEW

    def render_GET(self, request):
        if request.path != b"/1.0/auth/time":
            return _error(request, 404, "NOT_FOUND", "not found")
        self.time_calls += 1
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(self.now()).encode()

    def render_POST(self, request):
        if request.path != ("/1.0/sms/%s/jobs" % (self.service,)).encode():
            return _error(request, 404, "NOT_FOUND", "This service does not exist")
        body = request.content.read()
        header = lambda name: (request.getHeader(name) or "")  # noqa: E731
        if header("X-Ovh-Application") != self.application_key:
            return _error(
                request, 403, "INVALID_KEY", "This application key is invalid"
            )
        if header("X-Ovh-Consumer") != self.consumer_key:
            return _error(
                request, 403, "INVALID_CREDENTIAL", "This credential is not valid"
            )
        if header("Content-Type") != "application/json":
            return _error(request, 400, "BAD_REQUEST", "Invalid content type")
        timestamp = header("X-Ovh-Timestamp")
        if not timestamp.isdigit() or abs(int(timestamp) - self.now()) > 5:
            return _error(request, 400, "QUERY_TIME_OUT", "Query out of time")
        url = self.origin + request.uri.decode()
        text = "+".join(
            [
                self.application_secret,
                self.consumer_key,
                "POST",
                url,
                body.decode("utf-8"),
                timestamp,
            ]
        )
        if header("X-Ovh-Signature") != "$1$" + sha1(text.encode()).hexdigest():
            return _error(request, 400, "INVALID_SIGNATURE", "Invalid signature")
        job = json.loads(body)
        if self.stall:
            return server.NOT_DONE_YET
        self.jobs.append(job)
        receivers = job["receivers"]
        answer = {
            "totalCreditsRemoved": 0 if self.invalid else len(receivers),
            "invalidReceivers": receivers if self.invalid else [],
            "validReceivers": [] if self.invalid else receivers,
            "ids": [] if self.invalid else [1000 + len(self.jobs)],
            "tag": None,
        }
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(answer).encode()


def serve_ovh(test, fake):
    """Serve C{fake} on loopback for C{test}; return its endpoint URL."""
    port = listen(test, server.Site(fake))
    fake.origin = "http://127.0.0.1:%d" % (port,)
    return fake.origin + "/1.0"


# ---------------------------------------------------------------- pusher

_PUSHER = """#!{python}
import json, os, sys, time
with open({record!r}, "a") as f:
    f.write(json.dumps(sys.argv) + "\\n")
with open({pid!r}, "w") as f:
    f.write(str(os.getpid()))
sys.stdout.write({output!r})
sys.stdout.flush()
if {sleep!r}:
    time.sleep({sleep!r})
sys.exit({status!r})
"""


class FakePusher:
    """
    An executable standing in for ``flexisip_pusher``, written in C{directory}.

    Each run appends its argv to C{record} (one JSON list a line), writes its
    pid to C{pid_file}, prints C{output}, sleeps C{sleep} seconds if set and
    exits with C{status}.
    """

    def __init__(self, directory, status=0, output="", sleep=0):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "flexisip_pusher")
        self.record = os.path.join(directory, "argv.jsonl")
        self.pid_file = os.path.join(directory, "pid")
        with open(self.path, "w") as f:
            f.write(
                _PUSHER.format(
                    python=sys.executable,
                    record=self.record,
                    pid=self.pid_file,
                    output=output,
                    sleep=sleep,
                    status=status,
                )
            )
        os.chmod(self.path, os.stat(self.path).st_mode | stat.S_IXUSR)

    def runs(self):
        """The argv of every run so far."""
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def pushed(self):
        """The (provider, param, prid, payload) of every run so far."""
        result = []
        for argv in self.runs():
            options = dict(zip(argv[1::2], argv[2::2]))
            result.append(
                (
                    options["--pn-provider"],
                    options["--pn-param"],
                    options["--pn-prid"],
                    json.loads(options["--customPayload"]),
                )
            )
        return result
