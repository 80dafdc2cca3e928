"""
The whole chain an operator sets up: the installed daemon, an account created
by an admin through the API, and Debian's linphonec provisioned from the URL
the QR code holds.
"""

import io
import json
import os

import treq
from PIL import Image
from pyzbar import pyzbar
from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from famd.credentials import ha1
from famd.testing import linphone
from famd.testing.daemon import run_famd, start_daemon

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
public_url: "http://127.0.0.1:{port}"
sip_domain: sip.example.org
storage: {backend: sqlite, path: famd.sqlite}
provisioning:
  rc_file: linphonerc
"""

RC_FILE = "[sip]\nfamd_operator_default=from-rc-file\n"

if linphone.executable() is None and os.environ.get("FAMD_TEST_REQUIRE_SERVICES") != "1":
    SKIP = "linphonec (Debian package linphone-cli) is not installed"
else:
    SKIP = None


class DaemonProvisioningTests(TestCase):
    """linphonec provisioned by the running famd."""

    skip = SKIP

    @defer.inlineCallbacks
    def setUp(self):
        self.daemon = yield start_daemon(self, CONFIG, before=lambda folder: self.write_rc(folder))
        out, err, code = yield run_famd(self.daemon.config_path, "create-admin", "operator",
                                        "--password", "admin-pass")
        self.assertEqual(code, 0, err)
        self.key = out.decode().splitlines()[-1]

    def write_rc(self, folder):
        with open(os.path.join(folder, "linphonerc"), "w") as f:
            f.write(RC_FILE)

    @defer.inlineCallbacks
    def create_account(self):
        response = yield treq.post(
            self.daemon.url + "/api/accounts",
            json.dumps({"username": "linphoneuser", "password": "phone-pass", "algorithm": "SHA-256"}).encode(),
            headers={"From": "sip:operator@sip.example.org", "x-api-key": self.key,
                     "Content-Type": "application/json", "Accept": "application/json"},
            persistent=False)
        body = json.loads((yield response.content()))
        self.assertEqual(response.code, 200, body)
        return body["confirmation_key"]

    @defer.inlineCallbacks
    def test_qr_code_url_provisions_linphone(self):
        """linphonec pointed at the QR code's URL registers the account's identity with its SHA-256 HA1."""
        key = yield self.create_account()
        response = yield treq.get(self.daemon.url + "/provisioning/qrcode/" + key, persistent=False)
        png = yield response.content()
        (symbol,) = pyzbar.decode(Image.open(io.BytesIO(png)))
        url = symbol.data.decode()
        self.assertEqual(url, self.daemon.url + "/provisioning/" + key)
        run = yield linphone.provision(reactor, url, self.mktemp())
        self.assertEqual(run.identities, ("sip:linphoneuser@sip.example.org",))
        self.assertEqual(run.section("sip")["famd_operator_default"], "from-rc-file")
        auth = run.section("auth_info_0")
        self.assertEqual(
            (auth["username"], auth["domain"], auth["realm"], auth["algorithm"], auth["ha1"]),
            ("linphoneuser", "sip.example.org", "sip.example.org", "SHA-256",
             ha1("linphoneuser", "sip.example.org", "phone-pass", "SHA-256")))
        # The key was consumed: a second device gets the defaults only.
        second = yield linphone.provision(reactor, url, self.mktemp())
        self.assertEqual(second.identities, ())
        self.assertEqual(second.section("sip")["famd_operator_default"], "from-rc-file")
