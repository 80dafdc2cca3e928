"""
FAM 2.x's linking of an e-mail address or a phone number by code, and what
authenticates where: a not yet activated account proves itself (DIGEST or
key) to the four linking routes only, a blocked account nowhere; one
``me/email/request`` mails both the 2021 link and the 2.x code, either
confirms; codes expire (410) and activate the account.  On every storage
engine, through the real resource tree, SMTP server and OVH API fakes.
"""

import email
import json
import re
from email import policy

from twisted.internet import defer
from twisted.trial import unittest

from tests.api_helpers import (
    ADMIN_KEY, BOB, BOB_KEY, CAROL, USER, answer, challenge_for, challenges,
)
from tests.engines import on_engines
from tests.flows_fixtures import mailed_link, ovh_server, sms_code, smtp_server
from tests.serving import serve

PHONE = "+33612345678"
ME = "/api/accounts/me"
LINKING = ("/accounts/me/phone/request", "/accounts/me/phone",
           "/accounts/me/email/request", "/accounts/me/email")
BLOCKED = {"message": "Account blocked"}
UNVALIDATED = {"message": "Account unvalidated"}
WRONG_CODE = {"code": ["The code should be valid"]}
EXPIRED = {"message": "Expired code"}
AGENT = b"LinphoneAndroid/6.0.1 (Pixel) LinphoneSDK/5.4"


def mailed_code(raw):
    """The 4-digit code alone on its line in the plain-text part of a raw message."""
    message = email.message_from_bytes(raw, policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"^([0-9]{4})$", text, re.MULTILINE).group(1)


def link_consumed_token(storage, account_id, used=True):
    """A ``tokens`` row consumed for the account, as FAM 2.x's creation routes leave it."""

    def insert_txn(txn):
        txn.insert("tokens", {"token": "T" * 13, "pn_provider": "", "pn_param": "", "pn_prid": "",
                              "used": used, "account_id": account_id})

    return storage.write("test_link_token", insert_txn)


def block(storage, account_id):
    """Set ``accounts.blocked`` as an administrator (or FAM's blocking service) would."""

    def block_txn(txn):
        txn.execute('UPDATE "accounts" SET "blocked" = ? WHERE "id" = ?', (True, account_id))

    return storage.write("test_block", block_txn)


class Digest:
    """DIGEST requests as a fresh app sends them: a challenge, then its answer."""

    @defer.inlineCallbacks
    def digest(self, method, path, sip=CAROL, username="carol", password="carolpass", body=None):
        """Fire with (status, decoded body or None, headers) of C{path} answered by DIGEST."""
        code, headers, _ = yield self.served.request(method, path, sip=sip, body=body)
        self.assertEqual(code, 401)
        challenge = challenges(headers)[0]
        authorization = answer(challenge, username, password, method, "/api" + path)
        code, body, headers = yield self.served.json(
            method, path, sip=sip, authorization=authorization, body=body,
            headers={b"User-Agent": [AGENT]})
        return code, body, headers


class UnactivatedTests(Digest, unittest.TestCase):
    """A not yet activated account (carol) authenticates to the four linking routes only."""

    @defer.inlineCallbacks
    def setUp(self):
        self.ovh, sms = ovh_server(self)
        self.delivery, mail = smtp_server(self)
        self.served = yield serve(self, sms=sms, email=mail)
        self.carol = (yield self.served.storage.find_account("carol", "sip.example.org")).id

    @defer.inlineCallbacks
    def test_linking_routes_authenticate_it(self):
        """DIGEST proves carol on each linking route: no code pending is 404, an unvalidated request 403."""
        for path in ("/accounts/me/phone", "/accounts/me/email"):
            code, body, _ = yield self.digest("POST", path, body={"code": "1234"})
            self.assertEqual(code, 404, path)
        code, body, _ = yield self.digest("POST", "/accounts/me/phone/request", body={"phone": PHONE})
        self.assertEqual((code, body), (403, UNVALIDATED))
        code, body, _ = yield self.digest("POST", "/accounts/me/email/request",
                                          body={"email": "carol@example.org"})
        self.assertEqual((code, body), (403, UNVALIDATED))
        self.assertEqual((self.ovh.jobs, self.delivery.messages), ([], []))

    @defer.inlineCallbacks
    def test_other_routes_refuse_it(self):
        """GET accounts/me and the password change still refuse carol as in 2021 (401, a challenge)."""
        challenge = yield challenge_for(self.served, sip=CAROL)
        code, headers, body = yield self.served.request(
            "GET", "/accounts/me", sip=CAROL, authorization=answer(challenge, "carol", "carolpass", "GET", ME))
        self.assertEqual((code, json.loads(body)), (401, {"message": "Unauthenticated request"}))
        self.assertTrue(challenges(headers))
        code, _, _ = yield self.served.request(
            "POST", "/accounts/me/password", sip=CAROL,
            authorization=answer(challenge, "carol", "carolpass", "POST", ME + "/password", nc=2),
            body={"algorithm": "MD5", "password": "another", "old_password": "carolpass"})
        self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_wrong_password_still_refused(self):
        """A wrong DIGEST answer on a linking route is 401, unactivated or not."""
        code, headers, _ = yield self.served.request("POST", "/accounts/me/phone", sip=CAROL)
        challenge = challenges(headers)[0]
        code, _, _ = yield self.served.request(
            "POST", "/accounts/me/phone", sip=CAROL, body={"code": "1234"},
            authorization=answer(challenge, "carol", "wrong", "POST", ME + "/phone"))
        self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_phone_sign_up(self):
        """With a consumed creation token: phone request, SMS code, activation; then GET accounts/me works."""
        yield link_consumed_token(self.served.storage, self.carol)
        code, body, _ = yield self.digest("POST", "/accounts/me/phone/request", body={"phone": PHONE})
        self.assertEqual((code, body), (200, {}))
        pending = yield self.served.storage.phone_change(self.carol)
        self.assertEqual(pending.created_at, self.served.now())
        code, body, _ = yield self.digest("POST", "/accounts/me/phone",
                                          body={"code": sms_code(self.ovh.jobs[0])})
        self.assertEqual((code, body["phone"], body["activated"]), (200, PHONE, True))
        self.assertIn("creation_time", body)  # the 2021 shape
        challenge = yield challenge_for(self.served, sip=CAROL)
        code, _, body = yield self.served.request(
            "GET", "/accounts/me", sip=CAROL, authorization=answer(challenge, "carol", "carolpass", "GET", ME))
        self.assertEqual((code, json.loads(body)["activated"]), (200, True))

    @defer.inlineCallbacks
    def test_email_sign_up(self):
        """With a consumed creation token: e-mail request, mailed code, activation, the 2.x account."""
        yield link_consumed_token(self.served.storage, self.carol)
        code, body, _ = yield self.digest("POST", "/accounts/me/email/request",
                                          body={"email": "carol@example.org"})
        self.assertEqual((code, body), (200, {}))
        [(_, recipient, raw)] = self.delivery.messages
        code, body, headers = yield self.digest("POST", "/accounts/me/email",
                                                body={"code": mailed_code(raw)})
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"application/json"])
        self.assertEqual((body["email"], body["activated"], body["sip_uri"], body["email_change_code"]),
                         ("carol@example.org", True, "sip:carol@sip.example.org", None))
        self.assertNotIn("creation_time", body)

    @defer.inlineCallbacks
    def test_unused_token_does_not_validate(self):
        """A token naming the account but never used leaves it unvalidated."""
        yield link_consumed_token(self.served.storage, self.carol, used=False)
        code, body, _ = yield self.digest("POST", "/accounts/me/phone/request", body={"phone": PHONE})
        self.assertEqual((code, body), (403, UNVALIDATED))

    @defer.inlineCallbacks
    def test_api_key(self):
        """An API key proves a not activated account to the linking routes only."""
        yield self.served.storage.set_api_key(self.carol, "carolkey", self.served.now())
        code, body, _ = yield self.served.json("POST", "/accounts/me/email", sip=CAROL, key="carolkey",
                                               body={"code": "1234"})
        self.assertEqual(code, 404)
        code, _, _ = yield self.served.json("GET", "/accounts/me", sip=CAROL, key="carolkey")
        self.assertEqual(code, 401)


class BlockedTests(Digest, unittest.TestCase):
    """A blocked account authenticates nowhere: 403 once proven, on 2021 and 2.x routes."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)
        yield block(self.served.storage, 2)
        yield block(self.served.storage, 1)

    @defer.inlineCallbacks
    def test_key(self):
        """With its API key, every user route and the admin routes answer 403 Account blocked."""
        for method, path in (("GET", "/accounts/me"), ("DELETE", "/accounts/me"),
                             ("POST", "/accounts/me/password"), ("POST", "/accounts/me/email"),
                             ("POST", "/accounts/me/phone"), ("GET", "/accounts/me/devices")):
            code, body, _ = yield self.served.json(method, path, sip=BOB, key=BOB_KEY, body={})
            self.assertEqual((code, body), (403, BLOCKED), path)
        code, body, _ = yield self.served.json("GET", "/accounts", sip=USER, key=ADMIN_KEY)
        self.assertEqual((code, body), (403, BLOCKED))
        self.assertTrue((yield self.served.storage.find_account("bob", "sip.example.org")))

    @defer.inlineCallbacks
    def test_digest(self):
        """A right DIGEST answer gets 403 Account blocked, a wrong one 401."""
        code, body, _ = yield self.digest("GET", "/accounts/me", sip=BOB, username="bob",
                                          password="bobpass")
        self.assertEqual((code, body), (403, BLOCKED))
        code, body, _ = yield self.digest("POST", "/accounts/me/email", sip=BOB, username="bob",
                                          password="bobpass", body={"code": "1234"})
        self.assertEqual((code, body), (403, BLOCKED))
        code, _, _ = yield self.digest("GET", "/accounts/me", sip=BOB, username="bob",
                                       password="wrong")
        self.assertEqual(code, 401)

    @defer.inlineCallbacks
    def test_wrong_key(self):
        """Without the proof a blocked account is challenged like any other (nothing said of the block)."""
        code, body, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key="not-the-key")
        self.assertEqual((code, body), (401, {"message": "Unauthenticated request"}))


class EmailCodeTests(unittest.TestCase):
    """POST /api/accounts/me/email/request, then POST /api/accounts/me/email or the link."""

    @defer.inlineCallbacks
    def setUp(self):
        self.delivery, self.mail = smtp_server(self)
        self.served = yield serve(self, email=self.mail)

    @defer.inlineCallbacks
    def request(self, new="bob@example.org"):
        code, body, _ = yield self.served.json(
            "POST", "/accounts/me/email/request", sip=BOB, key=BOB_KEY, body={"email": new},
            headers={b"User-Agent": [AGENT]})
        self.assertEqual((code, body), (200, {}))
        raw = self.delivery.messages[-1][2]
        return mailed_code(raw), mailed_link(raw)[1]

    def confirm(self, code):
        return self.served.json("POST", "/accounts/me/email", sip=BOB, key=BOB_KEY, body={"code": code})

    def open_link(self, secret):
        return self.served.json("GET", "/accounts/me/email/confirm/" + secret, sip=None)

    @defer.inlineCallbacks
    def test_code_confirms_once(self):
        """The mailed code sets the e-mail, answers the 2.x account, and voids the link; it works once."""
        code, secret = yield self.request()
        pending = yield self.served.storage.email_code(2)
        self.assertEqual((pending.email, pending.user_agent), ("bob@example.org", AGENT.decode()))
        self.assertIsNotNone(pending.ip)
        status, body, _ = yield self.confirm(code)
        self.assertEqual((status, body["email"], body["activated"], body["blocked"], body["admin"]),
                         (200, "bob@example.org", True, False, False))
        self.assertEqual(body["passwords"], [{"algorithm": "MD5"}])
        status, _, _ = yield self.confirm(code)
        self.assertEqual(status, 404)
        status, _, _ = yield self.open_link(secret)
        self.assertEqual(status, 404)
        _, me, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY)
        self.assertEqual((me["email"], me["email_changed"]), ("bob@example.org", None))

    @defer.inlineCallbacks
    def test_link_voids_code(self):
        """The 2021 link of the same message confirms too, and the code is then unknown."""
        code, secret = yield self.request()
        status, body, _ = yield self.open_link(secret)
        self.assertEqual((status, body["email"]), (200, "bob@example.org"))
        status, _, _ = yield self.confirm(code)
        self.assertEqual(status, 404)

    @defer.inlineCallbacks
    def test_new_request_replaces_code(self):
        """Only the newest request's code works."""
        first, _ = yield self.request("first@example.org")
        second, _ = yield self.request("second@example.org")
        if first != second:
            status, body, _ = yield self.confirm(first)
            self.assertEqual((status, body["errors"]), (422, WRONG_CODE))
        status, body, _ = yield self.confirm(second)
        self.assertEqual((status, body["email"]), (200, "second@example.org"))

    @defer.inlineCallbacks
    def test_wrong_code(self):
        """A wrong code is 422 and leaves the right one usable until code_tries wrong ones void it."""
        self.served = yield serve(self, email=self.mail, throttle={"code_tries": 3})
        code, _ = yield self.request()
        wrong = "%04d" % ((int(code) + 1) % 10000,)
        status, body, _ = yield self.confirm(wrong)
        self.assertEqual((status, body), (422, {"message": "The given data was invalid.",
                                               "errors": WRONG_CODE}))
        status, _, _ = yield self.confirm(code)
        self.assertEqual(status, 200)
        code, _ = yield self.request("again@example.org")
        wrong = "%04d" % ((int(code) + 1) % 10000,)
        for _ in range(3):
            status, _, _ = yield self.confirm(wrong)
            self.assertEqual(status, 422)
        status, _, _ = yield self.confirm(code)
        self.assertEqual(status, 404)

    @defer.inlineCallbacks
    def test_wrong_codes_are_wrong_secrets(self):
        """After wrong_secrets wrong codes the address gets 429 with Retry-After."""
        self.served = yield serve(self, email=self.mail, throttle={"wrong_secrets": 2})
        code, _ = yield self.request()
        wrong = "%04d" % ((int(code) + 1) % 10000,)
        for _ in range(2):
            status, _, _ = yield self.confirm(wrong)
            self.assertEqual(status, 422)
        status, _, headers = yield self.confirm(code)
        self.assertEqual((status, headers.getRawHeaders(b"retry-after")), (429, [b"900"]))

    @defer.inlineCallbacks
    def test_expired_code(self):
        """After email_change_code_lifetime the code is 410 Expired code, then unknown; the link still works."""
        code, secret = yield self.request()
        self.served.clock.advance(600 + 1)
        status, body, _ = yield self.confirm(code)
        self.assertEqual((status, body), (410, EXPIRED))
        status, _, _ = yield self.confirm(code)
        self.assertEqual(status, 404)
        status, _, _ = yield self.open_link(secret)
        self.assertEqual(status, 200)

    @defer.inlineCallbacks
    def test_code_rules(self):
        """The code is required and exactly 4 digits; nothing pending is 404."""
        for sent, message in ((None, "The code field is required."), ("12a4", "The code must be 4 digits."),
                              ("12345", "The code must be 4 digits."), (1234, "The code must be 4 digits.")):
            status, body, _ = yield self.confirm(sent)
            self.assertEqual((status, body["errors"]), (422, {"code": [message]}), sent)
        status, body, _ = yield self.confirm("1234")
        self.assertEqual(status, 404)

    @defer.inlineCallbacks
    def test_mail_failure_leaves_nothing(self):
        """When the message is not accepted neither the link nor the code stays pending."""
        from tests.flows_fixtures import smtp_down
        served = yield serve(self, email=smtp_down())
        status, _, _ = yield served.json("POST", "/accounts/me/email/request", sip=BOB, key=BOB_KEY,
                                         body={"email": "bob@example.org"})
        self.assertEqual(status, 503)
        self.assertIsNone((yield served.storage.email_code(2)))
        self.assertIsNone((yield served.storage.get_account(2)).email_changed)


class PhoneExpiryTests(unittest.TestCase):
    """The 2021 POST /api/accounts/me/phone with FAM 2.x's expiry and origin."""

    @defer.inlineCallbacks
    def setUp(self):
        self.ovh, sms = ovh_server(self)
        self.served = yield serve(self, sms=sms)

    @defer.inlineCallbacks
    def test_expired_code(self):
        """After phone_change_code_lifetime the code is 410 Expired code, then 404."""
        yield self.served.json("POST", "/accounts/me/phone/request", sip=BOB, key=BOB_KEY,
                               body={"phone": PHONE})
        self.served.clock.advance(600 + 1)
        code = sms_code(self.ovh.jobs[0])
        status, body, _ = yield self.served.json("POST", "/accounts/me/phone", sip=BOB, key=BOB_KEY,
                                                 body={"code": code})
        self.assertEqual((status, body), (410, EXPIRED))
        status, _, _ = yield self.served.json("POST", "/accounts/me/phone", sip=BOB, key=BOB_KEY,
                                              body={"code": code})
        self.assertEqual(status, 404)

    @defer.inlineCallbacks
    def test_origin_kept(self):
        """The pending change row keeps the client's address and User-Agent."""
        yield self.served.json("POST", "/accounts/me/phone/request", sip=BOB, key=BOB_KEY,
                               body={"phone": PHONE}, headers={b"User-Agent": [AGENT]})

        def origin_txn(txn):
            return txn.one('SELECT "ip", "user_agent" FROM "phone_change_codes" WHERE "account_id" = ?', (2,))

        ip, agent = yield self.served.storage.read("test_origin", origin_txn)
        self.assertEqual(agent, AGENT.decode())
        self.assertTrue(ip)


globals().update(on_engines(UnactivatedTests, BlockedTests, EmailCodeTests, PhoneExpiryTests))
