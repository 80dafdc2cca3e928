"""
Proof with a real client: Debian's linphonec (liblinphone 5.1) fetches the
provisioning document over loopback and keeps what famd meant it to keep.
"""

import hashlib
import os
from datetime import datetime, timezone

from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site

from famd.model import Account, Password
from famd.provisioning import ProvisioningRequest, document, rcfile
from famd.provisioning.web import Provisioning
from famd.testing import linphone
from famd.testing.storage import open_sqlite
from famd.testing.storage_contract import NOW, new
from tests.test_provisioning_web import ALICE_KEY, PUBLIC_URL, create_accounts
from tests.test_provisioning_web import listen as serve_provisioning

if linphone.executable() is None and os.environ.get("FAMD_TEST_REQUIRE_SERVICES") != "1":
    SKIP = "linphonec (Debian package linphone-cli) is not installed"
else:
    SKIP = None

DEFAULTS = rcfile.parse(
    "[sip]\nfamd_escaped=a & <b> \"c\"\nfamd_value=served\n[app]\nfamd_app=1\n"
)

ALICE = Account(
    id=1,
    username="alice",
    domain="sip.example.org",
    email=None,
    activated=False,
    confirmation_key="alicekey",
    ip_address="127.0.0.1",
    user_agent="test",
    creation_time=datetime(2026, 1, 1, tzinfo=timezone.utc),
    passwords=(Password("s3cret pass", "CLRTXT"),),
)


class Fixed(Resource):
    """Serves the same XML body to every GET and records the paths asked."""

    isLeaf = True

    def __init__(self, body):
        super().__init__()
        self.body = body
        self.paths = []

    def render_GET(self, request):
        self.paths.append(request.path)
        request.setHeader(b"Content-Type", document.CONTENT_TYPE)
        return self.body


def serve(test, resource):
    """Listen on 127.0.0.1 with C{resource}; return the base URL."""
    site = Site(resource)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    test.addCleanup(port.stopListening)
    return "http://127.0.0.1:%d" % (port.getHost().port,)


def ha1(function, text):
    """The hex digest of C{text}."""
    return function(text.encode("utf-8")).hexdigest()


class BuilderTests(TestCase):
    """linphonec applies the builder's document."""

    skip = SKIP

    def run_linphone(self, body, local=()):
        """Serve C{body} and provision a fresh linphonec from it."""
        resource = Fixed(body)
        url = serve(self, resource) + "/provisioning/alicekey"
        d = linphone.provision(reactor, url, self.mktemp(), local=local)
        d.addCallback(lambda run: (run, resource.paths))
        return d

    def build(self, account, overwrite_all=False):
        """The document for C{account} over the test defaults."""
        return document.build(
            DEFAULTS, account, None, overwrite_all, (), ProvisioningRequest()
        )

    def test_account_and_defaults(self):
        """linphonec creates the account with both HA1s and keeps the defaults, unescaped."""
        d = self.run_linphone(self.build(ALICE))

        def check(result):
            run, paths = result
            self.assertEqual(paths, [b"/provisioning/alicekey"])
            self.assertEqual(run.identities, ("sip:alice@sip.example.org",))
            self.assertEqual(run.section("sip")["famd_escaped"], 'a & <b> "c"')
            self.assertEqual(run.section("app")["famd_app"], "1")
            self.assertEqual(
                run.section("proxy_0")["reg_identity"], "sip:alice@sip.example.org"
            )
            auth = {run.section(s)["algorithm"]: run.section(s) for s in ("auth_info_0", "auth_info_1")}
            self.assertEqual(
                auth["MD5"]["ha1"], ha1(hashlib.md5, "alice:sip.example.org:s3cret pass")
            )
            self.assertEqual(
                auth["SHA-256"]["ha1"],
                ha1(hashlib.sha256, "alice:sip.example.org:s3cret pass"),
            )
            for entries in auth.values():
                self.assertEqual(entries["username"], "alice")
                self.assertEqual(entries["domain"], "sip.example.org")
                self.assertEqual(entries["realm"], "sip.example.org")
            self.assertNotIn("s3cret", str(run.sections))

        return d.addCallback(check)

    def test_defaults_only(self):
        """A document without an account creates no account."""
        d = self.run_linphone(self.build(None))

        def check(result):
            run, _ = result
            self.assertEqual(run.identities, ())
            self.assertEqual(run.section("sip")["famd_value"], "served")

        return d.addCallback(check)

    def test_local_value_kept(self):
        """Without overwrite a value the device already has is kept."""
        local = [("sip", [("famd_value", "local")])]
        d = self.run_linphone(self.build(None), local)
        d.addCallback(lambda result: self.assertEqual(result[0].section("sip")["famd_value"], "local"))
        return d

    def test_overwrite_all(self):
        """With overwrite_all the served value replaces the device's."""
        local = [("sip", [("famd_value", "local")])]
        d = self.run_linphone(self.build(None, overwrite_all=True), local)
        d.addCallback(lambda result: self.assertEqual(result[0].section("sip")["famd_value"], "served"))
        return d


class Silent(Resource):
    """Accepts every GET and never answers."""

    isLeaf = True

    def render_GET(self, request):
        return NOT_DONE_YET


class HelperTests(TestCase):
    """The linphonec helper never leaves a process behind."""

    skip = SKIP

    def test_timeout_kills(self):
        """A linphonec that does not finish in time is killed and the run fails saying so."""
        url = serve(self, Silent()) + "/provisioning/k"
        d = linphone.provision(reactor, url, self.mktemp(), timeout=2)
        d = self.assertFailure(d, linphone.LinphoneFailed)
        d.addCallback(lambda error: self.assertIn("timed out", str(error)))
        return d


class WebTests(TestCase):
    """linphonec provisions itself from famd's /provisioning routes on real storage."""

    skip = SKIP

    @defer.inlineCallbacks
    def test_provisioned_once(self):
        """The first linphonec gets the account, the key is consumed, a second one gets no account."""
        storage = yield open_sqlite(self)
        alice, _ = yield create_accounts(storage)
        provisioning = Provisioning(storage, PUBLIC_URL, defaults=DEFAULTS, clock=lambda: NOW)
        url = serve_provisioning(self, provisioning) + "/provisioning/" + ALICE_KEY
        first = yield linphone.provision(reactor, url, self.mktemp())
        self.assertEqual(first.identities, ("sip:alice@sip.example.org",))
        hashes = {
            first.section(s)["algorithm"]: first.section(s)["ha1"]
            for s in ("auth_info_0", "auth_info_1")
        }
        self.assertEqual(
            hashes,
            {
                "MD5": ha1(hashlib.md5, "alice:sip.example.org:secret"),
                "SHA-256": ha1(hashlib.sha256, "alice:sip.example.org:secret"),
            },
        )
        self.assertEqual(first.section("sip")["famd_escaped"], 'a & <b> "c"')
        self.assertIsNone((yield storage.get_account(alice)).confirmation_key)
        second = yield linphone.provision(reactor, url, self.mktemp())
        self.assertEqual(second.identities, ())
        self.assertEqual(second.section("app")["famd_app"], "1")

    @defer.inlineCallbacks
    def test_provisioning_token(self):
        """linphonec loads the account from a FAM 2.x provisioning token, which is then consumed and the account activated."""
        storage = yield open_sqlite(self)
        account_id = yield storage.create_account(new(
            "tokenuser", passwords=(Password("t0ken pass", "CLRTXT"),), provisioning_token="linphonetok01"))
        provisioning = Provisioning(storage, PUBLIC_URL, defaults=DEFAULTS, clock=lambda: NOW)
        url = serve_provisioning(self, provisioning) + "/provisioning/linphonetok01"
        run = yield linphone.provision(reactor, url, self.mktemp())
        self.assertEqual(run.identities, ("sip:tokenuser@sip.example.org",))
        hashes = {run.section(s)["algorithm"]: run.section(s)["ha1"] for s in ("auth_info_0", "auth_info_1")}
        self.assertEqual(hashes["SHA-256"], ha1(hashlib.sha256, "tokenuser:sip.example.org:t0ken pass"))
        self.assertEqual(run.section("app")["famd_app"], "1")
        self.assertTrue((yield storage.get_account(account_id)).activated)
        self.assertIsNone((yield storage.current_provisioning_token(account_id)))
