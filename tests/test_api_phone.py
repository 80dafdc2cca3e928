"""
Phone changes of /api/accounts/me end to end: the code goes out through the
real ``ovh`` SMS backend to an in-process OVH API that checks signatures,
comes back once, and wrong codes are wrong secrets like activation codes; on
every storage engine.
"""

from twisted.internet import defer
from twisted.trial import unittest

from famd.testing.storage_contract import new
from tests.api_helpers import BOB, BOB_KEY
from tests.engines import on_engines
from tests.flows_fixtures import captured_logs, ovh_server, sms_code
from tests.serving import serve

PHONE = "+33612345678"
NOT_SENT = {"message": "The SMS could not be sent, try again later."}


class PhoneChangeTests(unittest.TestCase):
    """POST /api/accounts/me/phone/request, then POST /api/accounts/me/phone."""

    @defer.inlineCallbacks
    def setUp(self):
        self.ovh, self.sender = ovh_server(self)
        self.served = yield serve(self, sms=self.sender)

    def request(self, phone=PHONE):
        return self.served.json("POST", "/accounts/me/phone/request", sip=BOB, key=BOB_KEY,
                                body={"phone": phone})

    def confirm(self, code):
        return self.served.json("POST", "/accounts/me/phone", sip=BOB, key=BOB_KEY,
                                body={"code": code})

    @defer.inlineCallbacks
    def test_code_changes_phone_once(self):
        """The SMS code makes the number the account's alias, and works once."""
        logs = captured_logs(self)
        code, body, _ = yield self.request()
        self.assertEqual((code, body), (200, {}))
        [job] = self.ovh.jobs
        self.assertEqual(job["receivers"], [PHONE])
        secret = sms_code(job)
        code, body, _ = yield self.confirm(secret)
        self.assertEqual((code, body["phone"], body["username"]), (200, PHONE, "bob"))
        self.assertTrue((yield self.served.storage.phone_in_use(PHONE)))
        code, _, _ = yield self.confirm(secret)
        self.assertEqual(code, 404)
        self.assertFalse([line for line in logs if "code is %s" % (secret,) in line])

    @defer.inlineCallbacks
    def test_wrong_code_burns_change(self):
        """A wrong code is 403 and burns the pending change: the right one is then 404."""
        yield self.request()
        secret = sms_code(self.ovh.jobs[0])
        wrong = "%04d" % ((int(secret) + 1) % 10000,)
        code, _, _ = yield self.confirm(wrong)
        self.assertEqual(code, 403)
        code, _, _ = yield self.confirm(secret)
        self.assertEqual(code, 404)
        bob = yield self.served.storage.find_account("bob", "sip.example.org")
        self.assertIsNone(bob.phone)

    @defer.inlineCallbacks
    def test_rules(self):
        """The number is required, E.164 and not another account's; the code 4 digits."""
        yield self.served.storage.create_account(new("holder", phone="+33699999999"))
        code, body, _ = yield self.request("+33699999999")
        self.assertEqual((code, body["errors"]), (422, {"phone": ["The phone has already been taken."]}))
        code, body, _ = yield self.request("0612345678")
        self.assertEqual(code, 422)
        code, body, _ = yield self.request(None)
        self.assertEqual(body["errors"], {"phone": ["The phone field is required."]})
        code, body, _ = yield self.confirm("12a4")
        self.assertEqual((code, body["errors"]), (422, {"code": ["The code must be 4 digits."]}))
        self.assertEqual(self.ovh.jobs, [])

    @defer.inlineCallbacks
    def test_guessing_limited(self):
        """After wrong_secrets wrong codes the address gets 429 until the window has passed."""
        # The code outlives the 900 s wait (its default lifetime is 600 s).
        self.served = yield serve(self, sms=self.sender, throttle={"wrong_secrets": 3},
                                  phone_change_code_lifetime=3600)
        for _ in range(3):
            yield self.request()
            code, _, _ = yield self.confirm("%04d" % ((int(sms_code(self.ovh.jobs[-1])) + 1) % 10000,))
            self.assertEqual(code, 403)
        yield self.request()
        code, _, headers = yield self.confirm(sms_code(self.ovh.jobs[-1]))
        self.assertEqual((code, headers.getRawHeaders(b"retry-after")), (429, [b"900"]))
        self.served.clock.advance(900)
        code, body, _ = yield self.confirm(sms_code(self.ovh.jobs[-1]))
        self.assertEqual((code, body["phone"]), (200, PHONE))


class PhoneFailureTests(unittest.TestCase):
    """Phone changes when no SMS can be sent."""

    @defer.inlineCallbacks
    def test_sms_off(self):
        """Without an SMS backend the request is 503."""
        served = yield serve(self)
        code, body, _ = yield served.json("POST", "/accounts/me/phone/request", sip=BOB,
                                          key=BOB_KEY, body={"phone": PHONE})
        self.assertEqual((code, body), (503, NOT_SENT))

    @defer.inlineCallbacks
    def test_ovh_error(self):
        """An OVH error answer is 503, logged without the code, and leaves nothing pending."""
        logs = captured_logs(self)
        ovh, sender = ovh_server(self, consumer_key="not-the-right-consumer-key")
        served = yield serve(self, sms=sender)
        code, body, _ = yield served.json("POST", "/accounts/me/phone/request", sip=BOB,
                                          key=BOB_KEY, body={"phone": PHONE})
        self.assertEqual((code, body), (503, NOT_SENT))
        self.assertEqual(ovh.jobs, [])
        self.assertTrue([line for line in logs if "code not sent" in line])
        bob = yield served.storage.find_account("bob", "sip.example.org")
        self.assertIsNone((yield served.storage.phone_change(bob.id)))

    @defer.inlineCallbacks
    def test_invalid_receiver(self):
        """A number OVH reports invalid is 503 too."""
        ovh, sender = ovh_server(self)
        ovh.invalid = True
        served = yield serve(self, sms=sender)
        code, body, _ = yield served.json("POST", "/accounts/me/phone/request", sip=BOB,
                                          key=BOB_KEY, body={"phone": PHONE})
        self.assertEqual((code, body), (503, NOT_SENT))


globals().update(on_engines(PhoneChangeTests, PhoneFailureTests))
