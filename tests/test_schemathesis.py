"""
Contract fuzzing with schemathesis: every operation of famd's OpenAPI
document (``GET /api/openapi.json``) is called by the installed daemon's
own clients' rules, with generated requests, and every answer is checked:
no server error, a status the document lists, a body its schema accepts;
when the document has links (create -> show -> delete), its state machine
runs too.

The run is bounded for CI: FAMD_SCHEMATHESIS_EXAMPLES examples per
operation (default 5).  A longer run::

    FAMD_SCHEMATHESIS_EXAMPLES=500 ./scripts/test tests.test_schemathesis

schemathesis is synchronous (requests): it runs in a worker thread, the
reactor serving meanwhile (the stand-in's in-process server, or treq for
the daemon's set-up).
"""

import json
import os
import traceback

from klein import Klein
from twisted.internet import defer, endpoints, reactor, threads
from twisted.trial import unittest
from twisted.web.server import Site

from famd.testing.daemon import run_famd, start_daemon
from famd.testing.pusher import FakePusher
from tests.api_helpers import call
from tests import openapi_fixture

EXAMPLES = int(os.environ.get("FAMD_SCHEMATHESIS_EXAMPLES", "5"))
RANDOM = os.environ.get("FAMD_SCHEMATHESIS_RANDOM") == "1"
"""Draw new examples each run (FAMD_SCHEMATHESIS_RANDOM=1); by default the draws
are derandomized, so that a CI run is the same every time."""
STATEFUL_STEPS = 6
DOCUMENT_PATH = "/api/openapi.json"

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
public_url: "http://127.0.0.1:{port}"
sip_domain: sip.example.org
storage: {backend: sqlite, path: fuzz.sqlite}
push: {backend: flexisip-pusher, path: "{pusher}"}
"""
ADMIN = "sip:admin1@sip.example.org"
USER = "sip:fuzzuser@sip.example.org"


def fuzz(document_url, base_url, headers_for, examples=EXAMPLES):
    """
    Run schemathesis on every operation of the document at C{document_url}
    against C{base_url}, each request with the headers C{headers_for(path)}
    gives (credentials).  Blocking: run it in a thread.

    @return: (the number of operations, the failures as texts).
    """
    import hypothesis
    from hypothesis import HealthCheck, Phase
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance, response_headers_conformance, response_schema_conformance,
        status_code_conformance)

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_headers_conformance, response_schema_conformance]
    settings = hypothesis.settings(
        max_examples=examples, deadline=None, database=None, derandomize=not RANDOM,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        stateful_step_count=STATEFUL_STEPS)
    schema = schemathesis.openapi.from_url(document_url, timeout=10)
    failures, count = [], 0
    for result in schema.get_all_operations():
        try:
            operation = result.ok()
        except Exception as error:
            failures.append("unloadable operation: %r" % (error,))
            continue
        count += 1

        @settings
        @hypothesis.given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(base_url=base_url, headers=headers_for(case.path), checks=checks,
                                   timeout=10)

        try:
            check()
        except (Exception, BaseExceptionGroup):  # schemathesis raises a FailureGroup
            failures.append("%s %s:\n%s" % (operation.method.upper(), operation.path,
                                             traceback.format_exc(limit=3)))
    if _has_links(schema.raw_schema):
        machine = schema.as_state_machine()

        class Stateful(machine):
            def get_call_kwargs(self, case):
                return {"base_url": base_url, "headers": headers_for(case.path), "timeout": 10}

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                case.validate_response(response, checks=checks, transport_kwargs=kwargs)

        try:
            Stateful.run(settings=settings)
        except (Exception, BaseExceptionGroup):
            failures.append("stateful links:\n" + traceback.format_exc(limit=3))
    return count, failures


def _has_links(document):
    for item in (document.get("paths") or {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                for response in (operation.get("responses") or {}).values():
                    if isinstance(response, dict) and response.get("links"):
                        return True
    return False


class StandInTests(unittest.TestCase):
    """The harness itself, against the fixture document served by a tiny stand-in."""

    timeout = 120

    @defer.inlineCallbacks
    def setUp(self):
        self.stand_in = openapi_fixture.StandIn()
        endpoint = endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
        self.port = yield endpoint.listen(Site(self.stand_in.app.resource()))
        self.addCleanup(self.port.stopListening)
        self.url = "http://127.0.0.1:%d" % (self.port.getHost().port,)

    def headers(self, path):
        return {"From": openapi_fixture.ADMIN, "x-api-key": openapi_fixture.KEY}

    @defer.inlineCallbacks
    def test_conforming(self):
        """Every operation of the fixture is exercised and the stand-in conforms."""
        count, failures = yield threads.deferToThread(
            fuzz, self.url + DOCUMENT_PATH, self.url, self.headers)
        self.assertEqual(count, 4)
        self.assertEqual(failures, [])
        self.assertTrue(self.stand_in.accounts, "no account was ever created")

    @defer.inlineCallbacks
    def test_catches_nonconformance(self):
        """A server error and a body its schema refuses are both reported."""
        app = Klein()

        @app.route(DOCUMENT_PATH)
        def document(request):
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps(openapi_fixture.DOCUMENT).encode()

        @app.route("/api/ping")
        def broken(request):
            request.setResponseCode(500)
            return b"oops"

        @app.route("/api/accounts/<int:id>")
        def wrong_shape(request, id):
            request.setHeader(b"Content-Type", b"application/json")
            return b'{"id": "not a number"}'

        endpoint = endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
        port = yield endpoint.listen(Site(app.resource()))
        self.addCleanup(port.stopListening)
        url = "http://127.0.0.1:%d" % (port.getHost().port,)
        _, failures = yield threads.deferToThread(fuzz, url + DOCUMENT_PATH, url, self.headers, 2)
        failed = {failure.split(":", 1)[0] for failure in failures}
        self.assertIn("GET /api/ping", failed)
        self.assertIn("GET /api/accounts/{id}", failed)


class DaemonTests(unittest.TestCase):
    """schemathesis against the installed ``twistd -n famd`` and its own document."""

    timeout = 300

    @defer.inlineCallbacks
    def setUp(self):
        # A flexisip_pusher that delivers: a push answered 503 would be a 5xx.
        pusher = FakePusher(os.path.abspath(self.mktemp()))
        self.daemon = yield start_daemon(self, CONFIG.replace("{pusher}", pusher.path))
        out, err, code = yield run_famd(self.daemon.config_path, "create-admin", "admin1",
                                        "--password", "adminpass1")
        self.assertEqual(code, 0, err)
        self.admin_key = out.decode().strip().splitlines()[-1]
        code, _, body = yield call(self.daemon.url + "/api", "POST", "/accounts", sip=ADMIN,
                                   key=self.admin_key, body={
                                       "username": "fuzzuser", "password": "fuzzpass1",
                                       "algorithm": "SHA-256", "activated": True})
        self.assertEqual(code, 200, body)
        out, err, code = yield run_famd(self.daemon.config_path, "api-key", USER)
        self.assertEqual(code, 0, err)
        self.user_key = out.decode().strip().splitlines()[-1]

    def headers(self, path):
        """The user's credentials for its own routes, the admin's for the others."""
        if path.startswith(("/api/accounts/me", "/provisioning/me")):
            return {"From": USER, "x-api-key": self.user_key}
        return {"From": ADMIN, "x-api-key": self.admin_key}

    @defer.inlineCallbacks
    def test_every_operation(self):
        """Every operation of famd's document: no 5xx, declared statuses, conforming bodies."""
        url = self.daemon.url
        count, failures = yield threads.deferToThread(fuzz, url + DOCUMENT_PATH, url, self.headers)
        self.assertGreater(count, 40)
        self.assertEqual(failures, [], "\n\n".join(failures))
