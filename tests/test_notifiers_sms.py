"""
Tests for the SMS backends (``log``, ``ovh``, ``none``), the OVH one against a
real in-process web server that checks OVH's request signature.
"""

from types import SimpleNamespace

from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger, formatEvent
from twisted.trial import unittest
from twisted.web.client import Agent, HTTPConnectionPool
from zope.interface.verify import verifyObject

from famd import backends
from famd.interfaces import DeliveryFailed, ISMSSender
from famd.notifiers import templates
from famd.notifiers.log import LogSMSSender
from famd.notifiers.ovh import OVHSMSSender, coding
from famd.options import parse
from famd.testing.loopback import unused_port
from famd.testing.notifier_contracts import SMSSenderContract
from famd.testing.ovh_api import FakeOVH, serve_ovh

APPLICATION_KEY = "7kbG7Bk7S9Nt7ZSV"
APPLICATION_SECRET = "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF"
CONSUMER_KEY = "MtSwSrPpNjqfVSmJhLbPyr2i45lSwPU1"
SERVICE = "sms-ab12345-1"
SECRETS = (APPLICATION_SECRET, CONSUMER_KEY)


def build(name, raw):
    """Check C{raw} against the backend's options and build it."""
    backend = backends.find("sms", name)
    options, errors = parse(raw, backend.options, "sms", ".", ignore=("backend",))
    if errors:
        raise AssertionError(errors)
    config = SimpleNamespace(
        app_name="famd", public_url="http://x", sip_domain="sip.x", base_dir="."
    )
    return backend.build(options, backends.BackendContext(reactor, config))


class OVHFixture:
    """A FakeOVH served on loopback and a real treq client closed after the test."""

    def setUp(self):
        self.ovh = FakeOVH(APPLICATION_KEY, APPLICATION_SECRET, CONSUMER_KEY, SERVICE)
        self.endpoint = serve_ovh(self, self.ovh)
        pool = HTTPConnectionPool(reactor)
        self.addCleanup(pool.closeCachedConnections)
        self.client = HTTPClient(Agent(reactor, pool=pool))

    def ovh_sender(self, **kwargs):
        arguments = dict(
            application_key=APPLICATION_KEY,
            application_secret=APPLICATION_SECRET,
            consumer_key=CONSUMER_KEY,
            service_name=SERVICE,
            sender="Acme",
            endpoint=self.endpoint,
            timeout=5.0,
        )
        arguments.update(kwargs)
        return OVHSMSSender(self.client, reactor, **arguments)


# ---------------------------------------------------------------- template


class SMSTemplateTests(unittest.TestCase):
    """The packaged SMS template."""

    def test_sms_phone_code(self):
        """sms_phone_code is one text line with the code and no subject or HTML."""
        self.assertEqual(
            templates.render("sms_phone_code", {"app_name": "Acme", "code": "1234"}),
            (None, "Acme: your code is 1234", None),
        )


# ---------------------------------------------------------------- log


class LogSMSContractTests(SMSSenderContract, unittest.TestCase):
    """The log SMS backend against the ISMSSender contract."""

    def setUp(self):
        self.events = []

    def make_sender(self):
        return LogSMSSender(log=Logger(observer=self.events.append))

    def recipients(self):
        return [event["phone"] for event in self.events]


class LogSMSTests(unittest.TestCase):
    """What the log SMS backend writes."""

    def send(self, show_body):
        events = []
        sender = LogSMSSender(show_body, log=Logger(observer=events.append))
        sender.send("+33612345678", "Your code is 98765")
        self.assertEqual(len(events), 1)
        return events[0]

    def test_no_body_by_default(self):
        """The number is logged; the text, which holds the code, is not."""
        event = self.send(show_body=False)
        self.assertIn("+33612345678", formatEvent(event))
        self.assertNotIn("98765", repr(event))

    def test_show_body(self):
        """With show_body the text is logged too."""
        self.assertIn("98765", formatEvent(self.send(show_body=True)))

    def test_plugin(self):
        """The log backend is found by name and hides bodies unless asked."""
        sender = build("log", {})
        self.assertIsInstance(sender, LogSMSSender)
        self.assertFalse(sender._show_body)


# ---------------------------------------------------------------- ovh


class OVHContractTests(OVHFixture, SMSSenderContract, unittest.TestCase):
    """The ovh backend against the ISMSSender contract."""

    def make_sender(self):
        return self.ovh_sender()

    def recipients(self):
        return [phone for job in self.ovh.jobs for phone in job["receivers"]]


class OVHTests(OVHFixture, unittest.TestCase):
    """The ovh backend against a fake OVH API that checks every signature."""

    @inlineCallbacks
    def test_job(self):
        """The job carries the text, receiver and sender the way OVH documents them."""
        yield self.ovh_sender().send("+33612345678", "Acme: your code is 1234")
        self.assertEqual(
            self.ovh.jobs,
            [
                {
                    "charset": "UTF-8",
                    "coding": "7bit",
                    "message": "Acme: your code is 1234",
                    "noStopClause": True,
                    "priority": "high",
                    "receivers": ["+33612345678"],
                    "sender": "Acme",
                    "senderForResponse": False,
                }
            ],
        )

    @inlineCallbacks
    def test_unicode(self):
        """A text outside GSM 03.38 is sent with 8bit (Unicode) coding, intact."""
        yield self.ovh_sender().send("+33612345678", "Code ✓ 1234")
        self.assertEqual(self.ovh.jobs[0]["coding"], "8bit")
        self.assertEqual(self.ovh.jobs[0]["message"], "Code ✓ 1234")

    def test_coding(self):
        """GSM 03.38 letters, accents and the euro sign stay 7bit; others are 8bit."""
        self.assertEqual(coding("Été à 5€ [ok] {é}"), "7bit")
        self.assertEqual(coding("ç ĉ"), "8bit")

    @inlineCallbacks
    def test_without_sender(self):
        """With no sender configured, OVH is asked to send from a number."""
        yield self.ovh_sender(sender=None).send("+33612345678", "hi")
        self.assertNotIn("sender", self.ovh.jobs[0])
        self.assertTrue(self.ovh.jobs[0]["senderForResponse"])

    @inlineCallbacks
    def test_time_asked_once(self):
        """OVH's clock (an hour ahead here) is read once and reused as an offset."""
        sender = self.ovh_sender()
        yield sender.send("+33612345678", "one")
        yield sender.send("+33612345678", "two")
        self.assertEqual(len(self.ovh.jobs), 2)
        self.assertEqual(self.ovh.time_calls, 1)

    @inlineCallbacks
    def test_bad_credential(self):
        """A 403 carries OVH's status and message, never the keys."""
        sender = self.ovh_sender(consumer_key="WrongConsumerKey12345")
        error = yield self.assertFailure(
            sender.send("+33612345678", "x"), DeliveryFailed
        )
        text = str(error)
        self.assertIn("403", text)
        self.assertIn("This credential is not valid", text)
        for secret in SECRETS + ("WrongConsumerKey12345",):
            self.assertNotIn(secret, text)
        self.assertEqual(self.ovh.jobs, [])

    @inlineCallbacks
    def test_bad_signature(self):
        """A request signed with the wrong secret is refused without showing it."""
        sender = self.ovh_sender(application_secret="NotTheSecret0000")
        error = yield self.assertFailure(
            sender.send("+33612345678", "x"), DeliveryFailed
        )
        self.assertIn("Invalid signature", str(error))
        self.assertNotIn("NotTheSecret0000", str(error))

    @inlineCallbacks
    def test_unknown_service(self):
        """A wrong service name is a DeliveryFailed with OVH's 404 message."""
        sender = self.ovh_sender(service_name="sms-zz99999-1")
        error = yield self.assertFailure(
            sender.send("+33612345678", "x"), DeliveryFailed
        )
        self.assertIn("404", str(error))

    @inlineCallbacks
    def test_invalid_receiver(self):
        """A job whose receiver OVH lists as invalid is a DeliveryFailed."""
        self.ovh.invalid = True
        error = yield self.assertFailure(
            self.ovh_sender().send("+999", "x"), DeliveryFailed
        )
        self.assertIn("receiver", str(error))

    @inlineCallbacks
    def test_server_down(self):
        """An API nobody answers at is a DeliveryFailed naming the endpoint."""
        endpoint = "http://127.0.0.1:%d/1.0" % (unused_port(),)
        sender = self.ovh_sender(endpoint=endpoint)
        error = yield self.assertFailure(
            sender.send("+33612345678", "x"), DeliveryFailed
        )
        self.assertIn(endpoint, str(error))
        for secret in SECRETS:
            self.assertNotIn(secret, str(error))

    @inlineCallbacks
    def test_timeout(self):
        """An API that never answers the job is a DeliveryFailed after the timeout."""
        self.ovh.stall = True
        sender = self.ovh_sender(timeout=0.3)
        error = yield self.assertFailure(
            sender.send("+33612345678", "x"), DeliveryFailed
        )
        self.assertIn("0.3 seconds", str(error))

    def test_plugin(self):
        """The ovh backend builds an ISMSSender on treq, for the EU API by default."""
        sender = build(
            "ovh",
            {
                "application_key": "a",
                "application_secret": "b",
                "consumer_key": "c",
                "service_name": SERVICE,
            },
        )
        self.assertTrue(verifyObject(ISMSSender, sender))
        self.assertEqual(sender._endpoint, "https://eu.api.ovh.com/1.0")
        self.assertIsInstance(sender._client, HTTPClient)

    def test_required_options(self):
        """The keys and the service name are required."""
        backend = backends.find("sms", "ovh")
        _, errors = parse({}, backend.options, "sms", ".", ignore=("backend",))
        self.assertEqual(
            sorted(errors),
            [
                "sms.application_key: required",
                "sms.application_secret: required",
                "sms.consumer_key: required",
                "sms.service_name: required",
            ],
        )


class DisabledSMSTests(unittest.TestCase):
    """The none SMS backend."""

    def test_none(self):
        """The none backend builds no provider, so the API answers 503."""
        self.assertIsNone(build("none", {}))
