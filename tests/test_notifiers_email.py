"""
Tests for the e-mail backends (``log``, ``smtp``, ``none``) and the message
templates, against a real in-process SMTP server.
"""

import base64
import email
import os
from email import policy
from types import SimpleNamespace

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.logger import Logger, formatEvent
from twisted.trial import unittest

from famd import backends
from famd.interfaces import DeliveryFailed
from famd.notifiers import templates
from famd.notifiers.log import LogEmailSender
from famd.options import parse
from famd.testing.certificates import self_signed, server_tls
from famd.testing.loopback import listen, unused_port
from famd.testing.notifier_contracts import EmailSenderContract
from famd.testing.smtp_server import RecordingDelivery, SilentFactory, SMTPServerFactory


def context(base_dir="."):
    """A backend context on the real reactor."""
    config = SimpleNamespace(
        app_name="famd",
        public_url="https://famd.example.org",
        sip_domain="sip.example.org",
        base_dir=base_dir,
    )
    return backends.BackendContext(reactor=reactor, config=config)


def build(name, raw, base_dir="."):
    """Check C{raw} against the backend's options and build it."""
    backend = backends.find("email", name)
    options, errors = parse(
        raw, backend.options, "email", base_dir, ignore=("backend",)
    )
    if errors:
        raise AssertionError(errors)
    return backend.build(options, context(base_dir))


def received(raw):
    """A raw message as an EmailMessage."""
    return email.message_from_bytes(raw, policy=policy.default)


# ---------------------------------------------------------------- templates


class TemplateTests(unittest.TestCase):
    """templates.render with the packaged and replaced files."""

    def test_activation(self):
        """The packaged activation template fills every variable, text and HTML."""
        subject, text, html = templates.render(
            "activation",
            {
                "app_name": "Acme",
                "link": "https://x/a?b=1&c=2",
                "code": "1234",
                "username": "alice",
            },
        )
        self.assertEqual(subject, "Acme: activate your account")
        self.assertIn("Hello alice,", text)
        self.assertIn("https://x/a?b=1&c=2", text)
        self.assertIn("1234", text)
        self.assertNotIn("$", text + subject)
        self.assertIn('href="https://x/a?b=1&amp;c=2"', html)

    def test_email_change(self):
        """The packaged email_change template names the new address, the link and the 2.x code."""
        subject, text, html = templates.render(
            "email_change",
            {
                "app_name": "Acme",
                "public_url": "https://acme",
                "link": "https://l",
                "code": "4821",
                "new_email": "new@example.org",
            },
        )
        self.assertIn("Acme", subject)
        self.assertIn("new@example.org", text)
        self.assertIn("https://l", text)
        self.assertIn("\n4821\n", text)
        self.assertIn("new@example.org", html)
        self.assertIn("4821", html)

    def test_html_escaped(self):
        """Variables are HTML-escaped in the HTML body only."""
        variables = {
            "app_name": "<b>A&B</b>",
            "public_url": "u",
            "link": "l",
            "code": "1234",
            "new_email": "x@y",
        }
        subject, text, html = templates.render("email_change", variables)
        self.assertIn("<b>A&B</b>", text)
        self.assertIn("&lt;b&gt;A&amp;B&lt;/b&gt;", html)
        self.assertNotIn("<b>A&B</b>", html)

    def test_subject_one_line(self):
        """Line breaks in variables cannot add header lines to the subject."""
        subject, _, _ = templates.render(
            "activation",
            {"app_name": "A\r\nBcc: evil@x", "link": "l", "code": "c", "username": "u"},
        )
        self.assertNotIn("\n", subject)
        self.assertNotIn("\r", subject)

    def test_missing_variable(self):
        """A variable the template uses but nobody gave is a TemplateError naming it."""
        error = self.assertRaises(
            templates.TemplateError, templates.render, "activation", {"app_name": "A"}
        )
        self.assertIn("$", str(error))

    def test_unknown(self):
        """An unknown or path-like template name is a TemplateError."""
        self.assertRaises(templates.TemplateError, templates.render, "nope", {})
        self.assertRaises(templates.TemplateError, templates.render, "../x", {})

    def test_template_dir_replaces_whole_template(self):
        """A template_dir holding <name>.txt replaces that template, HTML included."""
        folder = self.mktemp()
        os.makedirs(folder)
        with open(os.path.join(folder, "activation.txt"), "w") as f:
            f.write("Code for $username: $code, $$5\n")
        with open(os.path.join(folder, "activation.subject.txt"), "w") as f:
            f.write("Welcome to $app_name\n")
        subject, text, html = templates.render(
            "activation",
            {"app_name": "A", "link": "l", "code": "42", "username": "bob"},
            template_dir=folder,
        )
        self.assertEqual(
            (subject, text, html), ("Welcome to A", "Code for bob: 42, $5", None)
        )

    def test_template_dir_falls_back(self):
        """A template_dir without that template leaves the packaged one in use."""
        folder = self.mktemp()
        os.makedirs(folder)
        subject, _, html = templates.render(
            "activation",
            {"app_name": "A", "link": "l", "code": "c", "username": "u"},
            template_dir=folder,
        )
        self.assertEqual(subject, "A: activate your account")
        self.assertIsNotNone(html)


# ---------------------------------------------------------------- log


class LogEmailContractTests(EmailSenderContract, unittest.TestCase):
    """The log e-mail backend against the IEmailSender contract."""

    def setUp(self):
        self.events = []

    def make_sender(self):
        return LogEmailSender(log=Logger(observer=self.events.append))

    def recipients(self):
        return [event["to"] for event in self.events]


class LogEmailTests(unittest.TestCase):
    """What the log e-mail backend writes."""

    def send(self, show_body):
        events = []
        sender = LogEmailSender(show_body, log=Logger(observer=events.append))
        sender.send("alice@example.org", "Activate", "code 98765", html="<p>98765</p>")
        self.assertEqual(len(events), 1)
        return events[0]

    def test_no_body_by_default(self):
        """Recipient and subject are logged; the body, which holds the code, is not."""
        event = self.send(show_body=False)
        line = formatEvent(event)
        self.assertIn("alice@example.org", line)
        self.assertIn("Activate", line)
        self.assertNotIn("98765", line)
        self.assertNotIn("98765", repr(event))

    def test_show_body(self):
        """With show_body the text body is logged too."""
        self.assertIn("code 98765", formatEvent(self.send(show_body=True)))

    def test_plugin(self):
        """The log backend is found by name and its show_body defaults to false."""
        sender = build("log", {})
        self.assertIsInstance(sender, LogEmailSender)
        self.assertFalse(sender._show_body)


# ---------------------------------------------------------------- smtp


class SMTPContractTests(EmailSenderContract, unittest.TestCase):
    """The smtp backend (no TLS) against the IEmailSender contract."""

    def setUp(self):
        self.delivery = RecordingDelivery()
        self.port = listen(self, SMTPServerFactory(self.delivery))

    def make_sender(self):
        return build(
            "smtp",
            {
                "host": "127.0.0.1",
                "port": self.port,
                "from": "famd@example.org",
                "tls": "none",
            },
        )

    def recipients(self):
        return [recipient for _, recipient, _ in self.delivery.messages]


class SMTPTests(unittest.TestCase):
    """The smtp backend against a real SMTP server: content, TLS, login, failures."""

    def setUp(self):
        self.delivery = RecordingDelivery(refuse={"nobody@example.org"})

    def serve(self, **kwargs):
        return listen(self, SMTPServerFactory(self.delivery, **kwargs))

    def sender(self, port, **options):
        raw = {
            "host": "127.0.0.1",
            "port": port,
            "from": "Acme <noreply@acme.test>",
            "tls": "none",
        }
        raw.update(options)
        return build("smtp", raw, base_dir=self.base_dir)

    @property
    def base_dir(self):
        if not hasattr(self, "_base_dir"):
            self._base_dir = os.path.abspath(self.mktemp())
            os.makedirs(self._base_dir)
        return self._base_dir

    def trusted_cert(self):
        """A certificate and the ca_file (relative to base_dir) that trusts it."""
        cert, key = self_signed()
        with open(os.path.join(self.base_dir, "ca.pem"), "wb") as f:
            f.write(cert)
        return server_tls(cert, key), "ca.pem"

    @inlineCallbacks
    def test_message(self):
        """The relay receives a parseable message with every header and the body."""
        sender = self.sender(self.serve())
        yield sender.send("alice@example.org", "Activate your account", "Code: 1234")
        [(mail_from, recipient, raw)] = self.delivery.messages
        self.assertEqual(
            (mail_from, recipient), ("noreply@acme.test", "alice@example.org")
        )
        message = received(raw)
        self.assertEqual(message["From"], "Acme <noreply@acme.test>")
        self.assertEqual(message["To"], "alice@example.org")
        self.assertEqual(message["Subject"], "Activate your account")
        self.assertIsNotNone(message["Date"].datetime)
        self.assertTrue(message["Message-ID"].endswith("@acme.test>"))
        self.assertEqual(message.get_content_type(), "text/plain")
        self.assertEqual(message.get_content().strip(), "Code: 1234")

    @inlineCallbacks
    def test_html_alternative(self):
        """With HTML the message is multipart/alternative holding both bodies."""
        sender = self.sender(self.serve())
        yield sender.send(
            "alice@example.org", "Hi", "plain body", html="<p>html body</p>"
        )
        message = received(self.delivery.messages[0][2])
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        self.assertEqual(
            message.get_body(("plain",)).get_content().strip(), "plain body"
        )
        self.assertEqual(
            message.get_body(("html",)).get_content().strip(), "<p>html body</p>"
        )

    @inlineCallbacks
    def test_non_ascii(self):
        """Non-ASCII subject and body arrive intact, encoded for a 7-bit relay."""
        sender = self.sender(self.serve())
        yield sender.send(
            "alice@example.org", "Bienvenue, Zoë ✓", "Voilà ton code\n.\n"
        )
        raw = self.delivery.messages[0][2]
        raw.decode("ascii")
        message = received(raw)
        self.assertEqual(message["Subject"], "Bienvenue, Zoë ✓")
        self.assertEqual(message.get_content(), "Voilà ton code\n.\n")

    @inlineCallbacks
    def test_starttls(self):
        """With tls: starttls the message goes through a verified STARTTLS session."""
        tls, ca_file = self.trusted_cert()
        sender = self.sender(self.serve(starttls=tls), tls="starttls", ca_file=ca_file)
        yield sender.send("alice@example.org", "Hi", "over TLS")
        self.assertEqual(len(self.delivery.messages), 1)

    @inlineCallbacks
    def test_starttls_untrusted(self):
        """A relay whose certificate is not trusted gets nothing."""
        cert, key = self_signed()
        sender = self.sender(self.serve(starttls=server_tls(cert, key)), tls="starttls")
        error = yield self.assertFailure(
            sender.send("alice@example.org", "Hi", "x"), DeliveryFailed
        )
        self.assertIn("certificate verify failed", str(error))
        self.assertEqual(self.delivery.messages, [])

    @inlineCallbacks
    def test_starttls_not_offered(self):
        """With tls: starttls, a relay that does not offer STARTTLS gets nothing."""
        sender = self.sender(self.serve(), tls="starttls")
        error = yield self.assertFailure(
            sender.send("alice@example.org", "Hi", "x"), DeliveryFailed
        )
        self.assertIn("TLS", str(error))
        self.assertEqual(self.delivery.messages, [])

    @inlineCallbacks
    def test_implicit_tls(self):
        """With tls: implicit the connection is TLS from the first byte."""
        tls, ca_file = self.trusted_cert()
        port = listen(self, SMTPServerFactory(self.delivery), tls=tls)
        sender = self.sender(port, tls="implicit", ca_file=ca_file)
        yield sender.send("alice@example.org", "Hi", "over SMTPS")
        self.assertEqual(len(self.delivery.messages), 1)

    @inlineCallbacks
    def test_login(self):
        """A relay that requires a login accepts the configured one after STARTTLS."""
        tls, ca_file = self.trusted_cert()
        port = self.serve(starttls=tls, users={b"famd": b"s3cr3t-pw"})
        sender = self.sender(
            port, tls="starttls", ca_file=ca_file, username="famd", password="s3cr3t-pw"
        )
        yield sender.send("alice@example.org", "Hi", "logged in")
        self.assertEqual(len(self.delivery.messages), 1)

    @inlineCallbacks
    def test_wrong_password_not_shown(self):
        """A refused login fails without the password, plain or base64, shown."""
        port = self.serve(users={b"famd": b"right"})
        password = "Wr0ng-s3cret"
        sender = self.sender(port, username="famd", password=password)
        error = yield self.assertFailure(
            sender.send("alice@example.org", "Hi", "x"), DeliveryFailed
        )
        text = str(error)
        self.assertIn("535", text)
        self.assertNotIn(password, text)
        self.assertNotIn(base64.b64encode(password.encode()).decode(), text)
        self.assertEqual(self.delivery.messages, [])

    @inlineCallbacks
    def test_login_required(self):
        """Without a login, a relay that requires one refuses the message."""
        sender = self.sender(self.serve(users={b"famd": b"pw"}))
        yield self.assertFailure(
            sender.send("alice@example.org", "Hi", "x"), DeliveryFailed
        )

    @inlineCallbacks
    def test_connection_refused(self):
        """Nothing listening is a DeliveryFailed naming the relay."""
        port = unused_port()
        sender = self.sender(port)
        error = yield self.assertFailure(
            sender.send("alice@example.org", "Hi", "x"), DeliveryFailed
        )
        self.assertIn("127.0.0.1:%d" % (port,), str(error))

    @inlineCallbacks
    def test_recipient_refused(self):
        """A 5xx answer to the recipient is a DeliveryFailed carrying that answer."""
        sender = self.sender(self.serve())
        error = yield self.assertFailure(
            sender.send("nobody@example.org", "Hi", "x"), DeliveryFailed
        )
        self.assertIn("550", str(error))
        self.assertEqual(self.delivery.messages, [])

    @inlineCallbacks
    def test_timeout(self):
        """A relay that never answers is a DeliveryFailed after the timeout."""
        port = listen(self, SilentFactory())
        sender = self.sender(port, timeout=0.2)
        error = yield self.assertFailure(
            sender.send("alice@example.org", "Hi", "x"), DeliveryFailed
        )
        self.assertIn("0.2 seconds", str(error))

    @inlineCallbacks
    def test_header_injection(self):
        """A recipient holding a line break is refused before any connection."""
        sender = self.sender(unused_port())
        yield self.assertFailure(
            sender.send("alice@example.org\r\nBcc: evil@example.org", "Hi", "x"),
            DeliveryFailed,
        )

    def test_defaults(self):
        """Only from is required; the relay defaults to localhost:25 with STARTTLS."""
        backend = backends.find("email", "smtp")
        options, errors = parse({}, backend.options, "email", ".", ignore=("backend",))
        self.assertEqual(errors, ["email.from: required"])
        options, errors = parse({"from": "a@b"}, backend.options, "email", ".")
        self.assertEqual(errors, [])
        self.assertEqual(
            (
                options["host"],
                options["port"],
                options["tls"],
                options["username"],
                options["password"],
                options["ca_file"],
                options["timeout"],
            ),
            ("localhost", 25, "starttls", None, None, None, 30.0),
        )

    def test_bad_from(self):
        """A from that holds no address is a configuration error."""
        backend = backends.find("email", "smtp")
        _, errors = parse({"from": "famd"}, backend.options, "email", ".")
        self.assertEqual(errors, ["email.from: must be an e-mail address"])

    def test_username_without_password(self):
        """A username without a password is refused when the backend is built."""
        error = self.assertRaises(ValueError, self.sender, 25, username="famd")
        self.assertTrue(str(error).startswith("email.username"))

    def test_bad_ca_file(self):
        """A ca_file that is missing or holds no certificate is refused at build."""
        with open(os.path.join(self.base_dir, "empty.pem"), "w") as f:
            f.write("nothing\n")
        for name in ("missing.pem", "empty.pem"):
            error = self.assertRaises(
                ValueError, self.sender, 25, tls="starttls", ca_file=name
            )
            self.assertTrue(str(error).startswith("email.ca_file: "))


class DisabledEmailTests(unittest.TestCase):
    """The none e-mail backend."""

    def test_none(self):
        """The none backend builds no provider, so the API answers 503."""
        self.assertIsNone(build("none", {}))
