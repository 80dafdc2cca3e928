"""
Tests for the push backends (``flexisip-pusher``, ``none``), running a real
executable that stands in for ``flexisip_pusher`` and records its arguments.
"""

import json
import os
from types import SimpleNamespace

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from famd import backends
from famd.interfaces import DeliveryFailed
from famd.notifiers.pusher import FlexisipPusher
from famd.options import parse
from famd.testing.notifier_contracts import PushSenderContract
from famd.testing.pusher import FakePusher

PAYLOAD = {"token": "Zr0jX2Y9q8", "expires": 1700000000}


def build(name, raw, base_dir="."):
    """Check C{raw} against the backend's options and build it."""
    backend = backends.find("push", name)
    options, errors = parse(raw, backend.options, "push", base_dir, ignore=("backend",))
    if errors:
        raise AssertionError(errors)
    config = SimpleNamespace(
        app_name="famd", public_url="http://x", sip_domain="sip.x", base_dir=base_dir
    )
    return backend.build(options, backends.BackendContext(reactor, config))


class PusherContractTests(PushSenderContract, unittest.TestCase):
    """The flexisip-pusher backend against the IPushSender contract."""

    def setUp(self):
        self.fake = FakePusher(self.mktemp())

    def make_sender(self):
        return build("flexisip-pusher", {"path": self.fake.path})

    def pushed(self):
        return self.fake.pushed()


class PusherTests(unittest.TestCase):
    """How the flexisip-pusher backend runs the program and reads its outcome."""

    def setUp(self):
        self.folder = os.path.abspath(self.mktemp())

    def sender(self, fake, **options):
        raw = {"path": fake.path}
        raw.update(options)
        return build("flexisip-pusher", raw, base_dir=self.folder)

    @inlineCallbacks
    def test_argument_vector(self):
        """FCM: provider, param, prid, payload, then --key, --prefix, extra_args."""
        fake = FakePusher(self.folder)
        sender = self.sender(
            fake, key="fcm-server-key", prefix="certs", extra_args=["--debug", "x y"]
        )
        yield sender.send("fcm", "proj-1", "tok:en-1", PAYLOAD)
        self.assertEqual(
            fake.runs(),
            [
                [
                    fake.path,
                    "--pn-provider",
                    "fcm",
                    "--pn-param",
                    "proj-1",
                    "--pn-prid",
                    "tok:en-1",
                    "--customPayload",
                    json.dumps(PAYLOAD),
                    "--key",
                    "fcm-server-key",
                    "--prefix",
                    os.path.join(self.folder, "certs"),
                    "--debug",
                    "x y",
                ]
            ],
        )

    @inlineCallbacks
    def test_apns_background(self):
        """An apns or apns.dev push asks for the Background push type; fcm does not."""
        fake = FakePusher(self.folder)
        sender = self.sender(fake)
        yield sender.send("apns.dev", "TEAM.org.app.voip", "abcd", PAYLOAD)
        yield sender.send("apns", "TEAM.org.app", "abcd", PAYLOAD)
        yield sender.send("fcm", "proj", "abcd", PAYLOAD)
        runs = fake.runs()
        for argv in runs[:2]:
            self.assertEqual(argv[-2:], ["--apple-push-type", "Background"])
        self.assertNotIn("--apple-push-type", runs[2])

    @inlineCallbacks
    def test_no_shell(self):
        """Shell metacharacters in the token reach the program intact, run nothing."""
        fake = FakePusher(self.folder)
        marker = os.path.join(self.folder, "pwned")
        prid = "$(touch %s); rm -rf nothing `touch %s` | touch %s &" % (
            marker,
            marker,
            marker,
        )
        yield self.sender(fake).send(
            "fcm", "p'; touch %s; '" % (marker,), prid, PAYLOAD
        )
        argv = fake.runs()[0]
        self.assertEqual(argv[argv.index("--pn-prid") + 1], prid)
        self.assertFalse(os.path.exists(marker))

    @inlineCallbacks
    def test_exit_status(self):
        """A non-zero exit status is a DeliveryFailed naming it."""
        fake = FakePusher(self.folder, status=1)
        error = yield self.assertFailure(
            self.sender(fake).send("fcm", "p", "t", PAYLOAD), DeliveryFailed
        )
        self.assertIn("status 1", str(error))

    @inlineCallbacks
    def test_failure_count(self):
        """Exit 0 with a failure count in the summary line is a DeliveryFailed."""
        fake = FakePusher(
            self.folder,
            output="1 push notification(s) sent, 0 successfully and 1 failed.\n",
        )
        error = yield self.assertFailure(
            self.sender(fake).send("fcm", "p", "t", PAYLOAD), DeliveryFailed
        )
        self.assertIn("1 of 1 failed", str(error))

    @inlineCallbacks
    def test_success_count(self):
        """Exit 0 with no failure in the summary line is a success."""
        fake = FakePusher(
            self.folder,
            output="1 push notification(s) sent, 1 successfully and 0 failed.\n",
        )
        result = yield self.sender(fake).send("fcm", "p", "t", PAYLOAD)
        self.assertIsNone(result)

    @inlineCallbacks
    def test_timeout(self):
        """A program still running at the timeout is killed and the push fails."""
        fake = FakePusher(self.folder, sleep=60)
        sender = self.sender(fake, timeout=1)
        error = yield self.assertFailure(
            sender.send("fcm", "p", "t", PAYLOAD), DeliveryFailed
        )
        self.assertIn("killed after 1 seconds", str(error))
        with open(fake.pid_file) as f:
            pid = int(f.read())
        self.assertRaises(ProcessLookupError, os.kill, pid, 0)

    @inlineCallbacks
    def test_missing_program(self):
        """A path where no program is is a DeliveryFailed."""
        sender = FlexisipPusher(reactor, os.path.join(self.folder, "nothing-here"))
        yield self.assertFailure(sender.send("fcm", "p", "t", PAYLOAD), DeliveryFailed)

    @inlineCallbacks
    def test_secrets_not_logged(self):
        """Neither the token, the payload nor the FCM key reaches the log."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        fake = FakePusher(self.folder, status=3)
        sender = self.sender(fake, key="SecretFcmKey")
        yield self.assertFailure(
            sender.send("fcm", "p", "DeviceToken123", PAYLOAD), DeliveryFailed
        )
        fake = FakePusher(os.path.join(self.folder, "ok"))
        yield self.sender(fake, key="SecretFcmKey").send(
            "fcm", "p", "DeviceToken123", PAYLOAD
        )
        logged = repr(events)
        for secret in ("DeviceToken123", "Zr0jX2Y9q8", "SecretFcmKey"):
            self.assertNotIn(secret, logged)
        self.assertIn("fcm", logged)

    def test_options(self):
        """path is required; the rest defaults to no key, no prefix, no extras, 30 s, 4 at once, 5 s wait."""
        backend = backends.find("push", "flexisip-pusher")
        _, errors = parse({}, backend.options, "push", "/etc/famd", ignore=("backend",))
        self.assertEqual(errors, ["push.path: required"])
        options, errors = parse(
            {"path": "bin/pusher"}, backend.options, "push", "/etc/famd"
        )
        self.assertEqual(errors, [])
        self.assertEqual(
            options,
            {
                "path": "/etc/famd/bin/pusher",
                "key": None,
                "prefix": None,
                "extra_args": [],
                "timeout": 30.0,
                "max_concurrent": 4,
                "queue_timeout": 5.0,
            },
        )
        _, errors = parse(
            {"path": "p", "extra_args": ["a", 1]}, backend.options, "push", "."
        )
        self.assertEqual(errors, ["push.extra_args: must be a list of strings"])


class DisabledPushTests(unittest.TestCase):
    """The none push backend."""

    def test_none(self):
        """The none backend builds no provider, so the API answers 503."""
        self.assertIsNone(build("none", {}))
