"""
One spelling per route at the HTTP edge (issue 13, points 9 and 13): a path
with an empty segment or an escaped slash is a JSON 404, never a 500, a
redirect or another route; secrets are masked in log lines as the routes
read the path; client values are escaped in log lines; and a SIP address or
name padded with whitespace or control characters is no account, on every
engine.
"""


from twisted.internet import defer
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest

from famd.errors import ODD_TEXT
from famd.logsafe import printable, redact, routed
from famd.service import build_resources
from tests.api_helpers import ADMIN_KEY, USER
from tests.engines import on_engines
from tests.serving import InMemoryClient, serve

NO_ROUTE = {"message": "No such endpoint."}
NO_ACCOUNT = {"message": "No query results for model [App\\Account]."}
SECRET = "SECRETKEY0123"


class DoubledSlashTests(unittest.TestCase):
    """Paths the routes would read as another path are 404 at the edge, and their secrets never logged."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        self.key = carol.confirmation_key
        self.lines = []
        self.served.client = InMemoryClient(
            build_resources(self.served.config, self.served.components), access=self.lines.append)

    def get(self, path):
        return self.served.json("GET", path, base="", key=ADMIN_KEY, sip=USER)

    @defer.inlineCallbacks
    def test_empty_segments_and_escaped_slashes_are_404(self):
        """Doubled slashes anywhere (the 500s of issue 13) and %2F are the JSON 404 of an unknown path."""
        for path in (
            "/api/accounts//me/email/confirm/" + SECRET,
            "/api/accounts/me/email/confirm//" + SECRET,
            "/api//accounts/me/email/confirm/" + SECRET,
            "//api/ping", "/api/ping//", "/api//ping",
            "/provisioning//" + SECRET, "/provisioning//qrcode/" + SECRET,
            "/provisioning/qrcode//" + SECRET, "/provisioning//",
            "/provisioning/qrcode%2F" + SECRET, "/api/accounts/me%2femail/confirm/" + SECRET,
        ):
            code, body, _ = yield self.get(path)
            self.assertEqual((code, body), (404, NO_ROUTE), path)
        self.assertEqual(self.flushLoggedErrors(), [])

    @defer.inlineCallbacks
    def test_a_key_behind_a_doubled_slash_is_neither_served_nor_used(self):
        """/provisioning//KEY and /provisioning//qrcode/KEY serve nothing and leave the key valid."""
        for path in ("/provisioning//qrcode/" + self.key, "/provisioning//" + self.key):
            code, _, _ = yield self.get(path)
            self.assertEqual(code, 404, path)
        code, _, headers = yield self.served.request("GET", "/provisioning/qrcode/" + self.key, base="")
        self.assertEqual(code, 200)
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        self.assertEqual(carol.confirmation_key, self.key)

    @defer.inlineCallbacks
    def test_secrets_never_reach_the_access_log(self):
        """Provisioning keys and e-mail links are masked however the path spells them."""
        paths = (
            "/provisioning//" + SECRET, "/provisioning//qrcode/" + SECRET,
            "/provisioning///qrcode///" + SECRET, "/api//accounts/me/email/confirm/" + SECRET,
            "/api/accounts/me/email/confirm//" + SECRET, "/api/accounts/me%2Femail/confirm/" + SECRET,
            "/provisioning/%53ECRETKEY0123", "/provisioning/qrcode/" + SECRET + "/more",
            "/api/accounts/me/email/confirm/" + SECRET,
        )
        for path in paths:
            yield self.served.request("GET", path, base="", key=ADMIN_KEY)
        self.assertEqual(len(self.lines), len(paths))
        self.assertNotIn("ECRETKEY", "\n".join(self.lines))
        self.assertIn('"GET /provisioning/qrcode/***" 404', self.lines[1])
        self.assertIn('"GET /api/accounts/me/email/confirm/***" 404', self.lines[3])

    def test_routed_path(self):
        """The masking reads the path as the routes do: %-escapes decoded, slashes collapsed."""
        self.assertEqual(routed(b"/provisioning//qrcode///K"), b"/provisioning/qrcode/K")
        self.assertEqual(routed(b"/api/accounts/me%2Femail"), b"/api/accounts/me/email")
        self.assertEqual(redact(b"/provisioning//K?x=1"), b"/provisioning/***")
        self.assertEqual(redact(b"/provisioning/"), b"/provisioning/")
        self.assertEqual(redact(b"/api/accounts/me/email/confirm/%0a"), b"/api/accounts/me/email/confirm/***")
        self.assertEqual(redact(b"/api//ping"), b"/api//ping")

    @defer.inlineCallbacks
    def test_reset_password_link_masked(self):
        """The token of a mailed reset-password link (/reset_password/{token}) never reaches the log."""
        self.assertEqual(redact(b"/reset_password/Tok3nTok3nTok3n0"), b"/reset_password/***")
        self.assertEqual(redact(b"/reset_password//%54ok3n?x=1"), b"/reset_password/***")
        self.assertEqual(redact(b"/reset_password/"), b"/reset_password/")
        yield self.served.request("GET", "/reset_password/Tok3nTok3nTok3n0", base="", sip=None)
        self.assertIn('"GET /reset_password/***" 404', self.lines[-1])
        self.assertNotIn("Tok3n", "\n".join(self.lines))

    @defer.inlineCallbacks
    def test_recovery_token_masked(self):
        """The account-recovery token of the page the apps open (/recovery/phone/{token}) never reaches the log."""
        self.assertEqual(redact(b"/recovery/phone/R3c0v3ryT0k3n?phone=+33"), b"/recovery/phone/***")
        self.assertEqual(redact(b"/recovery/phone"), b"/recovery/phone")
        yield self.served.request("GET", "/recovery/phone/R3c0v3ryT0k3n", base="", sip=None)
        self.assertIn('"GET /recovery/phone/***" 404', self.lines[-1])
        self.assertNotIn("R3c0v3ry", "\n".join(self.lines))


class LogEscapeTests(unittest.TestCase):
    """Client values reach log lines as one line of printable ASCII."""

    def test_printable(self):
        """Control characters, quotes, backslashes and non-ASCII bytes are escaped; the rest kept."""
        self.assertEqual(printable(b"Linphone/5.1 (Ubuntu)"), "Linphone/5.1 (Ubuntu)")
        self.assertEqual(printable(b'a\r\nb\x1b[31m"\\\x7f\xc3\xa9\x00'),
                         'a\\r\\nb\\x1b[31m\\"\\\\\\x7f\\xc3\\xa9\\x00')
        self.assertEqual(printable("h\u2028\u00e9"), "h\\xe2\\x80\\xa8\\xc3\\xa9")

    @defer.inlineCallbacks
    def test_access_log_line(self):
        """A user agent and a path with control characters stay on one escaped line."""
        lines = []
        served = yield serve(self)
        served.client = InMemoryClient(build_resources(served.config, served.components), access=lines.append)
        yield served.request("GET", "/api/ping%0a%1b", base="", sip=None,
                             headers={b"User-Agent": [b"evil\x1b[2J\x7f\x08 \xff"]})
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0], '127.0.0.1 "GET /api/ping%0a%1b" 404 31 "evil\\x1b[2J\\x7f\\x08 \\xff"')

    @defer.inlineCallbacks
    def test_provisioning_line_carries_no_client_text(self):
        """The provisioning log line names the kind of client, never what the client wrote."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        served = yield serve(self)
        code, _, _ = yield served.request(
            "GET", "/provisioning", base="", sip=None,
            headers={b"User-Agent": [b"evil\x1b[2J"], b"X-Linphone-Provisioning": [b"1\x1b[2J"]})
        self.assertEqual(code, 200)
        lines = [formatEvent(e) for e in events if "provisioning" in e.get("log_namespace", "")]
        self.assertEqual(lines, ["provisioning document served to a client"])


class PaddedNameTests(unittest.TestCase):
    """A SIP address or name with whitespace or control characters around or in it finds no account."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    @defer.inlineCallbacks
    def test_info_of_a_padded_address_is_404(self):
        """GET /api/accounts/user@domain%20/info no longer finds user@domain (issue 13), nor any other padding."""
        code, _, _ = yield self.served.json("GET", "/accounts/user@sip.example.org/info", sip=None)
        self.assertEqual(code, 200)
        for sip in ("user@sip.example.org%20", "%20user@sip.example.org", "user%20@sip.example.org",
                    "user@%20sip.example.org", "user@sip.example.org%09", "user@sip.example.org%0B",
                    "user@sip.example.org%C2%A0", "user%E2%80%8B@sip.example.org",
                    "user@sip.example.org%C2%85", "sip:user@sip.example.org%20",
                    "%3Csip:user@sip.example.org%20%3E", "%3Csip:user@sip.example.org%3E%20"):
            code, body, _ = yield self.served.json("GET", "/accounts/%s/info" % (sip,), sip=None)
            self.assertEqual((code, body), (404, NO_ACCOUNT), sip)
        # A NUL no database stores: refused before any route (tests/test_api_odd_text.py).
        code, body, _ = yield self.served.json("GET", "/accounts/user@sip.example.org%00/info", sip=None)
        self.assertEqual((code, body), (400, {"message": ODD_TEXT}))

    @defer.inlineCallbacks
    def test_activation_of_a_padded_address_is_404(self):
        """The right code through a padded {sip} activates nothing; through the exact address it works."""
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        for sip in ("carol@sip.example.org%20", "carol%20@sip.example.org"):
            code, body, _ = yield self.served.json(
                "POST", "/accounts/%s/activate/email" % (sip,), sip=None, body={"code": carol.confirmation_key})
            self.assertEqual((code, body), (404, NO_ACCOUNT), sip)
        carol = yield self.served.storage.find_account("carol", "sip.example.org")
        self.assertFalse(carol.activated)
        code, _, _ = yield self.served.json(
            "POST", "/accounts/carol@sip.example.org/activate/email", sip=None,
            body={"code": carol.confirmation_key})
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_padded_names_in_bodies_are_422(self):
        """Usernames and domains of the creation routes with whitespace or control characters are 422."""
        for username in ("newuser ", " newuser", "newuser\t", "newuser\u00a0"):
            code, body, _ = yield self.served.json(
                "POST", "/accounts/with-token", sip=None,
                body={"username": username, "password": "secret1", "algorithm": "MD5",
                      "token": "0123456789abc"})
            self.assertEqual(code, 422, repr(username))
            self.assertIn("username", body["errors"], repr(username))
            code, body, _ = yield self.served.json(
                "POST", "/accounts", key=ADMIN_KEY,
                body={"username": username, "password": "secret1", "algorithm": "MD5"})
            self.assertEqual((code, list(body["errors"])), (422, ["username"]), repr(username))
        for domain in ("sip.example.org ", " sip.example.org", "sip.example.org\n", "sip.example.org\x0b"):
            code, body, _ = yield self.served.json(
                "POST", "/accounts/with-token", sip=None,
                body={"username": "newuser", "password": "secret1", "algorithm": "MD5",
                      "domain": domain, "token": "0123456789abc"})
            self.assertEqual(code, 422, repr(domain))
            self.assertEqual(body["errors"]["domain"], ["The domain must be a valid domain name."], repr(domain))
        code, body, _ = yield self.served.json(
            "POST", "/accounts", key=ADMIN_KEY,
            body={"username": "newuser", "password": "secret1", "algorithm": "MD5", "phone": "+33612\u00a0"})
        self.assertEqual((code, list(body["errors"])), (422, ["phone"]))
        # A NUL no database stores is refused before any rule (tests/test_api_odd_text.py).
        code, body, _ = yield self.served.json(
            "POST", "/accounts", key=ADMIN_KEY,
            body={"username": "new\x00user", "password": "secret1", "algorithm": "MD5"})
        self.assertEqual((code, body), (400, {"message": ODD_TEXT}))


globals().update(on_engines(PaddedNameTests))
