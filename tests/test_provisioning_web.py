"""
Tests for the /provisioning routes over famd's real storage (every engine),
through famd's site in memory (a real listener only for linphonec, in
L{listen}).
"""

import io
import json
import os
import sqlite3
from datetime import timedelta

from PIL import Image
from pyzbar import pyzbar
from twisted.internet import defer, reactor
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from famd.backends import BackendContext
from famd.config import from_mapping
from famd.model import Password
from famd.provisioning import rcfile
from famd.provisioning.hooks import QueryParamsHook
from famd.provisioning.web import Provisioning, from_config
from famd.logsafe import redact
from famd.web import LOG_ACCESS, make_site
from famd.web import mount
from famd.storage.sqlite import SQLiteStorage
from famd.testing.storage import open_sqlite
from famd.testing.storage_contract import NOW, new
from tests.engines import on_engines, open_storage
from tests.serving import InMemoryClient
from tests.test_provisioning_document import values_of, sections_of

DEFAULTS = rcfile.parse("[sip]\nfamd_default=yes\n[proxy_0]\nreg_expires=60\n")
PUBLIC_URL = "https://acc.example.org"
ALICE_KEY = "alicekey01234"
EXPIRED_KEY = "expiredkey012"


_served = {}
"""The in-memory sites of the running test, by the host of their base URL."""


def serve(test, provisioning):
    """Mount C{provisioning} at /provisioning in memory; return the base URL."""
    host = "provisioning-%d.test" % (len(_served),)
    _served[host] = InMemoryClient({b"provisioning": mount(provisioning).resource()}, access=LOG_ACCESS)
    test.addCleanup(_served.pop, host)
    return "http://" + host


def listen(test, provisioning):
    """Mount C{provisioning} at /provisioning on 127.0.0.1 (for a real client); return the base URL."""
    site = make_site({b"provisioning": mount(provisioning).resource()}, 65536, reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    test.addCleanup(port.stopListening)
    return "http://127.0.0.1:%d" % (port.getHost().port,)


@defer.inlineCallbacks
def get(url, headers=None, method="GET"):
    """GET C{url} from its in-memory site: (status, content type, body)."""
    host = url.split("/")[2]
    raw = {name.encode("ascii"): [value.encode("ascii")] for name, value in (headers or {}).items()}
    code, response_headers, body = yield _served[host].request(method, url, raw)
    content_type = (response_headers.getRawHeaders(b"content-type") or [b""])[0]
    return code, content_type.decode("ascii"), body


@defer.inlineCallbacks
def create_accounts(storage):
    """Alice (clear password, valid key) and Eve (expired key); their ids."""
    alice = yield storage.create_account(
        new(
            "alice",
            confirmation_key=ALICE_KEY,
            passwords=(Password("secret", "CLRTXT"),),
            activation_expires=NOW + timedelta(days=1),
        )
    )
    eve = yield storage.create_account(
        new(
            "eve",
            confirmation_key=EXPIRED_KEY,
            activation_expires=NOW - timedelta(minutes=1),
        )
    )
    return alice, eve


class ProvisioningWebTests(TestCase):
    """The provisioning routes on real storage."""

    @defer.inlineCallbacks
    def setUp(self):
        self.storage = yield open_storage(self)
        self.alice, self.eve = yield create_accounts(self.storage)
        self.url = self.start()

    def start(self, **options):
        """Serve a Provisioning over the test storage; return its base URL."""
        options.setdefault("defaults", DEFAULTS)
        options.setdefault("hooks", [QueryParamsHook(["reg_proxy"])])
        provisioning = Provisioning(self.storage, PUBLIC_URL, clock=lambda: NOW, **options)
        return serve(self, provisioning) + "/provisioning"

    @defer.inlineCallbacks
    def test_defaults_only(self):
        """GET /provisioning (with or without a slash) answers the defaults as application/xml."""
        for url in (self.url, self.url + "/"):
            code, content_type, body = yield get(url)
            self.assertEqual((code, content_type), (200, "application/xml"))
            self.assertTrue(body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<config'))
            self.assertEqual(
                values_of(body), {"sip": {"famd_default": "yes"}, "proxy_0": {"reg_expires": "60"}}
            )

    @defer.inlineCallbacks
    def test_key_provisions_once(self):
        """A valid key adds its account once, then the key is gone and only defaults remain."""
        code, content_type, body = yield get(self.url + "/" + ALICE_KEY)
        self.assertEqual((code, content_type), (200, "application/xml"))
        values = values_of(body)
        self.assertEqual(values["proxy_1"]["reg_identity"], "sip:alice@sip.example.org")
        self.assertEqual(
            {values[s]["algorithm"] for s in ("auth_info_0", "auth_info_1")}, {"MD5", "SHA-256"}
        )
        self.assertNotIn(b"secret", body)
        account = yield self.storage.get_account(self.alice)
        self.assertIsNone(account.confirmation_key)
        code, _, again = yield get(self.url + "/" + ALICE_KEY)
        self.assertEqual(code, 200)
        self.assertEqual([name for name, _ in sections_of(again)], ["sip", "proxy_0"])

    @defer.inlineCallbacks
    def test_unknown_and_expired_keys(self):
        """Unknown and expired keys get the defaults only, and an expired key is left alone."""
        for key in ("unknownkey", EXPIRED_KEY):
            code, _, body = yield get(self.url + "/" + key)
            self.assertEqual(code, 200)
            self.assertEqual([name for name, _ in sections_of(body)], ["sip", "proxy_0"])
        account = yield self.storage.get_account(self.eve)
        self.assertEqual(account.confirmation_key, EXPIRED_KEY)

    @defer.inlineCallbacks
    def test_hook_and_overwrite(self):
        """Configured hooks see the query string and overwrite_all marks every entry."""
        url = self.start(overwrite_all=True)
        _, _, body = yield get(url + "/" + ALICE_KEY + "?reg_proxy=%3Csip%3Ap.example.org%3E")
        sections = dict(sections_of(body))
        self.assertIn(("reg_proxy", "<sip:p.example.org>", "true"), sections["proxy_1"])
        self.assertEqual(
            {o for entries in sections.values() for _, _, o in entries}, {"true"}
        )

    @defer.inlineCallbacks
    def test_qrcode(self):
        """The QR code holds the public provisioning URL and does not consume the key."""
        code, content_type, png = yield get(self.url + "/qrcode/" + ALICE_KEY)
        self.assertEqual((code, content_type), (200, "image/png"))
        symbols = pyzbar.decode(Image.open(io.BytesIO(png)))
        self.assertEqual(
            [s.data.decode("utf-8") for s in symbols],
            [PUBLIC_URL + "/provisioning/" + ALICE_KEY],
        )
        self.assertTrue((yield self.storage.confirmation_key_valid(ALICE_KEY, NOW)))

    @defer.inlineCallbacks
    def test_qrcode_unknown_or_expired(self):
        """An unknown or expired key's QR code is a 404 with a JSON message."""
        for key in ("unknownkey", EXPIRED_KEY):
            code, content_type, body = yield get(self.url + "/qrcode/" + key)
            self.assertEqual((code, content_type), (404, "application/json"))
            self.assertIsInstance(json.loads(body)["message"], str)

    @defer.inlineCallbacks
    def test_logs_linphone_without_key(self):
        """A Linphone app's request is logged as such, and the key never reaches the log, access log included."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        yield get(self.url + "/" + ALICE_KEY, headers={"X-Linphone-Provisioning": "1"})
        texts = [formatEvent(event) for event in events]
        self.assertTrue([t for t in texts if "Linphone app" in t and "account" in t], texts)
        self.assertFalse([t for t in texts + [repr(e) for e in events] if ALICE_KEY in t])
        self.assertTrue([t for t in texts if '"GET /provisioning/***"' in t], texts)

    def test_redact_uri(self):
        """Access logs see the provisioning and QR code paths without their key."""
        self.assertEqual(redact(b"/provisioning/abc?x=1"), b"/provisioning/***")
        self.assertEqual(redact(b"/provisioning/qrcode/abc"), b"/provisioning/qrcode/***")
        self.assertEqual(redact(b"/provisioning"), b"/provisioning")
        self.assertEqual(redact(b"/api/ping"), b"/api/ping")

    @defer.inlineCallbacks
    def test_unknown_route_json(self):
        """Unknown paths and methods answer JSON errors."""
        code, content_type, body = yield get(self.url + "/a/b")
        self.assertEqual((code, content_type), (404, "application/json"))
        self.assertIn("message", json.loads(body))
        code, _, body = yield get(self.url + "/" + ALICE_KEY, method="POST")
        self.assertEqual(code, 405)
        self.assertIn("message", json.loads(body))
        self.assertTrue((yield self.storage.confirmation_key_valid(ALICE_KEY, NOW)))


class UnavailableStorageTests(TestCase):
    """A busy database makes the provisioning routes answer 503."""

    @defer.inlineCallbacks
    def test_busy_database(self):
        """When SQLite stays locked, provisioning with a key answers 503 with a JSON message."""
        first = yield open_sqlite(self)
        yield create_accounts(first)
        storage = SQLiteStorage(first.path, reactor, busy_timeout=0.05)
        yield storage.open()
        self.addCleanup(storage.close)
        lock = sqlite3.connect(first.path, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        self.addCleanup(lock.close)
        self.addCleanup(lock.execute, "ROLLBACK")
        url = serve(self, Provisioning(storage, PUBLIC_URL, clock=lambda: NOW))
        code, content_type, body = yield get(url + "/provisioning/" + ALICE_KEY)
        self.assertEqual((code, content_type), (503, "application/json"))
        self.assertIn("message", json.loads(body))


class FromConfigTests(TestCase):
    """famd.yaml's provisioning section configures the routes."""

    @defer.inlineCallbacks
    def test_yaml_keys(self):
        """rc_file (relative to the config folder), realm, overwrite_all and hooks all take effect."""
        folder = self.mktemp()
        os.makedirs(folder)
        with open(os.path.join(folder, "linphonerc"), "w") as rc:
            rc.write("[sip]\nfamd_default=from file\n")
        config = from_mapping(
            {
                "sip_domain": "sip.example.org",
                "public_url": PUBLIC_URL,
                "realm": "Example",
                "provisioning": {
                    "rc_file": "linphonerc",
                    "overwrite_all": True,
                    "hooks": [{"backend": "query-params", "params": ["reg_proxy"]}],
                },
            },
            folder,
        )
        storage = yield open_sqlite(self)
        yield create_accounts(storage)
        context = BackendContext(reactor, config)
        hooks = [hook.build(context) for hook in config.provisioning_hooks]
        url = serve(self, from_config(config, storage, hooks, clock=lambda: NOW))
        _, _, body = yield get(url + "/provisioning/" + ALICE_KEY + "?reg_proxy=p")
        sections = dict(sections_of(body))
        self.assertEqual(sections["sip"], [("famd_default", "from file", "true")])
        self.assertIn(("reg_proxy", "p", "true"), sections["proxy_0"])
        self.assertIn(("realm", "Example", "true"), sections["auth_info_0"])

    def test_missing_rc_file(self):
        """A missing rc file stops start-up with an error naming it."""
        folder = self.mktemp()
        os.makedirs(folder)
        config = from_mapping(
            {"sip_domain": "sip.example.org", "provisioning": {"rc_file": "nope.rc"}}, folder
        )
        error = self.assertRaises(rcfile.RcFileError, from_config, config, None, [])
        self.assertIn("nope.rc", str(error))


globals().update(on_engines(ProvisioningWebTests))
