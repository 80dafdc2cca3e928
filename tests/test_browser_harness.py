"""
The browser harness checks what it claims to: axe-core fails a page with a
serious violation, screenshots have the phone and desktop sizes, and a
missing browser fails (not skips) when services are required.
"""

import os
from urllib.parse import quote

import treq
from PIL import Image
from twisted.internet import defer
from twisted.trial import unittest
from twisted.trial.unittest import FailTest, SkipTest

from famd.testing.databases import REQUIRE
from tests.browser import chromium
from tests.browser.case import BrowserTestCase

INACCESSIBLE = ('<!doctype html><html lang="en"><title>t</title><main>'
                '<img src="/nothing.png"><button></button></main></html>')
"""A page with two critical violations: an image without alt text, a button without a name."""


class HarnessBrowserTests(BrowserTestCase):
    """The Page helpers on the shared browser."""

    @defer.inlineCallbacks
    def test_axe_fails_on_violations(self):
        """Landing on a page with critical violations fails the test, naming each rule."""
        failure = yield self.assertFailure(
            self.page.open("data:text/html," + quote(INACCESSIBLE)), FailTest)
        self.assertIn("image-alt", str(failure))
        self.assertIn("button-name", str(failure))

    @defer.inlineCallbacks
    def test_screenshots_phone_and_desktop(self):
        """A screenshot is a phone-sized and a desktop-sized PNG of the page shown."""
        yield self.page.open("/api")
        folder = self.mktemp()
        written = yield self.page.screenshot("api", folder=folder)
        self.assertEqual([os.path.basename(path) for path in written],
                         ["api-phone.png", "api-desktop.png"])
        sizes = [Image.open(path).size for path in written]
        self.assertEqual(sizes, [(390, 844), (1280, 900)])

    @defer.inlineCallbacks
    def test_create_admin_and_account(self):
        """create_admin's key is an administrator's on the daemon's API; create_account's account is stored as asked."""
        key = yield self.famd.create_admin("root", "root-secret")
        response = yield treq.get(self.famd.url + "/api/accounts?page=1", persistent=False, headers={
            "From": "sip:root@sip.example.org", "x-api-key": key, "Accept": "application/json"})
        self.assertEqual(response.code, 200)
        yield self.famd.create_account("judy", "judy-secret", blocked=True, email="judy@example.org")
        judy = yield self.famd.account("judy")
        self.assertEqual((judy.activated, judy.blocked, judy.email), (True, True, "judy@example.org"))


class RequireTests(unittest.TestCase):
    """chromium.require() when the browser is missing."""

    def test_missing_browser_fails_when_required(self):
        """With FAMD_TEST_REQUIRE_SERVICES=1 a missing chromium fails the test; without, it skips it."""
        self.patch(chromium, "CHROMIUM", "/nonexistent/chromium")
        self.patch(os, "environ", dict(os.environ, **{REQUIRE: "1"}))
        self.assertRaises(FailTest, chromium.require)
        os.environ[REQUIRE] = "0"
        self.assertRaises(SkipTest, chromium.require)
