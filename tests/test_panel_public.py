"""
The panel's public pages in-process (L{tests.panel_helpers}): sign-up by
e-mail (the ALTCHA check solved in Python, the mail read from a real SMTP
server, its link opened) and by phone (the code read from the fake OVH),
recovery by e-mail and by phone (also through a pushed recovery token),
and the reset-password page: statuses, CSRF refusals, storage effects,
no account enumeration, and the throttles.
"""

import email
import html
import json
import re
from datetime import timedelta
from email import policy
from urllib.parse import urlsplit

import altcha
from twisted.internet import defer
from twisted.trial import unittest

from famd.model import ALGORITHMS
from tests.engines import on_engines
from tests.flows_fixtures import ovh_server, smtp_down, smtp_server, sms_code
from tests.panel_helpers import serve_panel

_CHALLENGE = re.compile(r'challenge="([^"]*)"')
_NONCE = re.compile(r'name="human" value="([^"]*)"')
_TICKET = re.compile(r'name="ticket" value="([^"]*)"')
PHONE = "+33612345678"


def solved(page):
    """The human-check fields of a sign-up page, solved as the widget would."""
    challenge = altcha.Challenge.from_dict(json.loads(html.unescape(_CHALLENGE.search(page.text).group(1))))
    solution = altcha.solve_challenge(challenge, timeout=30)
    return {"human": _NONCE.search(page.text).group(1),
            "altcha": altcha.Payload(challenge, solution).to_base64()}


def plain_text(raw):
    """The plain-text part of a raw message."""
    return email.message_from_bytes(raw, policy=policy.default).get_body(
        preferencelist=("plain",)).get_content()


def ticket(page):
    return _TICKET.search(page.text).group(1)


SIGNUP = {"username": "newcomer", "password": "new-secret", "password_confirmation": "new-secret",
          "email": "newcomer@example.org"}


class SignUpByEmailTests(unittest.TestCase):
    """GET/POST /signup/email and /signup/activate."""

    settings = {"panel": {"signup": "email", "terms_url": "https://example.org/terms"},
                "signup": {"human_check_max_number": 20},
                "passwords": {"both_algorithms": True}}

    @defer.inlineCallbacks
    def setUp(self):
        self.delivery, sender = smtp_server(self)
        self.served, self.browser = yield serve_panel(self, email=sender, **self.settings)

    @defer.inlineCallbacks
    def sign_up(self, **changes):
        page = yield self.browser.get("/signup/email")
        self.assertEqual(page.status, 200)
        fields = dict(SIGNUP, terms="on", **solved(page))
        fields.update(changes)
        return (yield self.browser.post("/signup/email", fields))

    @defer.inlineCallbacks
    def test_end_to_end(self):
        """A sign-up stores a not activated account with both HA1s, mails a link that activates it, then login works."""
        page = yield self.browser.get("/register/email")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/signup/email"))
        page = yield self.browser.get("/signup/email")
        self.assertIn("altcha-widget", page.text)
        self.assertIn('src="/creation_token/assets/altcha.min.js"', page.text)
        self.assertIn('href="https://example.org/terms"', page.text)
        page = yield self.sign_up()
        self.assertEqual((page.status, page.header(b"location")), (303, b"/signup/sent"))
        account = yield self.served.storage.find_account("newcomer", "sip.example.org")
        self.assertEqual((account.activated, account.email), (False, "newcomer@example.org"))
        self.assertEqual(sorted(row.algorithm for row in account.passwords), sorted(ALGORITHMS))
        [(_, recipient, raw)] = self.delivery.messages
        self.assertEqual(recipient, "newcomer@example.org")
        link = re.search(r"(http://\S+/signup/activate\?\S+)", plain_text(raw)).group(1)
        self.assertIn(account.confirmation_key, link)
        parts = urlsplit(link)
        page = yield self.browser.get(parts.path + "?" + parts.query)
        self.assertEqual(page.status, 200)
        self.assertIn('value="%s"' % (account.confirmation_key,), page.text)
        page = yield self.browser.post("/signup/activate", {"username": "newcomer",
                                                            "code": account.confirmation_key})
        self.assertEqual((page.status, page.title()), (200, "Account activated"))
        self.assertTrue((yield self.served.storage.find_account("newcomer", "sip.example.org")).activated)
        page = yield self.browser.post("/signup/activate", {"username": "newcomer",
                                                            "code": account.confirmation_key})
        self.assertEqual(page.status, 404)
        page = yield self.browser.log_in("newcomer", "new-secret")
        self.assertEqual((page.status, page.header(b"location")), (303, b"/account"))

    @defer.inlineCallbacks
    def test_field_rules(self):
        """Bad fields re-render the form (422) with the API's messages, and nothing is stored or sent."""
        cases = [
            ({"username": "abc"}, "The username must be at least 6 characters."),
            ({"username": "+33612345678"}, "The username should not be a phone number"),
            ({"username": "bob"}, "The username must be at least 6 characters."),
            ({"password_confirmation": "other-secret"}, "The password confirmation does not match."),
            ({"password": "short", "password_confirmation": "short"},
             "The password must be at least 6 characters."),
            ({"email": "not-an-address"}, "The email must be a valid email address."),
            ({"email": "user@example.org"}, "The email has already been taken."),
            ({"terms": ""}, "Accept the terms of use to sign up."),
        ]
        for changes, message in cases:
            page = yield self.sign_up(**changes)
            self.assertEqual(page.status, 422, changes)
            self.assertIn(message, page.main_text())
            self.assertNotIn("new-secret", page.text)
        page = yield self.sign_up(username="user01")
        self.assertEqual(page.status, 303)
        page = yield self.sign_up(username="user01", email="other@example.org")
        self.assertIn("The username has already been taken.", page.main_text())
        self.assertEqual(len(self.delivery.messages), 1)

    @defer.inlineCallbacks
    def test_human_check(self):
        """A wrong or replayed proof of work is a 403 form, and creates nothing."""
        page = yield self.browser.get("/signup/email")
        fields = dict(SIGNUP, terms="on", **solved(page))
        page = yield self.browser.post("/signup/email", dict(fields, altcha="bm90aGluZw=="))
        self.assertEqual(page.status, 403)
        self.assertIn("The check did not pass", page.main_text())
        page = yield self.browser.post("/signup/email", fields)
        self.assertEqual(page.status, 303)
        page = yield self.browser.post("/signup/email", dict(fields, username="second",
                                                             email="second@example.org"))
        self.assertEqual(page.status, 403)
        self.assertIsNone((yield self.served.storage.find_account("second", "sip.example.org")))

    @defer.inlineCallbacks
    def test_csrf(self):
        """A sign-up posted without its CSRF field is refused with a 403 page, and creates nothing."""
        page = yield self.browser.get("/signup/email")
        fields = dict(SIGNUP, terms="on", **solved(page))
        page = yield self.browser.post("/signup/email", fields, csrf=False)
        self.assertEqual(page.status, 403)
        self.assertIsNone((yield self.served.storage.find_account("newcomer", "sip.example.org")))

    @defer.inlineCallbacks
    def test_wrong_activation_code(self):
        """A wrong activation code is a 404 form and counts as a wrong secret; the account stays not activated."""
        yield self.sign_up()
        yield self.browser.get("/signup/activate?username=newcomer&code=x")
        page = yield self.browser.post("/signup/activate", {"username": "newcomer", "code": "wrongwrongwro"})
        self.assertEqual(page.status, 404)
        self.assertIn("unknown or was already used", page.main_text())
        self.assertFalse((yield self.served.storage.find_account("newcomer", "sip.example.org")).activated)


class SignUpThrottleTests(unittest.TestCase):
    """The anonymous-write throttle and the sending failures of the sign-up."""

    @defer.inlineCallbacks
    def test_anonymous_writes(self):
        """Sign-up postings beyond throttle.anonymous_writes are a 429 page with Retry-After."""
        _, sender = smtp_server(self)
        _, browser = yield serve_panel(self, email=sender, panel={"signup": "both"},
                                       throttle={"anonymous_writes": 2})
        yield browser.get("/signup/email")
        for _ in range(2):
            page = yield browser.post("/signup/email", {"username": "x"})
            self.assertEqual(page.status, 422)
        page = yield browser.post("/signup/email", {"username": "x"})
        self.assertEqual(page.status, 429)
        self.assertTrue(int(page.header(b"retry-after")) > 0)
        self.assertEqual(page.title(), "Too many attempts")

    @defer.inlineCallbacks
    def test_mail_not_sent(self):
        """A confirmation e-mail that cannot be sent is a 503 page and no account stays."""
        served, browser = yield serve_panel(self, email=smtp_down(), panel={"signup": "email"},
                                            signup={"human_check_max_number": 20})
        page = yield browser.get("/signup/email")
        page = yield browser.post("/signup/email", dict(SIGNUP, **solved(page)))
        self.assertEqual(page.status, 503)
        self.assertIsNone((yield served.storage.find_account("newcomer", "sip.example.org")))

    @defer.inlineCallbacks
    def test_off(self):
        """With panel.signup none the sign-up pages are 404s; phone needs an SMS backend."""
        _, browser = yield serve_panel(self, panel={"signup": "none"})
        for path in ("/signup", "/signup/email", "/signup/phone"):
            self.assertEqual((yield browser.get(path)).status, 404)
        _, browser = yield serve_panel(self, panel={"signup": "both"})
        self.assertEqual((yield browser.get("/signup/phone")).status, 404)
        page = yield browser.get("/signup")
        self.assertIn("/signup/email", page.text)
        self.assertNotIn("/signup/phone", page.text)


class SignUpByPhoneTests(unittest.TestCase):
    """GET/POST /signup/phone and /signup/phone/confirm."""

    @defer.inlineCallbacks
    def setUp(self):
        self.ovh, sender = ovh_server(self)
        self.served, self.browser = yield serve_panel(
            self, sms=sender, panel={"signup": "phone"}, signup={"human_check_max_number": 20})

    @defer.inlineCallbacks
    def sign_up(self):
        page = yield self.browser.get("/signup/phone")
        self.assertEqual(page.status, 200)
        fields = {"username": "caller", "password": "call-secret",
                  "password_confirmation": "call-secret", "phone": PHONE}
        fields.update(solved(page))
        page = yield self.browser.post("/signup/phone", fields)
        self.assertEqual(page.status, 200)
        self.assertIn(PHONE, page.main_text())
        return page

    @defer.inlineCallbacks
    def test_code_activates(self):
        """The SMS code activates the account and makes the number its own; a wrong one leaves tries."""
        page = yield self.sign_up()
        account = yield self.served.storage.find_account("caller", "sip.example.org")
        self.assertFalse(account.activated)
        [job] = self.ovh.jobs
        self.assertEqual(job["receivers"], [PHONE])
        code = sms_code(job)
        fields = {"username": "caller", "phone": PHONE, "ticket": ticket(page)}
        wrong = "0000" if code != "0000" else "1111"
        page = yield self.browser.post("/signup/phone/confirm", dict(fields, code=wrong))
        self.assertEqual(page.status, 403)
        self.assertIn("2 attempts left", page.main_text())
        page = yield self.browser.post("/signup/phone/confirm", dict(fields, code=code))
        self.assertEqual((page.status, page.title()), (200, "Account activated"))
        account = yield self.served.storage.find_account("caller", "sip.example.org")
        self.assertEqual((account.activated, account.phone), (True, PHONE))

    @defer.inlineCallbacks
    def test_three_wrong_codes(self):
        """Three wrong codes void the code (410), and the right one no longer works."""
        page = yield self.sign_up()
        code = sms_code(self.ovh.jobs[0])
        wrong = "0000" if code != "0000" else "1111"
        fields = {"username": "caller", "phone": PHONE, "ticket": ticket(page)}
        statuses = []
        for _ in range(3):
            statuses.append((yield self.browser.post("/signup/phone/confirm", dict(fields, code=wrong))).status)
        self.assertEqual(statuses, [403, 403, 410])
        page = yield self.browser.post("/signup/phone/confirm", dict(fields, code=code))
        self.assertEqual(page.status, 410)
        self.assertFalse((yield self.served.storage.find_account("caller", "sip.example.org")).activated)

    @defer.inlineCallbacks
    def test_expired_code(self):
        """A code past phone_change_code_lifetime is a 410 page."""
        page = yield self.sign_up()
        self.served.clock.advance(601)
        page = yield self.browser.post("/signup/phone/confirm", {
            "username": "caller", "phone": PHONE, "ticket": ticket(page),
            "code": sms_code(self.ovh.jobs[0])})
        self.assertEqual((page.status, page.title()), (410, "Code expired"))


class RecoveryByEmailTests(unittest.TestCase):
    """/recovery/email, /recovery/confirm and /reset_password/{token}."""

    @defer.inlineCallbacks
    def setUp(self):
        self.delivery, sender = smtp_server(self)
        self.served, self.browser = yield serve_panel(self, email=sender)

    @defer.inlineCallbacks
    def ask(self, address):
        page = yield self.browser.get("/recovery/email")
        self.assertEqual(page.status, 200)
        return (yield self.browser.post("/recovery/email", {"email": address}))

    @defer.inlineCallbacks
    def test_recovery_sets_new_password(self):
        """The mailed code leads to a new-password form; the new password logs in, the old one no longer."""
        page = yield self.ask("user@example.org")
        self.assertEqual(page.status, 200)
        [(_, recipient, raw)] = self.delivery.messages
        self.assertEqual(recipient, "user@example.org")
        code = re.search(r"\b([0-9]{4})\b", plain_text(raw)).group(1)
        fields = {"method": "email", "destination": "user@example.org", "ticket": ticket(page)}
        page = yield self.browser.post("/recovery/confirm", dict(fields, code=code))
        self.assertEqual(page.status, 303)
        location = page.header(b"location").decode()
        self.assertTrue(location.startswith("/reset_password/"))
        page = yield self.browser.get(location)
        self.assertEqual((page.status, page.title()), (200, "Choose a new password"))
        page = yield self.browser.post(location, {"password": "brand-new", "password_confirmation": "other"})
        self.assertEqual(page.status, 422)
        page = yield self.browser.post(location, {"password": "brand-new", "password_confirmation": "brand-new"})
        self.assertEqual((page.status, page.title()), (200, "Password changed"))
        account = yield self.served.storage.find_account("user", "sip.example.org")
        self.assertEqual([row.algorithm for row in account.passwords], ["MD5"])
        self.assertEqual((account.email, account.email_changed), ("user@example.org", None))
        self.assertIsNone((yield self.served.storage.email_code(account.id)))
        self.assertEqual((yield self.browser.get(location)).status, 404)
        self.assertEqual((yield self.browser.log_in("user", "secret")).status, 403)
        self.assertEqual((yield self.browser.log_in("user", "brand-new")).status, 303)

    @defer.inlineCallbacks
    def test_no_enumeration(self):
        """An unknown address gets the same page, no mail, and its codes fail as wrong ones."""
        known = yield self.ask("user@example.org")
        unknown = yield self.ask("nobody@example.org")
        self.assertEqual(known.status, unknown.status)
        self.assertEqual(known.main_text().replace("user@", "nobody@"), unknown.main_text())
        self.assertEqual(len(self.delivery.messages), 1)
        fields = {"method": "email", "destination": "nobody@example.org", "ticket": ticket(unknown)}
        statuses = []
        for _ in range(3):
            statuses.append((yield self.browser.post("/recovery/confirm", dict(fields, code="1234"))).status)
        self.assertEqual(statuses, [403, 403, 410])

    @defer.inlineCallbacks
    def test_forged_ticket_and_csrf(self):
        """A forged ticket is a 410 page; a confirmation without CSRF field is a 403."""
        page = yield self.ask("user@example.org")
        fields = {"method": "email", "destination": "user@example.org", "ticket": ticket(page),
                  "code": "1234"}
        page = yield self.browser.post("/recovery/confirm", dict(fields, ticket="1.2.3"))
        self.assertEqual(page.status, 410)
        page = yield self.browser.post("/recovery/confirm", fields, csrf=False)
        self.assertEqual(page.status, 403)
        self.assertEqual((yield self.browser.post("/recovery/email", {"email": "user@example.org"},
                                                  csrf=False)).status, 403)

    @defer.inlineCallbacks
    def test_codes_are_throttled(self):
        """Wrong codes count as wrong secrets of the client: beyond the budget, a 429 page."""
        served, browser = yield serve_panel(self, email=smtp_server(self)[1],
                                            throttle={"wrong_secrets": 2})
        yield browser.get("/recovery/email")
        page = yield browser.post("/recovery/email", {"email": "user@example.org"})
        fields = {"method": "email", "destination": "user@example.org", "ticket": ticket(page),
                  "code": "99999"}
        for _ in range(2):
            yield browser.post("/recovery/confirm", fields)
        page = yield browser.post("/recovery/confirm", fields)
        self.assertEqual(page.status, 429)
        self.assertTrue(page.header(b"retry-after"))

    @defer.inlineCallbacks
    def test_emails_are_throttled(self):
        """Codes asked for one address beyond throttle.emails_per_destination are a 429 page, known or not."""
        served, browser = yield serve_panel(self, email=smtp_server(self)[1],
                                            throttle={"emails_per_destination": 1})
        yield browser.get("/recovery/email")
        for address in ("user@example.org", "nobody@example.org"):
            self.assertEqual((yield browser.post("/recovery/email", {"email": address})).status, 200)
            self.assertEqual((yield browser.post("/recovery/email", {"email": address})).status, 429)


class RecoveryByPhoneTests(unittest.TestCase):
    """/recovery/phone and /recovery/phone/{token} (a pushed account-recovery token)."""

    @defer.inlineCallbacks
    def setUp(self):
        self.ovh, sender = ovh_server(self)
        self.served, self.browser = yield serve_panel(self, sms=sender)
        from famd.accounts import new_account
        self.account_id = yield self.served.storage.create_account(new_account(
            self.served.config, self.served.now(), "phoned", "phone-pass", "SHA-256",
            activated=True, phone=PHONE))
        yield self.served.storage.add_recovery_token(
            "recoverytoken", "fcm", "app", "prid", "127.0.0.1", "test", self.served.now(),
            self.served.now() - timedelta(minutes=1))

    @defer.inlineCallbacks
    def test_token_page(self):
        """The token's page is prefilled from ?phone=, sends the code, spends the token, and the code leads to a new password."""
        page = yield self.browser.get("/recovery/phone/recoverytoken?phone=%2B33612345678")
        self.assertEqual(page.status, 200)
        self.assertIn('value="%s"' % (PHONE,), page.text)
        page = yield self.browser.get("/recovery/phone/recoverytoken?phone=+33612345678")
        self.assertIn('value="%s"' % (PHONE,), page.text)
        page = yield self.browser.post("/recovery/phone/recoverytoken", {"phone": "33612345678"})
        self.assertEqual(page.status, 422)
        self.assertIn("must start with one of the following: +", page.main_text())
        page = yield self.browser.post("/recovery/phone/recoverytoken", {"phone": PHONE})
        self.assertEqual(page.status, 200)
        [job] = self.ovh.jobs
        token = yield self.served.storage.recovery_token("recoverytoken", self.served.now() - timedelta(days=1))
        self.assertIsNone(token)
        self.assertEqual((yield self.browser.get("/recovery/phone/recoverytoken")).status, 404)
        page = yield self.browser.post("/recovery/confirm", {
            "method": "phone", "destination": PHONE, "ticket": ticket(page), "code": sms_code(job)})
        self.assertEqual(page.status, 303)
        location = page.header(b"location").decode()
        yield self.browser.get(location)
        page = yield self.browser.post(location, {"password": "phone-new", "password_confirmation": "phone-new"})
        self.assertEqual(page.status, 200)
        self.assertEqual((yield self.browser.log_in("phoned", "phone-new")).status, 303)
        self.assertIsNone((yield self.served.storage.phone_change(self.account_id)))

    @defer.inlineCallbacks
    def test_recovery_keeps_deactivation(self):
        """A recovery sets a new password but leaves a deactivated account deactivated."""
        yield self.served.storage.set_activated(self.account_id, False)
        yield self.browser.get("/recovery/phone")
        page = yield self.browser.post("/recovery/phone", {"phone": PHONE})
        page = yield self.browser.post("/recovery/confirm", {
            "method": "phone", "destination": PHONE, "ticket": ticket(page),
            "code": sms_code(self.ovh.jobs[0])})
        self.assertEqual(page.status, 303)
        self.assertFalse((yield self.served.storage.get_account(self.account_id)).activated)

    @defer.inlineCallbacks
    def test_unknown_and_expired_tokens(self):
        """An unknown token is a 404 page, an expired one a 410 "Token expired" page."""
        self.assertEqual((yield self.browser.get("/recovery/phone/nosuchtoken00")).status, 404)
        self.assertEqual((yield self.browser.post("/recovery/phone/nosuchtoken00", {"phone": PHONE})).status, 403)
        yield self.browser.get("/recovery/phone")
        self.assertEqual((yield self.browser.post("/recovery/phone/nosuchtoken00", {"phone": PHONE})).status, 404)
        self.served.clock.advance(61 * 60)
        page = yield self.browser.get("/recovery/phone/recoverytoken")
        self.assertEqual((page.status, page.title()), (410, "Token expired"))
        self.assertEqual(self.ovh.jobs, [])

    @defer.inlineCallbacks
    def test_unknown_number(self):
        """An unknown number gets the same page and no SMS, and the token stays usable."""
        yield self.browser.get("/recovery/phone/recoverytoken")
        page = yield self.browser.post("/recovery/phone/recoverytoken", {"phone": "+33700000000"})
        self.assertEqual(page.status, 200)
        self.assertIn("If an account has the number +33700000000", page.main_text())
        self.assertEqual(self.ovh.jobs, [])
        self.assertEqual((yield self.browser.get("/recovery/phone/recoverytoken")).status, 200)


class ResetPasswordTests(unittest.TestCase):
    """/reset_password/{token}: the administrator's reset link."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served, self.browser = yield serve_panel(self, passwords={"both_algorithms": True})
        yield self.served.storage.add_reset_password_token(
            2, "abcdefghijklmnop", "bob@example.org", "127.0.0.1", "test", self.served.now())

    @defer.inlineCallbacks
    def test_link_sets_password_and_revokes_sessions(self):
        """The link's form sets both HA1s and logs every session of the account out."""
        other = type(self.browser)(self.served)
        yield other.log_in("bob", "bobpass")
        self.assertEqual((yield other.get("/account")).status, 200)
        page = yield self.browser.get("/reset_password/abcdefghijklmnop")
        self.assertEqual(page.status, 200)
        page = yield self.browser.post("/reset_password/abcdefghijklmnop",
                                       {"password": "bob-new-pass", "password_confirmation": "bob-new-pass"})
        self.assertEqual(page.status, 200)
        account = yield self.served.storage.get_account(2)
        self.assertEqual(sorted(row.algorithm for row in account.passwords), sorted(ALGORITHMS))
        self.assertEqual((yield other.get("/account")).status, 303)
        self.assertEqual((yield self.browser.log_in("bob", "bob-new-pass")).status, 303)

    @defer.inlineCallbacks
    def test_refusals(self):
        """Unknown link 404, CSRF-less post 403 (the link kept), expired link 410."""
        self.assertEqual((yield self.browser.get("/reset_password/ponmlkjihgfedcba")).status, 404)
        yield self.browser.get("/reset_password/abcdefghijklmnop")
        page = yield self.browser.post("/reset_password/abcdefghijklmnop",
                                       {"password": "bob-new-pass", "password_confirmation": "bob-new-pass"},
                                       csrf=False)
        self.assertEqual(page.status, 403)
        self.served.clock.advance(86401)
        self.assertEqual((yield self.browser.get("/reset_password/abcdefghijklmnop")).status, 410)
        self.assertEqual((yield self.browser.log_in("bob", "bobpass")).status, 303)


globals().update(on_engines(SignUpByEmailTests))
globals().update(on_engines(RecoveryByEmailTests))
