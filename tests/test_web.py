"""
The HTTP front through the real resource tree and request class, in
memory: ping, the one refusal table (JSON 404, 405, 413, 400, standard
reason phrases, routing redirects), the Server header, redacted access log
lines and escaped error log lines.
"""

import json

from twisted.internet import defer
from twisted.logger import formatEvent, globalLogPublisher
from twisted.python.failure import Failure
from twisted.trial import unittest
from twisted.web.test.requesthelper import DummyRequest
from werkzeug.routing import RequestRedirect

from famd import errors
from famd.interfaces import RegistrarUnavailable, StorageUnavailable
from famd.logsafe import redact
from famd.web import answer_failure
from tests.serving import serve


class WebTests(unittest.TestCase):
    """The root resource, the /api and /provisioning applications and the request class."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self, max_body_size=1024, throttle={"wrong_secrets": 1})

    def get(self, path, method="GET", **kwargs):
        return self.served.request(method, path, base="", sip=None, **kwargs)

    @defer.inlineCallbacks
    def test_ping(self):
        """GET /api/ping answers pong."""
        code, _, body = yield self.get("/api/ping")
        self.assertEqual((code, body), (200, b"pong"))

    @defer.inlineCallbacks
    def test_unknown_paths_are_json_404(self):
        """
        Unknown paths inside the applications get the same JSON 404.  Paths
        outside them belong to the account panel since issue 16 (its HTML
        404: tests.test_panel; with the panel off, this JSON 404:
        tests.test_panel.PanelOffTests).
        """
        for path in ("/api/nope", "/provisioning/qrcode/a/b"):
            code, headers, body = yield self.get(path)
            self.assertEqual(code, 404, path)
            self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
            self.assertEqual(body, b'{"message":"No such endpoint."}', path)

    @defer.inlineCallbacks
    def test_wrong_method_is_json_405(self):
        """A wrong method gets a JSON 405 naming the allowed ones, in /api and /provisioning."""
        code, headers, body = yield self.get("/api/ping", method="PUT")
        self.assertEqual(code, 405)
        self.assertEqual(json.loads(body), {"message": (
            "The PUT method is not supported for this route. Supported methods: GET, HEAD.")})
        self.assertEqual(headers.getRawHeaders(b"allow"), [b"GET, HEAD"])
        code, headers, _ = yield self.get("/provisioning/KEY", method="POST")
        self.assertEqual((code, headers.getRawHeaders(b"allow")), (405, [b"GET, HEAD"]))

    @defer.inlineCallbacks
    def test_body_over_the_limit_is_413(self):
        """A body larger than max_body_size is refused with a JSON 413 before any route."""
        code, _, body = yield self.get("/api/accounts", method="POST", body=b"x" * 5000)
        self.assertEqual(code, 413)
        self.assertIn("too large", json.loads(body)["message"])

    @defer.inlineCallbacks
    def test_body_within_the_limit_reaches_the_route(self):
        """A body under the limit is handed to the application."""
        code, _, _ = yield self.get("/api/ping", method="PUT", body=b"x" * 100)
        self.assertEqual(code, 405)

    @defer.inlineCallbacks
    def test_path_not_utf8_is_400(self):
        """A %-escaped path that is not UTF-8 gets a JSON 400, not a traceback."""
        code, _, body = yield self.get("/api/accounts/%ff/info")
        self.assertEqual(code, 400)
        self.assertIn("UTF-8", json.loads(body)["message"])
        code, _, _ = yield self.get("/api/accounts/%C3%A9l%C3%A9na@sip.example.org/info")
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_standard_reason_phrases(self):
        """422 and 429 go out with their standard reason phrases, not "Unknown Status"."""
        response, _ = yield self.served.client.exchange(
            "POST", "http://famd.test/api/accounts/me/email/request",
            {b"From": [b"sip:user@sip.example.org"], b"x-api-key": [b"wrong"]})
        self.assertEqual((response.code, response.phrase), (401, b"Unauthorized"))
        response, _ = yield self.served.client.exchange(
            "POST", "http://famd.test/api/accounts/me/email/request",
            {b"From": [b"sip:"], b"x-api-key": [b"wrong"]})
        self.assertEqual((response.code, response.phrase), (422, b"Unprocessable Entity"))
        phrases = []
        for _ in range(2):
            response, _ = yield self.served.client.exchange(
                "POST", "http://famd.test/api/accounts/carol@sip.example.org/activate/email",
                {b"Content-Type": [b"application/json"]}, b'{"code": "0123456789abc"}')
            phrases.append((response.code, response.phrase))
        self.assertEqual(phrases, [(404, b"Not Found"), (429, b"Too Many Requests")])

    @defer.inlineCallbacks
    def test_server_header_names_no_version(self):
        """The Server header says famd and no version of anything."""
        _, headers, _ = yield self.get("/api/ping")
        self.assertEqual(headers.getRawHeaders(b"server"), [b"famd"])

    def test_redacted_paths(self):
        """Secret path segments and query strings never reach the access log."""
        self.assertEqual(redact(b"/provisioning/SECRETKEY123"), b"/provisioning/***")
        self.assertEqual(redact(b"/provisioning/qrcode/SECRETKEY123"), b"/provisioning/qrcode/***")
        self.assertEqual(redact(b"/api/ping?token=abc"), b"/api/ping")
        self.assertEqual(redact(b"/api/accounts/me/email/confirm/HASH123"),
                         b"/api/accounts/me/email/confirm/***")


class RefusalTableTests(unittest.TestCase):
    """Every refusal, and every error that stands for one, has its status, headers and JSON body."""

    def answer(self, error, method=b"GET", path=b"/api/x"):
        request = DummyRequest([b""])
        request.method = method
        request.path = path
        body = answer_failure(request, Failure(error))
        headers = {name: values for name, values in request.responseHeaders.getAllRawHeaders()}
        return request.responseCode, json.loads(body), headers

    def test_table(self):
        """Each refusal becomes FAM's status and body."""
        cases = [
            (errors.BadRequest("b"), 400, {"message": "b"}),
            (errors.Unauthorized("u", ["Digest x"]), 401, {"message": "u"}),
            (errors.Forbidden("f"), 403, {"message": "f"}),
            (errors.NotFound("n"), 404, {"message": "n"}),
            (errors.TooLarge("t"), 413, {"message": "t"}),
            (errors.UnsupportedMedia("m"), 415, {"message": "m"}),
            (errors.Invalid({"a": ["x"]}), 422,
             {"message": "The given data was invalid.", "errors": {"a": ["x"]}}),
            (errors.Invalid({"a": "x"}, laravel=False), 422, {"errors": {"a": "x"}}),
            (errors.Conflict("phone"), 422, {"message": "The given data was invalid.",
                                             "errors": {"phone": ["The phone has already been taken."]}}),
            (errors.TooMany(7), 429, {"message": "Too Many Attempts."}),
            (errors.Unavailable("s"), 503, {"message": "s"}),
            (StorageUnavailable("down"), 503,
             {"message": "The account database is unavailable, try again later."}),
            (RegistrarUnavailable("down"), 503,
             {"message": "The SIP registrar is unavailable, try again later."}),
        ]
        for error, status, body in cases:
            self.assertEqual(self.answer(error)[:2], (status, body), error)

    def test_headers(self):
        """Challenges, Retry-After and Allow go out as headers."""
        self.assertEqual(self.answer(errors.Unauthorized("u", ["Digest a", "Digest b"]))[2][b"WWW-Authenticate"],
                         [b"Digest a", b"Digest b"])
        self.assertEqual(self.answer(errors.TooMany(7))[2][b"Retry-After"], [b"7"])
        self.assertEqual(self.answer(errors.NotAllowed("x", ["GET", "HEAD"]))[2][b"Allow"], [b"GET, HEAD"])

    def test_redirects_are_404(self):
        """A routing redirect (werkzeug's, for merged slashes) is the 404 of an unknown path, never a 500."""
        code, body, _ = self.answer(RequestRedirect("http://famd.test/api/ping"))
        self.assertEqual((code, body), (404, {"message": "No such endpoint."}))
        self.assertEqual(self.flushLoggedErrors(), [])

    def test_error_line_escapes_client_values(self):
        """The 500's log line shows the method and path escaped, on one line, secrets masked."""
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        self.answer(ZeroDivisionError("boom"), b"GE\x1bT", b"/api/x\r\n\x1b[2J\xff")
        self.answer(ZeroDivisionError("boom"), b"GET", b"/provisioning//SECRETKEY1234")
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 2)
        lines = [formatEvent(e) for e in events if e.get("log_namespace") == "famd.web"]
        self.assertEqual(lines, ["unexpected error answering GE\\x1bT /api/x\\r\\n\\x1b[2J\\xff",
                                 "unexpected error answering GET /provisioning/***"])

    def test_anything_else_is_a_logged_500(self):
        """An unexpected exception is answered 500 with a JSON body and logged with its traceback."""
        code, body, _ = self.answer(ZeroDivisionError("boom"))
        self.assertEqual((code, body), (500, {"message": "Internal error."}))
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)
