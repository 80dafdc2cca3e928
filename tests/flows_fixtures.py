"""
The self-service flows served for end-to-end tests: the real /api resource
tree on a loopback port over the test's storage engine (seeded as in
fam-2021-transcripts.md), a Clock-driven "now", and real notifier backends
talking to the in-process fakes of L{tests.notifier_fakes}: an SMTP server,
the OVH SMS API and a ``flexisip_pusher`` executable.
"""

import email
import re
from email import policy

from treq.client import HTTPClient
from twisted.internet import defer, reactor, task
from twisted.logger import formatEvent, globalLogPublisher
from twisted.web.client import Agent, HTTPConnectionPool

from famd.api import Api
from famd.clock import reactor_clock
from famd.notifiers.ovh import OVHSMSSender
from famd.notifiers.pusher import FlexisipPusher
from famd.notifiers.smtp import SMTPEmailSender
from famd.testing.loopback import listen, unused_port
from famd.testing.ovh_api import FakeOVH, serve_ovh
from famd.testing.pusher import FakePusher
from famd.testing.smtp_server import RecordingDelivery, SMTPServerFactory
from famd.web import make_site
from tests.api_helpers import NOW, Served, make_config, open_served_storage

OVH_KEYS = dict(
    application_key="7kbG7Bk7S9Nt7ZSV",
    application_secret="EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF",
    consumer_key="MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1",
)
OVH_SERVICE = "sms-ab12345-1"
_LINK = re.compile(r"(http://\S+/api/accounts/me/email/confirm/(\S+))")


class FlowsServed(Served):
    """A running API with its Clock (drives "now") and its notifier fakes."""

    clock = None


def clock_at(moment=NOW):
    """A Clock whose time is C{moment}, for L{famd.clock.reactor_clock}."""
    clock = task.Clock()
    clock.advance(moment.timestamp())
    return clock


@defer.inlineCallbacks
def serve_flows(test_case, email=None, sms=None, push=None, beside=None, clock=None, **settings):
    """
    Serve a seeded API with these notifiers (None: the feature is off).
    Pass C{beside} (a L{Served}) to serve a second API (another famd
    process) on its database.
    """
    config = make_config(**settings)
    storage = yield open_served_storage(test_case, config, beside)
    clock = clock or clock_at()
    now = reactor_clock(clock)
    api = Api(config=config, storage=storage, now=now, reactor=reactor,
              email=email, sms=sms, push=push)
    site = make_site({b"api": api.resource()}, config.max_body_size)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    test_case.addCleanup(port.stopListening)
    served = FlowsServed("http://127.0.0.1:%d/api" % (port.getHost().port,),
                         config, storage, now, api)
    served.clock = clock
    return served


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
