"""
The request-token validation page (``/creation_token/...``): the form and
its headers, the ALTCHA proof of work solved in Python and posted, and
every refusal (unknown or used token, wrong CSRF token, wrong, replayed or
expired solution), on every storage engine.
"""

import base64
import html
import json
import re
from urllib.parse import urlencode

import altcha
from twisted.internet import defer
from twisted.trial import unittest

from tests.engines import on_engines
from tests.serving import serve

FORM = {b"Content-Type": [b"application/x-www-form-urlencoded"], b"Accept": [b"text/html"]}
_CHALLENGE = re.compile(r'challenge="([^"]*)"')
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def solved(page):
    """(the widget's answer to the page's challenge, the page's CSRF token), solved as a browser would."""
    challenge = altcha.Challenge.from_dict(json.loads(html.unescape(_CHALLENGE.search(page).group(1))))
    solution = altcha.solve_challenge(challenge, timeout=30)
    return altcha.Payload(challenge, solution).to_base64(), _CSRF.search(page).group(1)


class CreationPageTests(unittest.TestCase):
    """GET /creation_token/check/{token} and POST /creation_token/validate."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served = yield serve(self, signup={"human_check_max_number": 20})
        _, body, _ = yield self.served.json("POST", "/account_creation_request_tokens", sip=None)
        self.token = body["token"]

    @defer.inlineCallbacks
    def page(self, token=None):
        code, headers, body = yield self.served.request(
            "GET", "/creation_token/check/" + (token or self.token), sip=None, base="")
        return code, headers, body.decode("utf-8")

    @defer.inlineCallbacks
    def validate(self, answer, csrf, token=None):
        fields = {"account_creation_request_token": token or self.token, "csrf": csrf, "altcha": answer}
        code, _, body = yield self.served.request(
            "POST", "/creation_token/validate", sip=None, base="", headers=FORM,
            body=urlencode(fields).encode("ascii"))
        return code, body.decode("utf-8")

    def poll(self):
        return self.served.json(
            "POST", "/account_creation_tokens/using-account-creation-request-token", sip=None,
            body={"account_creation_request_token": self.token})

    @defer.inlineCallbacks
    def test_form_and_headers(self):
        """The form is HTML with a strict CSP, no referrer, no inline script, and a noscript note."""
        code, headers, page = yield self.page()
        self.assertEqual(code, 200)
        self.assertEqual(headers.getRawHeaders(b"content-type"), [b"text/html; charset=utf-8"])
        [csp] = headers.getRawHeaders(b"content-security-policy")
        self.assertIn(b"script-src 'self';", csp)
        self.assertEqual(headers.getRawHeaders(b"referrer-policy"), [b"no-referrer"])
        self.assertIn("<noscript>", page)
        self.assertIn('name="viewport"', page)
        self.assertEqual(re.findall(r"<script>", page), [])
        scripts = re.findall(r'<script src="([^"]+)"', page)
        self.assertEqual(scripts, ["/creation_token/assets/altcha.min.js", "/creation_token/assets/init.js"])
        for path in scripts + ["/creation_token/assets/sha.js"]:
            code, headers, body = yield self.served.request("GET", path, sip=None, base="")
            self.assertEqual((code, headers.getRawHeaders(b"content-type")),
                             (200, [b"text/javascript; charset=utf-8"]))
            self.assertTrue(body)
        code, _, _ = yield self.served.request("GET", "/creation_token/assets/nothing.js", sip=None, base="")
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_solved_check_validates_token(self):
        """A solved challenge validates the token: the page says to continue, the poll gets a creation token."""
        _, _, page = yield self.page()
        answer, csrf = solved(page)
        code, body = yield self.validate(answer, csrf)
        self.assertEqual(code, 200)
        self.assertIn("continue in the application", body)
        code, made, _ = yield self.poll()
        self.assertEqual(code, 201)
        self.assertRegex(made["token"], r"^[A-Za-z0-9]{13}$")
        code, _, _ = yield self.page()
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_replayed_solution_refused(self):
        """The same answer posted again finds the token validated already: 404, nothing changes."""
        _, _, page = yield self.page()
        answer, csrf = solved(page)
        yield self.validate(answer, csrf)
        code, body = yield self.validate(answer, csrf)
        self.assertEqual(code, 404)
        self.assertIn("Link not valid", body)

    @defer.inlineCallbacks
    def test_wrong_solution_csrf_or_token_refused(self):
        """A tampered answer, a wrong CSRF token or another token's answer is 403; the token stays pending."""
        _, _, page = yield self.page()
        answer, csrf = solved(page)
        tampered = json.loads(base64.b64decode(answer))
        tampered["solution"]["counter"] += 1
        forged = base64.b64encode(json.dumps(tampered).encode()).decode()
        for wrong_answer, wrong_csrf in ((forged, csrf), (answer, "0" * 64), ("", csrf)):
            code, body = yield self.validate(wrong_answer, wrong_csrf)
            self.assertEqual(code, 403)
            self.assertIn("Check failed", body)
        _, other, _ = yield self.served.json("POST", "/account_creation_request_tokens", sip=None)
        code, _ = yield self.validate(answer, csrf, token=other["token"])
        self.assertEqual(code, 403)
        code, _, _ = yield self.poll()
        self.assertEqual(code, 404)

    @defer.inlineCallbacks
    def test_expired_challenge_refused(self):
        """A challenge solved after its lifetime (10 minutes, famd's clock) is refused."""
        _, _, page = yield self.page()
        answer, csrf = solved(page)
        self.served.clock.advance(601)
        code, _ = yield self.validate(answer, csrf)
        self.assertEqual(code, 403)

    @defer.inlineCallbacks
    def test_unknown_token_is_404_page(self):
        """An unknown, malformed or used token gets the 404 page."""
        for token in ("X" * 13, "short"):
            code, headers, body = yield self.page(token)
            self.assertEqual(code, 404)
            self.assertIn("Link not valid", body)
            self.assertTrue(headers.getRawHeaders(b"content-security-policy"))

    @defer.inlineCallbacks
    def test_guessed_tokens_are_wrong_secrets(self):
        """Unknown tokens spend the client's wrong secrets: past them, even a real token is refused."""
        limit = self.served.config.throttle["wrong_secrets"]
        for number in range(limit):
            code, _, _ = yield self.page("G%012d" % (number,))
            self.assertEqual(code, 404)
        code, headers, _ = yield self.page()
        self.assertEqual(code, 429)
        self.assertTrue(headers.getRawHeaders(b"retry-after"))


globals().update(on_engines(CreationPageTests))
