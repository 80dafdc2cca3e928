"""
The examples of the API page (``famd/api/examples.json``) are real
exchanges with famd, recorded by L{tests.serving.Recorder}, and cannot rot:
this test replays them and compares famd's answers with the committed file,
ignoring what changes from run to run (ids, times, tokens, keys, nonces),
and checks that each is keyed by an operation and a status of the generated
OpenAPI document.

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
from famd.api.openapi import document
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, USER, challenge_for
from famd.testing.storage_contract import new
from tests.flows_fixtures import ovh_server, pusher, sms_code, smtp_server
from tests.serving import Recorder, serve
from tests.test_api_linking import mailed_code
from tests.test_openapi_routes import applications

EXAMPLES_FILE = os.path.join(os.path.dirname(famd.api.__file__), "examples.json")
WRITE = os.environ.get("FAMD_WRITE_EXAMPLES") == "1"

VOLATILE_KEYS = frozenset((
    "id", "confirmation_key", "provisioning_token", "api_key", "token", "code", "nonce",
    "created_at", "updated_at", "expires", "expires_at", "expire_at", "confirmation_key_expires",
    "provisioning_token_expire_at", "activation_expires",
    "account_creation_token", "account_creation_request_token",
))
NEW_BOB_PASSWORD = "n3wbobpass"
LINPHONE = {b"X-Linphone-Provisioning": [b"1"]}
PUSHED_DEVICE = {"pn_provider": "fcm", "pn_param": "ABCD1234", "pn_prid": "device-token-1"}
_VOLATILE_DIGEST = re.compile(r'(nonce|opaque|response|cnonce)="[^"]*"')
_VOLATILE_URL_TOKEN = re.compile(
    r'(/creation_token/check/|/auth_token/|/api_key/|/provisioning/(?!me\b))[^/?#"\s]+')
_VOLATILE_XML = re.compile(r'(<entry name="(?:ha1|passwd|password)"[^>]*>)[^<]*(</entry>)')
_BARE_KEY = re.compile(r'^[A-Za-z0-9]{40}$')


def normalised(value):
    """C{value} (a recorded exchange or a part of it) with its volatile values blanked."""
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE_KEYS and v is not None else normalised(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str):
        if _BARE_KEY.match(value):  # an API key answered as the raw body
            return "<volatile>"
        value = _VOLATILE_DIGEST.sub(r'\1="<volatile>"', value)
        value = _VOLATILE_XML.sub(r'\1<volatile>\2', value)
        return _VOLATILE_URL_TOKEN.sub(r'\1<volatile>', value)
    return value


@defer.inlineCallbacks
def record(test_case):
    """Run the example exchanges on a fresh seeded famd; fire with the recorded examples."""
    recorder = Recorder()
    push_fake, push = pusher(test_case)
    delivery, mail = smtp_server(test_case)
    ovh, sms = ovh_server(test_case)
    served = (yield serve(test_case, push=push, email=mail, sms=sms)).recording(recorder)

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
    yield record_2x(served, step, push_fake, delivery)
    yield record_more(served, recorder, step, push_fake, ovh)
    # A DIGEST answer, after the challenge the 401 above shows.
    challenge = yield challenge_for(served, sip=BOB)
    from tests.api_helpers import answer
    authorization = answer(challenge, "bob", NEW_BOB_PASSWORD, "DELETE", "/api/accounts/me")
    yield step("/accounts/me", "DELETE", "/accounts/me", sip=BOB, authorization=authorization)
    return recorder.exchanges


@defer.inlineCallbacks
def record_2x(served, step, push_fake, delivery):
    """
    The FAM 2.x operations Linphone apps and tools call, in the order an app
    meets them; C{push_fake} and C{delivery} carry what famd pushes and mails.
    """
    admin = dict(sip=USER, key=ADMIN_KEY)
    agent = {b"User-Agent": [b"LinphoneAndroid/6.0.5 (Pixel 7) LinphoneSDK/5.4.0"]}
    # A mobile app: a token pushed to the device, then the account made with it.
    yield step("/account_creation_tokens/send-by-push", "POST", "/account_creation_tokens/send-by-push",
               sip=None, headers=agent, body=PUSHED_DEVICE)
    pushed = push_fake.pushed()[-1][3]["token"]
    yield step("/accounts/with-account-creation-token", "POST", "/accounts/with-account-creation-token",
               sip=None, headers=agent, body={
                   "username": "mobileuser", "password": "s3cret!", "algorithm": "SHA-256",
                   "account_creation_token": pushed})
    # The same token again: used, so the Laravel 422 of FAM 2.x.
    yield step("/accounts/with-account-creation-token", "POST", "/accounts/with-account-creation-token",
               sip=None, headers=agent, body={
                   "username": "mobileuser2", "password": "s3cret!", "algorithm": "SHA-256",
                   "account_creation_token": pushed})
    # A desktop app: a request token a person validates on a page, polled meanwhile.
    _, _, requested = yield step("/account_creation_request_tokens", "POST",
                                 "/account_creation_request_tokens", sip=None)
    request_token = json.loads(requested)["token"]
    poll = dict(sip=None, body={"account_creation_request_token": request_token})
    yield step("/account_creation_tokens/using-account-creation-request-token", "POST",
               "/account_creation_tokens/using-account-creation-request-token", **poll)
    yield served.storage.validate_request_token(request_token, None, None, served.now())
    yield step("/account_creation_tokens/using-account-creation-request-token", "POST",
               "/account_creation_tokens/using-account-creation-request-token", **poll)
    # An account links an e-mail address by a mailed code.
    yield step("/accounts/me/email/request", "POST", "/accounts/me/email/request", sip=BOB, key=BOB_KEY,
               body={"email": "bob@example.org"})
    code = mailed_code(delivery.messages[-1][2])
    yield step("/accounts/me/email", "POST", "/accounts/me/email", sip=BOB, key=BOB_KEY,
               body={"code": code})
    yield step("/accounts/me/provision", "GET", "/accounts/me/provision", sip=BOB, key=BOB_KEY)
    # A QR-code login starts with an anonymous auth token.
    yield step("/accounts/auth_token", "POST", "/accounts/auth_token", sip=None, headers=agent)
    # An administrator's tools.
    yield step("/accounts/{account_id}", "PUT", "/accounts/3", body={
        "username": "carol", "display_name": "Carol C.", "email": "carol@example.org",
        "dtmf_protocol": "rfc2833"}, **admin)
    yield step("/accounts/{account_id}", "PUT", "/accounts/3", body={
        "username": "ab", "algorithm": "SHA-1", "dtmf_protocol": "morse"}, **admin)
    yield step("/accounts/{account_id}/block", "POST", "/accounts/3/block", **admin)
    yield step("/accounts/{sip}/search", "GET", "/accounts/carol@sip.example.org/search", **admin)


@defer.inlineCallbacks
def record_more(served, recorder, step, push_fake, ovh):
    """
    The other operations with a success example: 2021 signup and activation,
    password and phone changes, creation and recovery tokens, the QR login's
    attach and API key trades, the administrator's account actions and the
    provisioning documents.  Bob's API key is renewed last: later steps
    authenticate by DIGEST.
    """
    admin = dict(sip=USER, key=ADMIN_KEY)
    bob = dict(sip=BOB, key=BOB_KEY)
    agent = {b"User-Agent": [b"LinphoneAndroid/6.0.5 (Pixel 7) LinphoneSDK/5.4.0"]}
    # 2021's signup: a pushed token, then the account made with it.
    yield step("/tokens", "POST", "/tokens", sip=None, body=PUSHED_DEVICE)
    pushed = push_fake.pushed()[-1][3]["token"]
    yield step("/accounts/with-token", "POST", "/accounts/with-token", sip=None, body={
        "username": "olduser", "password": "s3cret!", "algorithm": "SHA-256", "token": pushed})
    # An account activated by the code it was mailed.
    yield served.storage.create_account(new("newcomer", confirmation_key="K" * 13))
    yield step("/accounts/{sip}/activate/email", "POST", "/accounts/newcomer@sip.example.org/activate/email",
               sip=None, body={"code": "K" * 13})
    yield step("/accounts/me/password", "POST", "/accounts/me/password", body={
        "algorithm": "MD5", "password": NEW_BOB_PASSWORD, "old_password": "bobpass"}, **bob)
    # A phone number linked by the code sent by SMS.
    yield step("/accounts/me/phone/request", "POST", "/accounts/me/phone/request",
               body={"phone": "+33612345678"}, **bob)
    yield step("/accounts/me/phone", "POST", "/accounts/me/phone",
               body={"code": sms_code(ovh.jobs[-1])}, **bob)
    # A creation token an administrator makes, consumed by an account.
    _, _, made = yield step("/account_creation_tokens", "POST", "/account_creation_tokens",
                            headers=agent, **admin)
    yield step("/account_creation_tokens/consume", "POST", "/account_creation_tokens/consume",
               body={"account_creation_token": json.loads(made)["token"]}, **bob)
    yield step("/account_recovery_tokens/send-by-push", "POST", "/account_recovery_tokens/send-by-push",
               sip=None, body=dict(PUSHED_DEVICE, pn_prid="device-token-2"))
    # The administrator's account actions.
    yield step("/accounts/{account_id}/unblock", "POST", "/accounts/3/unblock", **admin)
    yield step("/accounts/{account_id}/activate", "POST", "/accounts/3/activate", **admin)
    yield step("/accounts/{account_id}/deactivate", "POST", "/accounts/3/deactivate", **admin)
    _, _, provisioned = yield step("/accounts/{account_id}/provision", "GET", "/accounts/3/provision",
                                   **admin)
    yield step("/accounts/{email}/search-by-email", "GET", "/accounts/bob@example.org/search-by-email",
               **admin)
    yield step("/accounts/{account_id}/send_reset_password_email", "POST",
               "/accounts/2/send_reset_password_email", headers={b"User-Agent": [b"admin-tool/1.0"]},
               **admin)
    # The provisioning documents: one's own, and by the provisioning token just issued.
    recorder.label("/provisioning/me")
    yield served.request("GET", "/me", base="/provisioning", headers=LINPHONE, **bob)
    recorder.label("/provisioning/{key}")
    yield served.request("GET", "/" + json.loads(provisioned)["provisioning_token"], base="/provisioning",
                         sip=None, headers=LINPHONE)
    # The QR login: an auth token attached by bob, traded for a new key; then bob renews his key.
    _, _, made = yield served.request("POST", "/accounts/auth_token", sip=None, headers=agent)
    auth_token = json.loads(made)["token"]
    yield step("/accounts/auth_token/{token}/attach", "GET", "/accounts/auth_token/%s/attach" % (auth_token,),
               **bob)
    _, _, traded = yield step("/accounts/me/api_key/{token}", "GET", "/accounts/me/api_key/" + auth_token,
                              sip=None)
    yield step("/accounts/me/api_key", "GET", "/accounts/me/api_key", sip=BOB,
               key=json.loads(traded)["api_key"])


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

    def test_keys_are_documented(self):
        """Every example is keyed by an operation of the generated document and a status it declares."""
        built, config = applications()
        paths = document(built, config)["paths"]
        for key in load_examples():
            method, path, status = key.split(" ")
            self.assertIn(path, paths, key)
            self.assertIn(method.lower(), paths[path], key)
            self.assertIn(status, paths[path][method.lower()]["responses"], key)

    def test_normalised(self):
        """Ids, times, tokens and DIGEST nonces are blanked, other values kept."""
        self.assertEqual(
            normalised({"id": 3, "username": "bob", "created_at": None,
                        "h": ['Digest realm="r",nonce="abc",opaque="x"']}),
            {"id": "<volatile>", "username": "bob", "created_at": None,
             "h": ['Digest realm="r",nonce="<volatile>",opaque="<volatile>"']})
        self.assertEqual(
            normalised({"validation_url": "http://famd.test/creation_token/check/Lbjo5InzZveVb"}),
            {"validation_url": "http://famd.test/creation_token/check/<volatile>"})
        self.assertEqual(
            normalised({"target": "/api/accounts/auth_token/abc/attach", "t": "/provisioning/xyz",
                        "m": "/provisioning/me", "k": "A" * 40,
                        "x": '<entry name="ha1">f29b</entry><entry name="username">bob</entry>'}),
            {"target": "/api/accounts/auth_token/<volatile>/attach", "t": "/provisioning/<volatile>",
             "m": "/provisioning/me", "k": "<volatile>",
             "x": '<entry name="ha1"><volatile></entry><entry name="username">bob</entry>'})
        self.assertIsInstance(render({"paths": {}}, {}), bytes)
