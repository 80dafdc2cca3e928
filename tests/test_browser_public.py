"""
The panel's public pages in a real browser (L{tests.browser}): sign-up by
e-mail end to end (the ALTCHA widget solving in Chromium, the e-mail read
from the test SMTP server, its link opened, then login) on SQLite, MariaDB
and PostgreSQL; recovery by e-mail (the code from the mail, a new password,
login with it); recovery by phone through the page a Linphone app opens
with the token famd pushed (``POST /api/account_recovery_tokens/send-by-push``),
the code read from the fake OVH.  axe-core checks every page landed on;
the screenshots of these pages are made here.
"""

import re

import treq
from twisted.internet import defer

from tests.browser.case import BrowserTestCase
from tests.browser.daemon import links_in, text_of
from tests.engines import on_engines
from tests.flows_fixtures import sms_code

SOLVED = "document.querySelector('altcha-widget .altcha').dataset.state === 'verified'"
"""True once the ALTCHA widget has solved its challenge and filled its hidden field."""
PHONE = "+33612345678"


class SignUpJourney(BrowserTestCase):
    """Sign-up by e-mail, from the form to the first login."""

    settings = {"signup": {"human_check_max_number": 20000},
                "panel": {"signup": "both", "terms_url": "https://example.org/terms"},
                "passwords": {"both_algorithms": True}}

    @defer.inlineCallbacks
    def test_sign_up_by_email(self):
        """The form (widget solved in the browser) creates the account, the mailed link activates it, then login works."""
        yield self.page.open("/signup")
        yield self.page.click("Sign up with an e-mail address")
        self.assertEqual((yield self.page.path()), "/signup/email")
        yield self.page.tick("I'm not a robot")
        yield self.page.wait(SOLVED)
        fields = {"username": "newcomer", "password": "new-secret",
                  "password_confirmation": "new-secret", "email": "newcomer@example.org",
                  "terms": True}
        yield self.page.run(lambda driver: driver.execute_script("window.scrollTo(0, 0)"))
        yield self.page.screenshot("signup-email")
        yield self.page.submit(fields, button="Sign up")
        self.assertEqual((yield self.page.path()), "/signup/sent")
        self.assertIn("Check your mailbox", (yield self.page.text("main")))
        account = yield self.famd.account("newcomer")
        self.assertFalse(account.activated)
        message = yield self.famd.mail.wait("newcomer@example.org")
        [link] = [url for url in links_in(message) if "/signup/activate" in url]
        yield self.page.open(link)
        yield self.page.screenshot("signup-activate")
        yield self.page.submit(button="Activate")
        self.assertIn("Your account is activated", (yield self.page.text("main")))
        yield self.page.click("Log in")
        yield self.page.submit({"identifier": "newcomer", "password": "new-secret"}, button="Log in")
        self.assertEqual((yield self.page.path()), "/account")
        self.assertEqual(len((yield self.famd.flexisip_passwords("newcomer"))), 2)
        self.assertEqual(self.page.checked[:3], ["/signup", "/signup/email", "/signup/sent"])


globals().update(on_engines(SignUpJourney))


class RecoveryJourneys(BrowserTestCase):
    """Recovery by e-mail, and by phone from the page the apps open."""

    settings = {"panel": {"signup": "both"}}

    @defer.inlineCallbacks
    def test_recovery_by_email(self):
        """The mailed code leads to a new password, which then logs in."""
        yield self.famd.create_account("forgetful", "old-password", email="forgetful@example.org")
        yield self.page.open("/recovery")
        yield self.page.screenshot("recovery-choice")
        yield self.page.click("By e-mail")
        yield self.page.screenshot("recovery-email")
        yield self.page.submit({"email": "forgetful@example.org"}, button="Send the code")
        self.assertIn("a recovery code was sent", (yield self.page.text("main")))
        yield self.page.screenshot("recovery-code")
        message = yield self.famd.mail.wait("forgetful@example.org")
        code = re.search(r"\b([0-9]{4})\b", text_of(message)).group(1)
        yield self.page.submit({"code": code}, button="Continue")
        self.assertTrue((yield self.page.path()).startswith("/reset_password/"))
        yield self.page.screenshot("reset-password")
        yield self.page.submit({"password": "new-password", "password_confirmation": "new-password"},
                               button="Change the password")
        self.assertIn("Your password is changed", (yield self.page.text("main")))
        yield self.page.click("Log in")
        yield self.page.submit({"identifier": "forgetful", "password": "new-password"}, button="Log in")
        self.assertEqual((yield self.page.path()), "/account")

    @defer.inlineCallbacks
    def test_recovery_by_phone_with_pushed_token(self):
        """The token pushed by send-by-push opens the phone page; the SMS code leads to a new password."""
        yield self.famd.create_account("mobile", "old-password", phone=PHONE)
        response = yield treq.post(
            self.famd.url + "/api/account_recovery_tokens/send-by-push",
            json={"pn_provider": "fcm", "pn_param": "org.linphone.phone", "pn_prid": "device-1"},
            headers={"Accept": "application/json"}, persistent=False)
        self.assertEqual(response.code, 200, (yield response.text()))
        [(_, _, _, payload)] = self.famd.pusher.pushed()
        yield self.page.open("/recovery/phone/%s?phone=%s" % (payload["token"], PHONE))
        self.assertEqual((yield self.page.attribute("#field-phone", "value")), PHONE)
        yield self.page.screenshot("recovery-sms")
        yield self.page.submit(button="Send the code")
        self.assertIn("sent to it by SMS", (yield self.page.text("main")))
        [job] = self.famd.ovh.jobs
        self.assertEqual(job["receivers"], [PHONE])
        yield self.page.submit({"code": "0000" if sms_code(job) != "0000" else "1111"}, button="Continue")
        self.assertEqual((yield self.page.status()), 403)
        self.assertIn("2 attempts left", (yield self.page.text("main")))
        yield self.page.submit({"code": sms_code(job)}, button="Continue")
        yield self.page.submit({"password": "new-password", "password_confirmation": "new-password"},
                               button="Change the password")
        yield self.page.click("Log in")
        yield self.page.submit({"identifier": "mobile", "password": "new-password"}, button="Log in")
        self.assertEqual((yield self.page.path()), "/account")
        yield self.page.open("/recovery/phone/%s" % (payload["token"],))
        self.assertEqual((yield self.page.status()), 404)

    @defer.inlineCallbacks
    def test_sign_up_by_phone_page(self):
        """The phone sign-up page (its screenshot) passes axe with its widget."""
        yield self.page.open("/signup/phone")
        self.assertEqual((yield self.page.status()), 200)
        yield self.page.screenshot("signup-phone")
