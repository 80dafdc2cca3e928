"""
The pages famd served before the panel, in a real browser: the FAM 2.x
request-token validation page with its real ALTCHA widget solving the
proof of work, and the API documentation page.
"""

import treq
from twisted.internet import defer

from tests.browser.case import BrowserTestCase
from tests.engines import on_engines

SOLVED = "document.querySelector('altcha-widget .altcha').dataset.state === 'verified'"
"""True once the ALTCHA widget has solved its challenge and filled its hidden field."""


class CreationPageBrowserTests(BrowserTestCase):
    """/creation_token/check/{token} opened from a real request token."""

    settings = {"signup": {"human_check_max_number": 20000}}

    @defer.inlineCallbacks
    def request_token(self):
        response = yield treq.post(self.famd.url + "/api/account_creation_request_tokens",
                                   headers={"Accept": "application/json"}, persistent=False)
        body = yield response.json()
        self.assertEqual(response.code, 201, body)
        return body

    @defer.inlineCallbacks
    def poll(self, token):
        response = yield treq.post(
            self.famd.url + "/api/account_creation_tokens/using-account-creation-request-token",
            json={"account_creation_request_token": token},
            headers={"Accept": "application/json"}, persistent=False)
        return response.code, (yield response.json())

    @defer.inlineCallbacks
    def solve(self):
        """Open the page of a new request token and let its widget solve the challenge; fire with the token."""
        made = yield self.request_token()
        yield self.page.open(made["validation_url"])
        self.assertEqual((yield self.page.path()), "/creation_token/check/" + made["token"])
        yield self.page.tick("I'm not a robot")
        yield self.page.wait(SOLVED)
        answer = yield self.page.attribute("altcha-widget input[type=hidden][name=altcha]", "value")
        self.assertTrue(answer)
        return made["token"]

    @defer.inlineCallbacks
    def test_widget_solves_and_validates(self):
        """The widget solves its challenge in the browser; Continue validates the token, which the poll then trades."""
        token = yield self.solve()
        yield self.page.screenshot("creation-check")
        code, _ = yield self.poll(token)
        self.assertEqual(code, 404)
        yield self.page.submit(button="Continue")
        self.assertEqual((yield self.page.status()), 200)
        self.assertIn("continue in the application", (yield self.page.text("main")))
        code, made = yield self.poll(token)
        self.assertEqual(code, 201, made)
        self.assertRegex(made["token"], r"^[A-Za-z0-9]{13}$")
        self.assertEqual(self.page.checked, ["/creation_token/check/" + token, "/creation_token/validate"])

    @defer.inlineCallbacks
    def test_form_without_csrf_refused(self):
        """The solved form posted without its CSRF field is refused (403 page) and the token stays pending."""
        token = yield self.solve()
        yield self.page.submit(button="Continue", without=("csrf",))
        self.assertEqual((yield self.page.status()), 403)
        self.assertIn("Check failed", (yield self.page.text("main")))
        code, _ = yield self.poll(token)
        self.assertEqual(code, 404)


class APIPageBrowserTests(BrowserTestCase):
    """GET /api, the API documentation page."""

    @defer.inlineCallbacks
    def test_api_page_accessible(self):
        """The API page has no serious or critical axe-core violation."""
        yield self.page.open("/api")
        self.assertEqual((yield self.page.status()), 200)
        self.assertEqual(self.page.checked, ["/api"])


globals().update(on_engines(CreationPageBrowserTests))
