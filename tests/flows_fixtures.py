"""
The real notifier backends of the flow tests, each talking to an in-process
fake of L{famd.testing}: an SMTP server, the OVH SMS API and a
``flexisip_pusher`` executable; and reading what they carried (links, codes,
log lines).  L{tests.serving.serve} serves famd with them.
"""

import email
import re
from email import policy

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web.client import Agent, HTTPConnectionPool

from famd.notifiers.ovh import OVHSMSSender
from famd.notifiers.pusher import FlexisipPusher
from famd.notifiers.smtp import SMTPEmailSender
from famd.testing.loopback import listen, unused_port
from famd.testing.ovh_api import FakeOVH, serve_ovh
from famd.testing.pusher import FakePusher
from famd.testing.smtp_server import RecordingDelivery, SMTPServerFactory

OVH_KEYS = dict(
    application_key="7kbG7Bk7S9Nt7ZSV",
    application_secret="EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
    consumer_key="MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
)
OVH_SERVICE = "sms-ab12345-1"
_LINK = re.compile(r"(http://\S+/api/accounts/me/email/confirm/(\S+))")


# ---------------------------------------------------------------- e-mail


def smtp_server(test_case):
    """An SMTP server for the test: (its L{RecordingDelivery}, an smtp sender to it)."""
    delivery = RecordingDelivery()
    port = listen(test_case, SMTPServerFactory(delivery))
    return delivery, SMTPEmailSender(reactor, "127.0.0.1", port, "famd@example.org",
                                     tls="none", timeout=10.0)


def smtp_down():
    """An smtp sender to a port where nothing listens."""
    return SMTPEmailSender(reactor, "127.0.0.1", unused_port(), "famd@example.org",
                           tls="none", timeout=10.0)


def mailed_link(raw):
    """(link, secret) in the plain-text part of a raw message."""
    message = email.message_from_bytes(raw, policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return _LINK.search(text).groups()


# ---------------------------------------------------------------- SMS


def ovh_server(test_case, **keys):
    """A FakeOVH for the test and an ovh sender to it: (fake, sender)."""
    fake = FakeOVH(OVH_KEYS["application_key"], OVH_KEYS["application_secret"],
                   OVH_KEYS["consumer_key"], OVH_SERVICE)
    endpoint = serve_ovh(test_case, fake)
    pool = HTTPConnectionPool(reactor)
    test_case.addCleanup(pool.closeCachedConnections)
    arguments = dict(OVH_KEYS, service_name=OVH_SERVICE, sender="Acme",
                     endpoint=endpoint, timeout=10.0)
    arguments.update(keys)
    return fake, OVHSMSSender(HTTPClient(Agent(reactor, pool=pool)), reactor, **arguments)


def sms_code(job):
    """The 4-digit code in an OVH job's message."""
    return re.search(r"\b([0-9]{4})\b", job["message"]).group(1)


# ---------------------------------------------------------------- push


def pusher(test_case, status=0, output=""):
    """A fake flexisip_pusher and a flexisip-pusher sender running it: (fake, sender)."""
    fake = FakePusher(test_case.mktemp(), status=status, output=output)
    return fake, FlexisipPusher(reactor, fake.path, timeout=20.0)


# ---------------------------------------------------------------- logs


def captured_logs(test_case):
    """Every log line emitted until the end of C{test_case}, formatted, in a list."""
    lines = []

    def observer(event):
        line = formatEvent(event)
        if "log_failure" in event:
            line += "\n" + event["log_failure"].getTraceback()
        lines.append(line)

    globalLogPublisher.addObserver(observer)
    test_case.addCleanup(globalLogPublisher.removeObserver, observer)
    return lines
