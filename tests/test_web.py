"""
The HTTP front through the real resource tree: ping, JSON 404 and 405,
the body size limit, redacted access log lines.
"""

import json

import treq
from twisted.internet import defer, endpoints, reactor
from twisted.trial import unittest
from treq.testing import StubTreq

from famd.api import Api
from famd.clock import utcnow
from famd.config import from_mapping
from famd.testing.storage import open_sqlite
from famd.logsafe import redact
from famd.web import access_log_line, make_site


class WebTests(unittest.TestCase):
    """The root resource and the /api application."""

    @defer.inlineCallbacks
    def setUp(self):
        self.config = from_mapping({"sip_domain": "sip.example.org", "max_body_size": 1024}, "/tmp")
        self.storage = yield open_sqlite(self)
        self.site = make_site(
            {b"api": Api(config=self.config, storage=self.storage, now=utcnow).resource()}, 1024)
        self.client = StubTreq(self.site.resource)

    @defer.inlineCallbacks
    def test_ping(self):
        """GET /api/ping answers pong."""
        response = yield self.client.get("http://famd/api/ping")
        self.assertEqual(response.code, 200)
        self.assertEqual((yield response.content()), b"pong")

    @defer.inlineCallbacks
    def test_unknown_paths_are_json_404(self):
        """Unknown paths inside and outside /api get a JSON 404."""
        for url in ("http://famd/nope", "http://famd/", "http://famd/api/nope"):
            response = yield self.client.get(url)
            self.assertEqual(response.code, 404, url)
            self.assertEqual(response.headers.getRawHeaders(b"content-type"), [b"application/json"])
            self.assertIn("message", json.loads((yield response.content())))

    @defer.inlineCallbacks
    def test_wrong_method_is_json_405(self):
        """A wrong method gets a JSON 405 naming the allowed ones."""
        response = yield self.client.put("http://famd/api/ping")
        self.assertEqual(response.code, 405)
        body = json.loads((yield response.content()))
        self.assertIn("PUT method is not supported", body["message"])
        self.assertIn(b"GET", response.headers.getRawHeaders(b"allow")[0])

    def test_redacted_paths(self):
        """Secret path segments and query strings never reach the access log."""
        self.assertEqual(redact(b"/provisioning/SECRETKEY123"), b"/provisioning/***")
        self.assertEqual(redact(b"/provisioning/qrcode/SECRETKEY123"), b"/provisioning/qrcode/***")
        self.assertEqual(redact(b"/api/ping?token=abc"), b"/api/ping")
        self.assertEqual(redact(b"/api/accounts/me/email/confirm/HASH123"),
                         b"/api/accounts/me/email/confirm/***")


class ListeningTests(unittest.TestCase):
    """The site on a real loopback port."""

    @defer.inlineCallbacks
    def setUp(self):
        config = from_mapping({"sip_domain": "sip.example.org"}, "/tmp")
        storage = yield open_sqlite(self)
        self.site = make_site({b"api": Api(config=config, storage=storage, now=utcnow).resource()}, 1024)
        self.lines = []
        self.site._logFormatter = lambda ts, request: self.lines.append(access_log_line(ts, request)) or "x"
        port = yield endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(self.site)
        self.addCleanup(port.stopListening)
        self.base = "http://127.0.0.1:%d" % (port.getHost().port,)

    @defer.inlineCallbacks
    def test_body_over_the_limit_is_413(self):
        """A body larger than max_body_size is refused with a JSON 413 and not buffered."""
        response = yield treq.post(self.base + "/api/accounts", data=b"x" * 5000,
                                   headers={b"Content-Type": [b"application/json"]}, persistent=False)
        self.assertEqual(response.code, 413)
        self.assertIn("too large", json.loads((yield response.content()))["message"])

    @defer.inlineCallbacks
    def test_path_not_utf8_is_400(self):
        """A %-escaped path that is not UTF-8 gets a JSON 400, not a traceback."""
        response = yield treq.get(self.base + "/api/accounts/%ff/info", persistent=False)
        self.assertEqual(response.code, 400)
        self.assertIn("UTF-8", json.loads((yield response.content()))["message"])
        response = yield treq.get(self.base + "/api/accounts/%C3%A9l%C3%A9na@sip.example.org/info",
                                  persistent=False)
        self.assertEqual(response.code, 404)
        yield response.content()

    @defer.inlineCallbacks
    def test_body_within_the_limit_reaches_the_route(self):
        """A body under the limit is handed to the application."""
        response = yield treq.put(self.base + "/api/ping", data=b"x" * 100, persistent=False)
        self.assertEqual(response.code, 405)
        yield response.content()

    @defer.inlineCallbacks
    def test_access_log_has_no_secrets(self):
        """The access log line of a provisioning request masks its key."""
        response = yield treq.get(self.base + "/provisioning/SECRETKEY1234?x=1", persistent=False)
        yield response.content()
        self.assertEqual(len(self.lines), 1)
        self.assertIn("/provisioning/***", self.lines[0])
        self.assertNotIn("SECRETKEY1234", self.lines[0])
