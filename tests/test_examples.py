"""
The examples of the API page (``famd/api/examples.json``) are real
exchanges with famd, recorded by L{tests.serving.Recorder}, and cannot rot:
this test replays them and compares famd's answers with the committed file,
ignoring what changes from run to run (ids, times, tokens, keys, nonces).

To record them again after a deliberate change of an answer::

    FAMD_WRITE_EXAMPLES=1 .venv/bin/python -m twisted.trial tests.test_examples
"""

import json
import os
import re

from twisted.internet import defer
from twisted.trial import unittest

import famd.api
from famd.api.docs_page import load_examples, render
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, USER, challenge_for
from tests.serving import Recorder, serve

EXAMPLES_FILE = os.path.join(os.path.dirname(famd.api.__file__), "examples.json")
WRITE = os.environ.get("FAMD_WRITE_EXAMPLES") == "1"

VOLATILE_KEYS = frozenset((
    "id", "confirmation_key", "provisioning_token", "api_key", "token", "code", "nonce",
    "created_at", "updated_at", "expires", "expires_at", "expire_at", "confirmation_key_expires",
    "provisioning_token_expire_at", "activation_expires",
))
_VOLATILE_DIGEST = re.compile(r'(nonce|opaque|response|cnonce)="[^"]*"')


def normalised(value):
    """C{value} (a recorded exchange or a part of it) with its volatile values blanked."""
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE_KEYS and v is not None else normalised(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str):
        return _VOLATILE_DIGEST.sub(r'\1="<volatile>"', value)
    return value


@defer.inlineCallbacks
def record(test_case):
    """Run the example exchanges on a fresh seeded famd; fire with the recorded examples."""
    recorder = Recorder()
    served = (yield serve(test_case)).recording(recorder)

    def step(template, method, path, **request):
        recorder.label("/api" + template)
        return served.request(method, path, **request)

    admin = dict(sip=USER, key=ADMIN_KEY)
    yield step("/ping", "GET", "/ping", sip=None)
    yield step("/accounts/me", "GET", "/accounts/me", sip=BOB)
    yield step("/accounts/me", "GET", "/accounts/me", sip=BOB, key=BOB_KEY)
    yield step("/accounts/{sip}/info", "GET", "/accounts/bob@sip.example.org/info", sip=None)
    yield step("/accounts", "POST", "/accounts", body={
        "username": "newuser", "password": "s3cret!", "algorithm": "SHA-256"}, **admin)
    yield step("/accounts", "POST", "/accounts", body={
        "username": "x", "password": "s3cret!", "algorithm": "SHA-1"}, **admin)
    yield step("/accounts", "GET", "/accounts?page=1", **admin)
    yield step("/accounts/{account_id}", "GET", "/accounts/2", **admin)
    yield step("/accounts/{account_id}", "GET", "/accounts/999", **admin)
    yield step("/accounts/{account_id}", "DELETE", "/accounts/4", **admin)
    yield step("/accounts/me/devices", "GET", "/accounts/me/devices", sip=BOB, key=BOB_KEY)
    # A DIGEST answer, after the challenge the 401 above shows.
    challenge = yield challenge_for(served, sip=BOB)
    from tests.api_helpers import answer
    authorization = answer(challenge, "bob", "bobpass", "DELETE", "/api/accounts/me")
    yield step("/accounts/me", "DELETE", "/accounts/me", sip=BOB, authorization=authorization)
    return recorder.exchanges


class ExamplesTests(unittest.TestCase):
    """The committed examples are what famd answers now."""

    @defer.inlineCallbacks
    def test_examples_match(self):
        """Replayed, every committed example gets the same answer (volatile values aside)."""
        recorded = yield record(self)
        if WRITE:
            with open(EXAMPLES_FILE, "w", encoding="utf-8") as f:
                json.dump(recorded, f, indent=1, ensure_ascii=False, sort_keys=True)
                f.write("\n")
        committed = load_examples()
        self.assertEqual(sorted(committed), sorted(recorded))
        for key in committed:
            self.assertEqual(normalised(committed[key]), normalised(recorded[key]), key)

    @defer.inlineCallbacks
    def test_shown_on_famd_page(self):
        """famd's own page shows every committed example under its operation."""
        served = yield serve(self)
        _, _, page = yield served.request("GET", "", sip=None)
        self.assertEqual(page.count(b"<figure>"), len(load_examples()))

    def test_normalised(self):
        """Ids, times, tokens and DIGEST nonces are blanked, other values kept."""
        self.assertEqual(
            normalised({"id": 3, "username": "bob", "created_at": None,
                        "h": ['Digest realm="r",nonce="abc",opaque="x"']}),
            {"id": "<volatile>", "username": "bob", "created_at": None,
             "h": ['Digest realm="r",nonce="<volatile>",opaque="<volatile>"']})
        self.assertIsInstance(render({"paths": {}}, {}), bytes)
