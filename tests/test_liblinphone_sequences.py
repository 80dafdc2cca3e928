"""
The sequences today's Linphone apps run against their account service,
replayed with liblinphone's own headers, bodies and reading rules
(L{tests.linphone_client}, fam-2-api.md §7), on SQLite, MariaDB and
PostgreSQL:

  - mobile sign-up (Linphone 6 for Android and iOS): a creation token by
    push, the account, then the phone number linked by SMS code;
  - desktop sign-up (Linphone Desktop 6): a request token, its validation
    page, polling until validated, the account, then the e-mail linked by
    code;
  - the devices list and the removal of one device;
  - and the 2021 sign-up of older apps, side by side with the 2.x one on
    one database (two famd processes).

Each step asserts what liblinphone reads: the status, the exact
``Content-Type: application/json`` of a body it parses, the fields it
takes, and for errors whether it would keep polling.
"""

import json
import re
from datetime import datetime
from urllib.parse import urlencode

from twisted.internet import defer, reactor
from twisted.trial import unittest

from famd.registrar.flexisip_cli import FlexisipCLIRegistrar
from tests.api_helpers import ADMIN_KEY, BOB, BOB_KEY, fake_cli_with_devices
from tests.engines import on_engines
from tests.flows_fixtures import ovh_server, pusher, sms_code, smtp_server
from tests.linphone_client import LinphoneClient
from tests.serving import serve
from tests.test_api_linking import mailed_code
from tests.test_creation_page import FORM, solved

DEVICE = {"pn_provider": "fcm", "pn_param": "929724111839", "pn_prid": "dGVzdC1wcmlk:APA91bF-x_9"}
"""What Linphone for Android sends: its Firebase project number and its FCM registration token."""
PHONE = "+33612345678"
DOMAIN = "sip.example.org"


def device_name(user_agent):
    """What the apps show as a device's name: the text inside the first parentheses of its user agent."""
    found = re.search(r"\(([^)]*)\)", user_agent)
    return found.group(1) if found else None


def update_time(value):
    """liblinphone's reading of ``update_time``: ISO-8601, fraction stripped, with an offset or Z."""
    value = re.sub(r"\.[0-9]+", "", value).replace("Z", "+00:00")
    return datetime.fromisoformat(value)


class MobileSignUpTests(unittest.TestCase):
    """Linphone 6 for Android/iOS: push token, account, phone linked by SMS."""

    @defer.inlineCallbacks
    def setUp(self):
        self.pushes, push = pusher(self)
        self.ovh, sms = ovh_server(self)
        self.served = yield serve(self, push=push, sms=sms)
        self.app = LinphoneClient(self.served)

    @defer.inlineCallbacks
    def test_push_sign_up_then_phone(self):
        """Every step succeeds as the app reads it, and the account ends activated with its phone."""
        outcome = yield self.app.request("POST", "account_creation_tokens/send-by-push", DEVICE)
        self.assertTrue(outcome.ok, outcome)
        [(_, _, _, payload)] = self.pushes.pushed()
        token = payload["token"]

        outcome = yield self.app.request("POST", "accounts/with-account-creation-token", {
            "username": "mobileuser", "password": "mobile-secret", "algorithm": "SHA-256",
            "account_creation_token": token})
        self.assertTrue(outcome.ok and outcome.content_type_ok, outcome)
        identity = "sip:%s@%s" % (outcome.data["username"], outcome.data["domain"])
        self.assertEqual(identity, "sip:mobileuser@" + DOMAIN)
        self.app.add_auth_info("mobileuser", DOMAIN, "mobile-secret")

        outcome = yield self.app.request("POST", "accounts/me/phone/request", {"phone": PHONE})
        self.assertTrue(outcome.ok, outcome)
        self.assertEqual(self.app.sent[-1][2][b"From"], [b"sip:mobileuser@" + DOMAIN.encode()])
        self.assertIn(b"Authorization", self.app.sent[-1][2])
        code = sms_code(self.ovh.jobs[-1])

        account = yield self.served.storage.find_account("mobileuser", DOMAIN)
        self.assertFalse(account.activated)
        outcome = yield self.app.request("POST", "accounts/me/phone", {"code": code})
        self.assertTrue(outcome.ok, outcome)
        account = yield self.served.storage.find_account("mobileuser", DOMAIN)
        self.assertEqual((account.activated, account.phone), (True, PHONE))

    @defer.inlineCallbacks
    def test_errors_reach_the_form(self):
        """A refused username comes back as errors.username, which Android maps onto its form."""
        outcome = yield self.app.request("POST", "account_creation_tokens/send-by-push", DEVICE)
        token = self.pushes.pushed()[-1][3]["token"]
        outcome = yield self.app.request("POST", "accounts/with-account-creation-token", {
            "username": "bob", "password": "mobile-secret", "algorithm": "SHA-256",
            "account_creation_token": token})
        self.assertEqual(outcome.status, 422)
        self.assertTrue(outcome.content_type_ok)
        # liblinphone keeps the first text of each field, the one the form shows.
        self.assertEqual(outcome.errors["username"], outcome.data["errors"]["username"][0])
        self.assertIn("The username has already been taken.", outcome.data["errors"]["username"])

    @defer.inlineCallbacks
    def test_lost_push_retried(self):
        """A device whose push was lost asks again and gets a working token."""
        yield self.app.request("POST", "account_creation_tokens/send-by-push", DEVICE)
        outcome = yield self.app.request("POST", "account_creation_tokens/send-by-push", DEVICE)
        self.assertTrue(outcome.ok, outcome)
        token = self.pushes.pushed()[-1][3]["token"]
        outcome = yield self.app.request("POST", "accounts/with-account-creation-token", {
            "username": "retrying", "password": "mobile-secret", "algorithm": "SHA-256",
            "account_creation_token": token})
        self.assertTrue(outcome.ok, outcome)


class DesktopSignUpTests(unittest.TestCase):
    """Linphone Desktop 6: request token, validation page, polling, account, e-mail linked by code."""

    @defer.inlineCallbacks
    def setUp(self):
        self.delivery, mail = smtp_server(self)
        self.served = yield serve(self, email=mail, signup={"human_check_max_number": 20})
        self.app = LinphoneClient(self.served)

    @defer.inlineCallbacks
    def validate_in_browser(self, url):
        """What the person does in the browser the app opened: pass the check of the page."""
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        code, _, page = yield self.served.request("GET", path, sip=None, base="")
        self.assertEqual(code, 200)
        answer, csrf = solved(page.decode("utf-8"))
        fields = {"account_creation_request_token": url.rsplit("/", 1)[1], "csrf": csrf,
                  "altcha": answer}
        code, _, _ = yield self.served.request(
            "POST", "/creation_token/validate", sip=None, base="", headers=FORM,
            body=urlencode(fields).encode("ascii"))
        self.assertEqual(code, 200)

    @defer.inlineCallbacks
    def test_request_token_sign_up_then_email(self):
        """The app polls while the page is pending, then creates the account and links its e-mail."""
        outcome = yield self.app.request("POST", "account_creation_request_tokens")
        self.assertTrue(outcome.ok and outcome.content_type_ok, outcome)
        self.assertNotIn(b"Content-Type", self.app.sent[-1][2])
        url = outcome.data["validation_url"]
        request_token = url.rsplit("/", 1)[1]
        self.assertEqual(request_token, outcome.data["token"])

        poll = {"account_creation_request_token": request_token}
        for _ in range(3):
            outcome = yield self.app.request(
                "POST", "account_creation_tokens/using-account-creation-request-token", poll)
            # An error without "errors": the app polls again in 2 seconds.
            self.assertFalse(outcome.ok)
            self.assertEqual(outcome.errors, {})
            self.assertTrue(outcome.content_type_ok)
        yield self.validate_in_browser(url)
        outcome = yield self.app.request(
            "POST", "account_creation_tokens/using-account-creation-request-token", poll)
        self.assertTrue(outcome.ok and outcome.content_type_ok, outcome)
        token = outcome.data["token"]

        outcome = yield self.app.request("POST", "accounts/with-account-creation-token", {
            "username": "desktopuser", "password": "desk-secret", "algorithm": "SHA-256",
            "account_creation_token": token})
        self.assertTrue(outcome.ok, outcome)
        self.app.add_auth_info(outcome.data["username"], outcome.data["domain"], "desk-secret")

        outcome = yield self.app.request("POST", "accounts/me/email/request",
                                         {"email": "desk@example.org"})
        self.assertTrue(outcome.ok, outcome)
        code = mailed_code(self.delivery.messages[-1][2])
        outcome = yield self.app.request("POST", "accounts/me/email", {"code": code})
        self.assertTrue(outcome.ok, outcome)
        account = yield self.served.storage.find_account("desktopuser", DOMAIN)
        self.assertEqual((account.activated, account.email), (True, "desk@example.org"))

    @defer.inlineCallbacks
    def test_polling_stops_on_a_bad_token(self):
        """An unknown request token is an error with "errors": the app stops polling."""
        outcome = yield self.app.request(
            "POST", "account_creation_tokens/using-account-creation-request-token",
            {"account_creation_request_token": "NoSuchToken12"})
        self.assertEqual(outcome.status, 422)
        self.assertIn("account_creation_request_token", outcome.errors)


class DevicesTests(unittest.TestCase):
    """The devices screen: GET accounts/me/devices, then DELETE one (its body carries the uuid)."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, socket = yield fake_cli_with_devices(self, "bob@" + DOMAIN)
        registrar = FlexisipCLIRegistrar(reactor, socket=socket, timeout=2)
        self.served = yield serve(self, registrar=registrar)
        self.app = LinphoneClient(self.served)
        self.app.add_auth_info("bob", DOMAIN, "bobpass")

    @defer.inlineCallbacks
    def test_list_then_remove(self):
        """The list is an object keyed by uuid that liblinphone reads; the removal empties it to {}."""
        outcome = yield self.app.request("GET", "accounts/me/devices")
        self.assertTrue(outcome.ok and outcome.content_type_ok, outcome)
        self.assertNotIn(b"Content-Type", self.app.sent[-1][2])
        self.assertIsInstance(outcome.data, dict)
        self.assertEqual(len(outcome.data), 2)
        for uuid, entry in outcome.data.items():
            self.assertTrue(uuid.startswith("urn:uuid:"), uuid)
            self.assertIsInstance(update_time(entry["update_time"]).utcoffset().total_seconds(), float)
            self.assertTrue(device_name(entry["user_agent"]))
        for uuid in list(outcome.data):
            removed = yield self.app.request("DELETE", "accounts/me/devices/" + uuid,
                                             {"device_uuid": uuid})
            self.assertTrue(removed.ok, removed)
            self.assertEqual(json.loads(self.app.sent[-1][3]), {"device_uuid": uuid})
        outcome = yield self.app.request("GET", "accounts/me/devices")
        self.assertEqual((outcome.ok, outcome.data), (True, {}))


class GenerationsSideBySideTests(unittest.TestCase):
    """A 2021 app and a Linphone 6 app sign up at once, on two famd processes sharing one database."""

    @defer.inlineCallbacks
    def setUp(self):
        self.pushes, push = pusher(self)
        self.ovh, sms = ovh_server(self)
        self.first = yield serve(self, push=push, sms=sms)
        self.second = yield serve(self, beside=self.first, push=push, sms=sms)

    @defer.inlineCallbacks
    def test_both_sign_ups(self):
        """Each generation's flow activates its account; the tokens come from the one pool."""
        old = {"pn_provider": "apns", "pn_param": "ABCD1234.org.linphone.phone.voip", "pn_prid": "0a1b2c3d"}
        code, _, _ = yield self.first.json("POST", "/tokens", sip=None, body=old)
        self.assertEqual(code, 200)
        app = LinphoneClient(self.second)
        outcome = yield app.request("POST", "account_creation_tokens/send-by-push", DEVICE)
        self.assertTrue(outcome.ok, outcome)
        old_token, new_token = (pushed[3]["token"] for pushed in self.pushes.pushed())

        # The 2.x app creates its account on the second process with its token...
        outcome = yield app.request("POST", "accounts/with-account-creation-token", {
            "username": "newgenuser", "password": "new-secret", "algorithm": "SHA-256",
            "account_creation_token": new_token})
        self.assertTrue(outcome.ok, outcome)
        # ...while the 2021 app creates its account on the first process with its own.
        code, created, _ = yield self.first.json("POST", "/accounts/with-token", sip=None, body={
            "username": "oldgenuser", "password": "old-secret", "algorithm": "MD5",
            "token": old_token, "phone": PHONE})
        self.assertEqual(code, 200, created)
        self.assertIn("creation_time", created)

        app.add_auth_info("newgenuser", DOMAIN, "new-secret")
        outcome = yield app.request("POST", "accounts/me/phone/request", {"phone": "+33698765432"})
        self.assertTrue(outcome.ok, outcome)
        outcome = yield app.request("POST", "accounts/me/phone", {"code": sms_code(self.ovh.jobs[-1])})
        self.assertTrue(outcome.ok, outcome)

        old_account = yield self.first.storage.find_account("oldgenuser", DOMAIN)
        key = old_account.confirmation_key
        code, activated, _ = yield self.first.json(
            "POST", "/accounts/sip:oldgenuser@%s/activate/email" % (DOMAIN,), sip=None,
            body={"code": key})
        self.assertEqual((code, activated["activated"]), (200, True), activated)

        for served, username in ((self.second, "oldgenuser"), (self.first, "newgenuser")):
            account = yield served.storage.find_account(username, DOMAIN)
            self.assertTrue(account.activated, username)
        rows = yield self.first.storage.read(
            "tokens", lambda txn: txn.all('SELECT "used" FROM "tokens" ORDER BY "id"'))
        self.assertEqual([bool(used) for (used,) in rows], [True, True])




class BodiesIgnoredTests(unittest.TestCase):
    """liblinphone sends JSON bodies on GET and DELETE too (the tester's admin calls): famd ignores them."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self)

    @defer.inlineCallbacks
    def test_get_and_delete_with_bodies(self):
        """A JSON body, or one that is not JSON, changes nothing on a GET or a DELETE."""
        for body in ({"account_id": 2}, b"{not json", b"[1, 2]"):
            code, shown, _ = yield self.served.json("GET", "/accounts/2", key=ADMIN_KEY, body=body)
            self.assertEqual((code, shown["username"]), (200, "bob"), body)
            code, _, _ = yield self.served.json("GET", "/accounts/me", sip=BOB, key=BOB_KEY, body=body)
            self.assertEqual(code, 200, body)
        code, _, _ = yield self.served.json("DELETE", "/accounts/2", key=ADMIN_KEY, body=b"{not json")
        self.assertEqual(code, 200)
        self.assertIsNone((yield self.served.storage.get_account(2)))


globals().update(on_engines(MobileSignUpTests, DesktopSignUpTests, DevicesTests, BodiesIgnoredTests,
                           GenerationsSideBySideTests))
