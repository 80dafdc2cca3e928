"""
The self-service changes of /api/accounts/me end to end: e-mail (through a
real in-process SMTP server, the link opened once, expiring with a Clock)
and password.  Phone changes are in L{tests.test_api_phone}, tokens in
L{tests.test_api_tokens}, activation in L{tests.test_api_activation}.  Every
class runs on each storage engine.
"""

import hashlib

from twisted.internet import defer
from twisted.trial import unittest

from tests.api_helpers import BOB, BOB_KEY, USER, ADMIN_KEY
from tests.engines import on_engines
from tests.flows_fixtures import captured_logs, mailed_link, smtp_down, smtp_server
from tests.serving import serve

NOT_SENT = {"message": "The confirmation e-mail could not be sent, try again later."}


class EmailChangeTests(unittest.TestCase):
    """POST /api/accounts/me/email/request and the mailed link."""

    @defer.inlineCallbacks
    def setUp(self):
        self.delivery, sender = smtp_server(self)
        self.served = yield serve(self, email=sender)

    def request(self, email, sip=BOB, key=BOB_KEY):
        return self.served.json("POST", "/accounts/me/email/request", sip=sip, key=key,
                                body={"email": email})

    def me(self):
        return self.served.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY)

    @defer.inlineCallbacks
    def test_link_applies_once(self):
        """The new address gets a link under public_url; opened once, it changes the e-mail."""
        logs = captured_logs(self)
        code, body, _ = yield self.request("bob@example.org")
        self.assertEqual((code, body), (200, {}))
        [(_, recipient, raw)] = self.delivery.messages
        self.assertEqual(recipient, "bob@example.org")
        link, secret = mailed_link(raw)
        self.assertTrue(link.startswith("http://127.0.0.1:8091/api/accounts/me/email/confirm/"))
        _, me, _ = yield self.me()
        self.assertEqual(me["email_changed"]["new_email"], "bob@example.org")
        self.assertEqual(me["email"], None)
        code, body, _ = yield self.served.json("GET", "/accounts/me/email/confirm/" + secret,
                                               sip=None)
        self.assertEqual((code, body["email"]), (200, "bob@example.org"))
        _, me, _ = yield self.me()
        self.assertEqual((me["email"], me["email_changed"]), ("bob@example.org", None))
        code, _, _ = yield self.served.json("GET", "/accounts/me/email/confirm/" + secret, sip=None)
        self.assertEqual(code, 404)
        self.assertFalse([line for line in logs if secret in line])

    @defer.inlineCallbacks
    def test_new_request_replaces_link(self):
        """A second request replaces the pending change: only the newest link works."""
        yield self.request("first@example.org")
        yield self.request("second@example.org")
        (_, _, first), (_, _, second) = self.delivery.messages
        code, _, _ = yield self.served.json("GET", "/accounts/me/email/confirm/" +
                                            mailed_link(first)[1], sip=None)
        self.assertEqual(code, 404)
        code, body, _ = yield self.served.json("GET", "/accounts/me/email/confirm/" +
                                               mailed_link(second)[1], sip=None)
        self.assertEqual((code, body["email"]), (200, "second@example.org"))

    @defer.inlineCallbacks
    def test_link_expires(self):
        """After email_change_lifetime the link is refused (403), then unknown (404)."""
        yield self.request("bob@example.org")
        secret = mailed_link(self.delivery.messages[0][2])[1]
        self.served.clock.advance(86400 + 1)
        path = "/accounts/me/email/confirm/" + secret
        code, body, _ = yield self.served.json("GET", path, sip=None)
        self.assertEqual((code, body), (403, {"message": "This link has expired: ask for the change again."}))
        code, _, _ = yield self.served.json("GET", path, sip=None)
        self.assertEqual(code, 404)
        _, me, _ = yield self.me()
        self.assertEqual((me["email"], me["email_changed"]), (None, None))

    @defer.inlineCallbacks
    def test_rules(self):
        """The address is required, valid, and different from the current one (2021 messages)."""
        code, body, _ = yield self.request("user@example.org", sip=USER, key=ADMIN_KEY)
        self.assertEqual((code, body["errors"]), (422, {"email": ["The selected email is invalid."]}))
        code, body, _ = yield self.request("not an address")
        self.assertEqual(body["errors"], {"email": ["The email must be a valid email address."]})
        code, body, _ = yield self.request(None)
        self.assertEqual(body["errors"], {"email": ["The email field is required."]})
        self.assertEqual(self.delivery.messages, [])

    @defer.inlineCallbacks
    def test_authenticated_only(self):
        """Without credentials the request is challenged and nothing is mailed."""
        code, _, _ = yield self.request("bob@example.org", key=None)
        self.assertEqual(code, 401)
        self.assertEqual(self.delivery.messages, [])


class EmailFailureTests(unittest.TestCase):
    """E-mail changes when no e-mail can be sent."""

    @defer.inlineCallbacks
    def test_smtp_down(self):
        """With the SMTP server down the answer is 503, logged, and nothing stays pending."""
        logs = captured_logs(self)
        served = yield serve(self, email=smtp_down())
        code, body, _ = yield served.json("POST", "/accounts/me/email/request", sip=BOB,
                                          key=BOB_KEY, body={"email": "bob@example.org"})
        self.assertEqual((code, body), (503, NOT_SENT))
        _, me, _ = yield served.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY)
        self.assertIsNone(me["email_changed"])
        self.assertTrue([line for line in logs if "e-mail change of account 2: e-mail not sent" in line])

    @defer.inlineCallbacks
    def test_email_off(self):
        """Without an e-mail backend the answer is 503."""
        served = yield serve(self)
        code, body, _ = yield served.json("POST", "/accounts/me/email/request", sip=BOB,
                                          key=BOB_KEY, body={"email": "bob@example.org"})
        self.assertEqual((code, body), (503, NOT_SENT))


class PasswordTests(unittest.TestCase):
    """POST /api/accounts/me/password."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    def change(self, **body):
        return self.served.json("POST", "/accounts/me/password", sip=BOB, key=BOB_KEY, body=body)

    @defer.inlineCallbacks
    def test_wrong_old_password(self):
        """A wrong old password gets the 2021 custom 422 shape and changes nothing."""
        code, body, _ = yield self.change(algorithm="MD5", password="newpass", old_password="nope")
        self.assertEqual((code, body), (422, {"errors": {"old_password": "Incorrect old password"}}))
        bob = yield self.served.storage.find_account("bob", "sip.example.org")
        self.assertEqual([p.algorithm for p in bob.passwords], ["MD5"])

    @defer.inlineCallbacks
    def test_missing_old_password(self):
        """A missing old password is the standard 422."""
        code, body, _ = yield self.change(algorithm="MD5", password="newpass")
        self.assertEqual((code, body), (422, {"message": "The given data was invalid.",
                                              "errors": {"old_password": ["The old password field is required."]}}))

    @defer.inlineCallbacks
    def test_new_password_rules(self):
        """Algorithm and a 6-character password are checked first."""
        code, body, _ = yield self.change(algorithm="SHA-1", password="new", old_password="bobpass")
        self.assertEqual(code, 422)
        self.assertEqual(list(body["errors"]), ["algorithm", "password"])

    @defer.inlineCallbacks
    def test_changed(self):
        """The right old password replaces every stored HA1 by the new one; the answer is []."""
        code, body, _ = yield self.change(algorithm="SHA-256", password="bobnew", old_password="bobpass")
        self.assertEqual((code, body), (200, []))
        bob = yield self.served.storage.find_account("bob", "sip.example.org")
        expected = hashlib.sha256(b"bob:sip.example.org:bobnew").hexdigest()
        self.assertEqual([(p.algorithm, p.password) for p in bob.passwords], [("SHA-256", expected)])
        code, body, _ = yield self.change(algorithm="MD5", password="bobnew2", old_password="bobnew")
        self.assertEqual(code, 200)


globals().update(on_engines(EmailChangeTests, EmailFailureTests, PasswordTests))
