"""
A real HTTP server standing in for the OVH SMS API: the two calls famd makes
(GET /auth/time, POST /sms/<service>/jobs), with the signature headers
checked exactly, and switches for refusals and stalls.
"""

import json
from hashlib import sha1

from twisted.web import resource, server

from famd.testing.loopback import listen


SKEW = 3600
"""How far ahead of the reactor's clock the fake OVH's clock runs."""


def _error(request, status, code, message):
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json")
    return json.dumps(
        {"errorCode": code, "httpCode": "%d" % (status,), "message": message}
    ).encode()


class FakeOVH(resource.Resource):
    """
    The two OVH API calls famd makes, checking the signature headers exactly.

    C{jobs} holds the decoded bodies of the accepted SMS jobs; C{time_calls}
    counts the GET /auth/time calls.  Set C{invalid} to report every receiver
    invalid, C{stall} to never answer a job.
    """

    isLeaf = True

    def __init__(self, application_key, application_secret, consumer_key, service):
        super().__init__()
        self.application_key = application_key
        self.application_secret = application_secret
        self.consumer_key = consumer_key
        self.service = service
        self.jobs = []
        self.time_calls = 0
        self.invalid = False
        self.stall = False
        self.origin = None

    def now(self):
        from twisted.internet import reactor

        return int(reactor.seconds()) + SKEW

    def render_GET(self, request):
        if request.path != b"/1.0/auth/time":
            return _error(request, 404, "NOT_FOUND", "not found")
        self.time_calls += 1
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(self.now()).encode()

    def render_POST(self, request):
        if request.path != ("/1.0/sms/%s/jobs" % (self.service,)).encode():
            return _error(request, 404, "NOT_FOUND", "This service does not exist")
        body = request.content.read()
        header = lambda name: (request.getHeader(name) or "")  # noqa: E731
        if header("X-Ovh-Application") != self.application_key:
            return _error(
                request, 403, "INVALID_KEY", "This application key is invalid"
            )
        if header("X-Ovh-Consumer") != self.consumer_key:
            return _error(
                request, 403, "INVALID_CREDENTIAL", "This credential is not valid"
            )
        if header("Content-Type") != "application/json":
            return _error(request, 400, "BAD_REQUEST", "Invalid content type")
        timestamp = header("X-Ovh-Timestamp")
        if not timestamp.isdigit() or abs(int(timestamp) - self.now()) > 5:
            return _error(request, 400, "QUERY_TIME_OUT", "Query out of time")
        url = self.origin + request.uri.decode()
        text = "+".join(
            [
                self.application_secret,
                self.consumer_key,
                "POST",
                url,
                body.decode("utf-8"),
                timestamp,
            ]
        )
        if header("X-Ovh-Signature") != "$1$" + sha1(text.encode()).hexdigest():
            return _error(request, 400, "INVALID_SIGNATURE", "Invalid signature")
        job = json.loads(body)
        if self.stall:
            return server.NOT_DONE_YET
        self.jobs.append(job)
        receivers = job["receivers"]
        answer = {
            "totalCreditsRemoved": 0 if self.invalid else len(receivers),
            "invalidReceivers": receivers if self.invalid else [],
            "validReceivers": [] if self.invalid else receivers,
            "ids": [] if self.invalid else [1000 + len(self.jobs)],
            "tag": None,
        }
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(answer).encode()


def serve_ovh(test, fake):
    """Serve C{fake} on loopback for C{test}; return its endpoint URL."""
    port = listen(test, server.Site(fake))
    fake.origin = "http://127.0.0.1:%d" % (port,)
    return fake.origin + "/1.0"
