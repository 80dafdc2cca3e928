"""
famd served in memory for tests: the one serving fixture.

L{serve} builds what the daemon builds (L{famd.service.build_resources}
and the account panel under L{famd.web.make_site}, so the request class,
body limit and refusal table are the daemon's) over the test's storage engine, seeded with the
accounts of fam-2021-transcripts.md, with the notifiers and registrar a test
gives and a L{task.Clock} as the one "now".  Requests go through treq's
L{StubTreq}: no port, no socket.  A storage answers from its own thread, so
L{InMemoryClient} pumps the in-memory connection until each answer is
complete.
"""

import json
from io import BytesIO

import treq
from treq.testing import StubTreq
from twisted.internet import defer, reactor, task
from twisted.internet.testing import MemoryReactorClock
from twisted.web.client import FileBodyProducer
from twisted.web.http_headers import Headers

from famd.clock import reactor_clock
from famd.panel.site import panel_resource
from famd.service import build_resources
from famd.web import make_site
from famd.testing.storage_contract import NOW
from tests.api_helpers import USER, api_request, make_config, open_served_storage

PUMP_INTERVAL = 0.001
"""Seconds between two pumps of the in-memory connection while an answer is pending."""


def clock_at(moment=NOW):
    """A Clock whose time is C{moment}, for L{famd.clock.reactor_clock}."""
    clock = task.Clock()
    clock.advance(moment.timestamp())
    return clock


def components(storage, clock, email=None, sms=None, push=None, registrar=None, hooks=()):
    """What L{famd.service.build_resources} builds a famd from (None: the feature is off)."""
    return {
        "storage": storage, "email": email, "sms": sms, "push": push,
        "registrar": registrar, "hooks": list(hooks), "now": reactor_clock(clock),
        "reactor": clock,
    }


class InMemoryClient:
    """
    HTTP requests to a resource tree served by famd's own site, in memory.

    @param children: the site's applications by first path segment
        ({b'api': resource, ...}).
    @param access: where the site's access log lines go (None: nowhere).
    @param fallback: the resource of every other path (the account panel's).
    """

    def __init__(self, children, max_body_size=65536, access=None, fallback=None):
        site = make_site(children, max_body_size, MemoryReactorClock(), access=access,
                         fallback=fallback)
        self._stub = StubTreq(site.resource)
        # StubTreq answers through a plain twisted.web Site of its own; famd's
        # site (its request class: body limit, UTF-8 paths, reason phrases)
        # takes its place, so the answers are the daemon's.
        agent = self._stub._agent
        assert hasattr(agent, "_serverFactory"), "treq's RequestTraversalAgent changed"
        agent._serverFactory = site

    @defer.inlineCallbacks
    def exchange(self, method, url, headers=None, body=None):
        """Fire with (the treq response, its body bytes)."""
        response = yield self._pumped(self._stub.request(method, url, headers=headers, data=body))
        content = yield self._pumped(self._stub.content(response))
        return response, content

    def request(self, method, url, headers=None, body=None):
        """Fire with (status, headers, body bytes)."""
        d = self.exchange(method, url, headers, body)
        return d.addCallback(lambda exchanged: (exchanged[0].code, exchanged[0].headers, exchanged[1]))

    @defer.inlineCallbacks
    def plain_request(self, method, url, headers=None, body=None):
        """
        Fire with (status, headers, body bytes) of one request sent as
        given: no cookie jar (treq's keeps every cookie), no redirect followed.
        """
        producer = FileBodyProducer(BytesIO(body)) if body is not None else None
        agent = self._stub._agent
        response = yield self._pumped(agent.request(
            method.encode("ascii"), url.encode("ascii"), Headers(headers or {}), producer))
        content = yield self._pumped(treq.content(response))
        return response.code, response.headers, content

    @defer.inlineCallbacks
    def _pumped(self, d):
        done = []
        d.addBoth(lambda result: done.append(result) or result)
        while not done:
            self._stub.flush()
            if not done:
                yield task.deferLater(reactor, PUMP_INTERVAL, lambda: None)
        return (yield d)


class Served:
    """
    One famd in memory: its config, storage, clock, "now" and components,
    and requests to its ``/api`` (paths are relative to it).
    """

    def __init__(self, client, config, storage, clock, components):
        self.client = client
        self.config = config
        self.storage = storage
        self.clock = clock
        self.now = components["now"]
        self.components = components
        self.recorder = None

    def recording(self, recorder):
        """Record this famd's exchanges with C{recorder} (a L{Recorder}) from now on."""
        self.recorder = recorder
        return self

    def request(self, method, path, sip=USER, key=None, authorization=None, body=None,
                headers=None, base="/api"):
        """Fire with (status, headers, body bytes)."""
        all_headers, body = api_request(sip, key, authorization, body, headers)
        d = self.client.request(method, "http://famd.test" + base + path, all_headers, body)
        if self.recorder is not None:
            d.addCallback(self.recorder.record, method, base + path, all_headers, body)
        return d

    def json(self, method, path, **kwargs):
        """Fire with (status, decoded JSON body, headers)."""
        d = self.request(method, path, **kwargs)
        return d.addCallback(lambda r: (r[0], json.loads(r[2]) if r[2] else None, r[1]))


class Recorder:
    """
    The exchanges of a L{Served} famd, as the API page shows them
    (L{famd.api.docs_page}): each keyed ``METHOD template status`` once
    L{label} has said which OpenAPI path the next request is for.
    Exchanges made without a label are not kept.
    """

    SHOWN_REQUEST_HEADERS = (b"From", b"x-api-key", b"Authorization", b"Content-Type",
                             b"X-Linphone-Provisioning")
    SHOWN_ANSWER_HEADERS = (b"Content-Type", b"WWW-Authenticate", b"Retry-After")

    def __init__(self):
        self.exchanges = {}
        self._template = None

    def label(self, template):
        """The next request is an example of the operation at OpenAPI path C{template}."""
        self._template = template

    def record(self, answer, method, target, headers, body):
        template, self._template = self._template, None
        if template is None:
            return answer
        status, answer_headers, content = answer
        shown = {name.decode(): b", ".join(headers[name]).decode("utf-8")
                 for name in self.SHOWN_REQUEST_HEADERS if name in headers}
        if body is None:
            shown.pop("Content-Type", None)
        answered = {}
        for name in self.SHOWN_ANSWER_HEADERS:
            values = answer_headers.getRawHeaders(name)
            if values:
                answered[name.decode()] = (values[0] if len(values) == 1 else values)
        answered = {k: (v.decode("utf-8") if isinstance(v, bytes) else [x.decode() for x in v])
                    for k, v in answered.items()}
        self.exchanges["%s %s %d" % (method, template, status)] = {
            "request": {"method": method, "target": target, "headers": shown,
                        "body": _decoded(body)},
            "response": {"status": status, "headers": answered, "body": _decoded(content)},
        }
        return answer


def _decoded(content):
    """A recorded body: its JSON value, its text, or None when empty."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


@defer.inlineCallbacks
def serve(test_case, beside=None, storage=None, clock=None, email=None, sms=None, push=None,
          registrar=None, hooks=(), **settings):
    """
    Serve a seeded famd for C{test_case}; fire with L{Served}.  Notifiers
    and registrar left None are turned off.  Pass C{beside} (a L{Served})
    to serve another famd on its database, as another process would, or
    C{storage} to serve one the test made.
    """
    config = make_config(**settings)
    if storage is None:
        storage = yield open_served_storage(test_case, config, beside)
    clock = clock or clock_at()
    built = components(storage, clock, email, sms, push, registrar, hooks)
    children = build_resources(config, built)
    panel = built.get("panel")
    client = InMemoryClient(children, config.max_body_size,
                            fallback=panel_resource(panel) if panel is not None else None)
    return Served(client, config, storage, clock, built)
