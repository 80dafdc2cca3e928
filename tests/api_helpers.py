"""
What the API tests share: the configuration and seeded accounts of
fam-2021-transcripts.md on the test class's storage engine (SQLite unless
L{tests.engines.on_engines} made it MySQL or PostgreSQL), a plain HTTP call
for the installed daemon on its port, and a small RFC 7616 client written
independently of famd.digest.  L{tests.serving} serves famd in memory.
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
from datetime import datetime, timedelta, timezone

import treq
from twisted.internet import defer, reactor

from famd.accounts import new_account
from famd.config import from_mapping
from famd.testing.flexisip_cli import FakeFlexisipCLI
from famd.testing.registrar_contract import IOS_UA, registration
from tests.engines import open_storage

SIP_DOMAIN = "sip.example.org"
PUBLIC_URL = "http://127.0.0.1:8091"
ADMIN_KEY = "adminkey0123456789abcdefghijklmnopqrstuv"
BOB_KEY = "bobkey0123456789abcdefghijklmnopqrstuvwx"
SEEDED = datetime(2021, 6, 1, 10, 0, tzinfo=timezone.utc)
USER = "sip:user@sip.example.org"
BOB = "sip:bob@sip.example.org"
CAROL = "sip:carol@sip.example.org"


def make_config(**settings):
    values = {"sip_domain": SIP_DOMAIN, "public_url": PUBLIC_URL}
    values.update(settings)
    return from_mapping(values, tempfile.mkdtemp(prefix="famd-api-"))


@defer.inlineCallbacks
def seed(storage, config):
    """user (id 1, admin, key), bob (id 2, key), carol (id 3, not activated)."""
    rows = [
        dict(username="user", password="secret", email="user@example.org", activated=True,
             admin=True, api_key=ADMIN_KEY, at=SEEDED),
        dict(username="bob", password="bobpass", activated=True, api_key=BOB_KEY,
             at=SEEDED + timedelta(minutes=5)),
        dict(username="carol", password="carolpass", at=SEEDED + timedelta(minutes=10)),
    ]
    for row in rows:
        at = row.pop("at")
        yield storage.create_account(new_account(
            config, at, row.pop("username"), row.pop("password"), "MD5",
            user_agent="seed", **row))


@defer.inlineCallbacks
def open_served_storage(test_case, config, beside=None):
    """The seeded storage of a new API, or one more on the database of C{beside}."""
    if beside is not None:
        return (yield open_storage(test_case, beside=beside.storage))
    storage = yield open_storage(test_case)
    yield seed(storage, config)
    return storage


def api_request(sip=USER, key=None, authorization=None, body=None, headers=None):
    """
    The headers and body of an API request as the tests send it: JSON, a
    From (C{sip}), an API key or an Authorization, more C{headers}.
    """
    all_headers = {b"Accept": [b"application/json"], b"Content-Type": [b"application/json"]}
    if sip is not None:
        all_headers[b"From"] = [sip.encode("utf-8") if isinstance(sip, str) else sip]
    if key is not None:
        all_headers[b"x-api-key"] = [key.encode("utf-8")]
    if authorization is not None:
        all_headers[b"Authorization"] = [authorization.encode("utf-8")]
    all_headers.update(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode("utf-8")
    return all_headers, body


@defer.inlineCallbacks
def call(url, method, path, **request):
    """Send an API request (see L{api_request}) to a daemon's C{url}: (status, headers, body bytes)."""
    headers, body = api_request(**request)
    response = yield treq.request(method, url + path, headers=headers, data=body, persistent=False)
    content = yield treq.content(response)
    return response.code, response.headers, content


# ---------------------------------------------------------------- a DIGEST client

_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,]*))')
_H = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def challenges(headers):
    """The WWW-Authenticate challenges of a response, as dicts."""
    found = []
    for raw in headers.getRawHeaders(b"www-authenticate") or []:
        text = raw.decode("utf-8")
        assert text.startswith("Digest "), text
        found.append({m[0]: m[1] or m[2] for m in _CHALLENGE_PARAM.findall(text[7:])})
    return found


def h(algorithm, text):
    return _H[algorithm](text.encode("utf-8")).hexdigest()


def answer(challenge, username, password, method, uri, nc=1, cnonce="0a4f113b", **override):
    """The Authorization header an RFC 7616 client sends for C{challenge}."""
    algorithm = challenge["algorithm"]
    fields = dict(username=username, realm=challenge["realm"], nonce=challenge["nonce"],
                  uri=uri, algorithm=algorithm, qop="auth", nc=nc if isinstance(nc, str) else "%08x" % (nc,),
                  cnonce=cnonce, opaque=challenge["opaque"])
    ha1 = h(algorithm, "%s:%s:%s" % (username, fields["realm"], password))
    ha2 = h(algorithm, "%s:%s" % (method, uri))
    fields["response"] = h(algorithm, ":".join(
        (ha1, fields["nonce"], fields["nc"], cnonce or "", "auth", ha2)))
    fields.update(override)
    quoted = ("username", "realm", "nonce", "uri", "cnonce", "response", "opaque")
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        parts.append('%s="%s"' % (name, value) if name in quoted else "%s=%s" % (name, value))
    return "Digest " + ",".join(parts)


@defer.inlineCallbacks
def challenge_for(served, path="/accounts/me", sip=USER, algorithm=None):
    """Ask for a challenge (an unauthenticated request); fire with it."""
    code, headers, _ = yield served.request("GET", path, sip=sip)
    assert code == 401, code
    offered = challenges(headers)
    if algorithm is None:
        return offered[0]
    return [c for c in offered if c["algorithm"] == algorithm][0]


@defer.inlineCallbacks
def fake_cli_with_devices(test_case, address="bob@sip.example.org"):
    """
    A fake Flexisip CLI (L{famd.testing.flexisip_cli.FakeFlexisipCLI}) on a
    fresh unix socket, holding two devices of C{address} (``1111-aaaa``,
    Android, and ``2222-bbbb``, iOS), stopped and removed at the test's end.

    @return: a Deferred firing with (the fake, the socket's path).
    """
    folder = tempfile.mkdtemp(prefix="famd-")
    test_case.addCleanup(shutil.rmtree, folder, True)
    socket = os.path.join(folder, "cli")
    fake = FakeFlexisipCLI(reactor)
    test_case.addCleanup(fake.stop)
    yield fake.listen(socket)
    fake.records.register(address, registration("1111-aaaa"))
    fake.records.register(address, registration("2222-bbbb", IOS_UA))
    return fake, socket
