"""
The account panel's account pages, in-process (L{tests.panel_helpers}):
who you are, password change (and Flexisip's SQL request then giving the new
HA1 on every engine), e-mail change through the test SMTP server, phone
change through the fake OVH, devices through the fake Flexisip CLI, the
provisioning QR code, and deleting the account.  Each form is also posted
without its CSRF token.
"""

import base64
import email
import io
import os
import re
import sqlite3
import tempfile
from email import policy

from pyzbar.pyzbar import decode
from PIL import Image
from twisted.internet import defer, reactor, threads
from twisted.trial import unittest

from famd.credentials import ha1
from famd.registrar.flexisip_cli import FlexisipCLIRegistrar
from famd.testing.databases import MYSQL, POSTGRESQL
from famd.testing.registrar_contract import IOS_UA
from tests.api_helpers import fake_cli_with_devices
from tests.engines import engine_of, on_engines
from tests.flows_fixtures import ovh_server, sms_code, smtp_server
from tests.panel_helpers import serve_panel
from tests.test_flexisip_request import REQUEST, pyformat

DOMAIN = "sip.example.org"


def mailed_code(raw):
    """The 4-digit code alone on its line in the plain-text part of a raw message."""
    message = email.message_from_bytes(raw, policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"^([0-9]{4})$", text, re.MULTILINE).group(1)


def flexisip_rows_blocking(storage, engine, username):
    """The rows Flexisip's password request gives for C{username} on C{storage}'s database."""
    values = {"id": username, "domain": DOMAIN}
    if engine == "sqlite":
        connection = sqlite3.connect(storage.path, timeout=5)
        try:
            return sorted(tuple(row) for row in connection.execute(REQUEST, values).fetchall())
        finally:
            connection.close()
    driver = MYSQL if engine == "mysql" else POSTGRESQL
    connection = driver.connect(storage.test_database)
    try:
        cursor = connection.cursor()
        cursor.execute(pyformat(REQUEST), values)
        return sorted(tuple(row) for row in cursor.fetchall())
    finally:
        connection.close()


class PasswordTests(unittest.TestCase):
    """The password change (SQLite here; MariaDB and PostgreSQL below)."""

    @defer.inlineCallbacks
    def setUp(self):
        self.served, self.browser = yield serve_panel(self)

    def flexisip(self, username):
        return threads.deferToThread(
            flexisip_rows_blocking, self.served.storage, engine_of(self), username)

    @defer.inlineCallbacks
    def test_change_then_flexisip_reads_new_ha1(self):
        """A right current password replaces the HA1; Flexisip's request then gives the new one."""
        self.assertEqual((yield self.flexisip("bob")), [(ha1("bob", DOMAIN, "bobpass", "MD5"), "MD5")])
        yield self.browser.log_in("bob", "bobpass")
        page = yield self.browser.get("/account/password")
        self.assertEqual(page.status, 200)
        page = yield self.browser.post("/account/password", {
            "old_password": "bobpass", "password": "new secret", "password_confirmation": "new secret"})
        self.assertEqual(page.status, 200, page.main_text())
        self.assertIn("password is changed", page.main_text())
        self.assertEqual((yield self.flexisip("bob")),
                         [(ha1("bob", DOMAIN, "new secret", "MD5"), "MD5")])
        self.browser.cookies.clear()
        self.assertEqual((yield self.browser.log_in("bob", "bobpass")).status, 403)
        self.assertEqual((yield self.browser.log_in("bob", "new secret")).status, 303)

    @defer.inlineCallbacks
    def test_other_sessions_end(self):
        """Changing the password ends the account's other sessions and keeps this one."""
        other = type(self.browser)(self.served)
        yield other.log_in("bob", "bobpass")
        self.assertEqual((yield other.get("/account")).status, 200)
        yield self.browser.log_in("bob", "bobpass")
        yield self.browser.get("/account/password")
        yield self.browser.post("/account/password", {
            "old_password": "bobpass", "password": "new secret", "password_confirmation": "new secret"})
        self.assertEqual((yield other.get("/account")).status, 303)
        self.assertEqual((yield self.browser.get("/account")).status, 200)


globals().update(on_engines(PasswordTests))


class AccountPagesTests(unittest.TestCase):
    """The other account pages, on SQLite."""

    @defer.inlineCallbacks
    def serve(self, **kwargs):
        self.served, self.browser = yield serve_panel(self, **kwargs)
        yield self.browser.log_in("bob", "bobpass")

    # ---------------------------------------------------------- who you are

    @defer.inlineCallbacks
    def test_who_you_are(self):
        """The account page shows the SIP address, e-mail, phone and activation, and links the others."""
        yield self.serve()
        page = yield self.browser.get("/account")
        text = page.main_text()
        for shown in ("bob@sip.example.org", "E-mail address", "none", "Activated", "yes"):
            self.assertIn(shown, text)
        links = {a.get("href") for a in page.tree.iter("{http://www.w3.org/1999/xhtml}a")}
        self.assertTrue({"/account/password", "/account/email", "/account/phone",
                         "/account/devices", "/account/provisioning", "/account/delete"} <= links)

    @defer.inlineCallbacks
    def test_logged_out_pages_go_to_login(self):
        """Every account page sends a visitor without a session to the login page."""
        yield self.serve()
        self.browser.cookies.clear()
        for path in ("/account", "/account/password", "/account/email", "/account/phone",
                     "/account/devices", "/account/provisioning", "/account/delete"):
            page = yield self.browser.get(path)
            self.assertEqual((page.status, page.header(b"location")), (303, b"/login"), path)

    # ---------------------------------------------------------- password

    @defer.inlineCallbacks
    def test_password_refusals(self):
        """A wrong current password, a short or mismatched new one change nothing; without CSRF, 403."""
        yield self.serve()
        yield self.browser.get("/account/password")
        cases = (
            ({"old_password": "wrong", "password": "new secret", "password_confirmation": "new secret"},
             403, "not your current password"),
            ({"old_password": "bobpass", "password": "abc", "password_confirmation": "abc"},
             400, "At least 6 characters"),
            ({"old_password": "bobpass", "password": "new secret", "password_confirmation": "other"},
             400, "differ"),
        )
        for fields, status, message in cases:
            page = yield self.browser.post("/account/password", fields)
            self.assertEqual(page.status, status, fields)
            self.assertIn(message, page.main_text())
        page = yield self.browser.post("/account/password", {
            "old_password": "bobpass", "password": "new secret", "password_confirmation": "new secret"},
            csrf=False)
        self.assertEqual(page.status, 403)
        account = yield self.served.storage.get_account(2)
        self.assertEqual(account.passwords[0].password, ha1("bob", DOMAIN, "bobpass", "MD5"))

    @defer.inlineCallbacks
    def test_password_both_algorithms(self):
        """With passwords.both_algorithms the new password is stored as MD5 and SHA-256 HA1s."""
        yield self.serve(passwords={"both_algorithms": True})
        yield self.browser.get("/account/password")
        page = yield self.browser.post("/account/password", {
            "old_password": "bobpass", "password": "new secret", "password_confirmation": "new secret"})
        self.assertEqual(page.status, 200)
        account = yield self.served.storage.get_account(2)
        self.assertEqual(sorted((p.algorithm, p.password) for p in account.passwords), [
            ("MD5", ha1("bob", DOMAIN, "new secret", "MD5")),
            ("SHA-256", ha1("bob", DOMAIN, "new secret", "SHA-256"))])

    # ---------------------------------------------------------- e-mail

    @defer.inlineCallbacks
    def test_email_change(self):
        """A new address gets a code by e-mail; the code entered on the page changes the address."""
        delivery, sender = smtp_server(self)
        yield self.serve(email=sender)
        page = yield self.browser.get("/account/email")
        self.assertIn("no e-mail address", page.main_text())
        page = yield self.browser.post("/account/email", {"email": "bob@example.net"})
        self.assertEqual((page.status, page.header(b"location")), (303, b"/account/email"))
        self.assertEqual(len(delivery.messages), 1)
        code = mailed_code(delivery.messages[0][2])
        page = yield self.browser.get("/account/email")
        self.assertIn("A code was sent to bob@example.net", page.main_text())
        wrong = "0000" if code != "0000" else "1111"
        page = yield self.browser.post("/account/email/code", {"code": wrong})
        self.assertEqual(page.status, 403)
        self.assertIn("Wrong code", page.main_text())
        page = yield self.browser.post("/account/email/code", {"code": code}, csrf=False)
        self.assertEqual(page.status, 403)
        page = yield self.browser.post("/account/email/code", {"code": code})
        self.assertEqual(page.status, 200)
        self.assertIn("now bob@example.net", page.main_text())
        self.assertEqual((yield self.served.storage.get_account(2)).email, "bob@example.net")

    @defer.inlineCallbacks
    def test_email_refusals(self):
        """A bad address is refused on the page; e-mail off is a 503 page; nothing is pending."""
        yield self.serve()
        yield self.browser.get("/account/email")
        page = yield self.browser.post("/account/email", {"email": "not an address"})
        self.assertEqual(page.status, 400)
        self.assertIn("valid e-mail address", page.main_text())
        page = yield self.browser.post("/account/email", {"email": "bob@example.net"})
        self.assertEqual(page.status, 503)
        self.assertIsNone((yield self.served.storage.email_code(2)))
        page = yield self.browser.post("/account/email/code", {"code": "1234"})
        self.assertEqual(page.status, 404)
        page = yield self.browser.post("/account/email", {"email": "bob@example.net"}, csrf=False)
        self.assertEqual(page.status, 403)

    # ---------------------------------------------------------- phone

    @defer.inlineCallbacks
    def test_phone_change(self):
        """A new number gets a code by SMS; the code entered on the page changes the number."""
        ovh, sender = ovh_server(self)
        yield self.serve(sms=sender)
        yield self.browser.get("/account/phone")
        page = yield self.browser.post("/account/phone", {"phone": "nope"})
        self.assertEqual(page.status, 400)
        page = yield self.browser.post("/account/phone", {"phone": "+33612345678"}, csrf=False)
        self.assertEqual(page.status, 403)
        self.assertEqual(len(ovh.jobs), 0)
        page = yield self.browser.post("/account/phone", {"phone": "+33612345678"})
        self.assertEqual((page.status, page.header(b"location")), (303, b"/account/phone"))
        self.assertEqual(len(ovh.jobs), 1)
        page = yield self.browser.get("/account/phone")
        self.assertIn("+33612345678", page.main_text())
        page = yield self.browser.post("/account/phone/code", {"code": sms_code(ovh.jobs[0])})
        self.assertEqual(page.status, 200, page.main_text())
        self.assertEqual((yield self.served.storage.get_account(2)).phone, "+33612345678")

    @defer.inlineCallbacks
    def test_phone_wrong_code_voids_it(self):
        """A wrong code is refused and voids the pending change, as the API's flow does; the right code then finds nothing."""
        ovh, sender = ovh_server(self)
        yield self.serve(sms=sender)
        yield self.browser.get("/account/phone")
        yield self.browser.post("/account/phone", {"phone": "+33612345678"})
        code = sms_code(ovh.jobs[0])
        wrong = "0000" if code != "0000" else "1111"
        page = yield self.browser.post("/account/phone/code", {"code": wrong})
        self.assertEqual(page.status, 403)
        self.assertIn("Wrong code", page.main_text())
        page = yield self.browser.post("/account/phone/code", {"code": code})
        self.assertEqual(page.status, 404)
        self.assertIsNone((yield self.served.storage.get_account(2)).phone)

    @defer.inlineCallbacks
    def test_email_code_tries_limited(self):
        """Wrong e-mail codes are refused; after throttle.code_tries of them the code is void."""
        delivery, sender = smtp_server(self)
        yield self.serve(email=sender)
        yield self.browser.get("/account/email")
        yield self.browser.post("/account/email", {"email": "bob@example.net"})
        code = mailed_code(delivery.messages[0][2])
        wrong = "0000" if code != "0000" else "1111"
        for _ in range(self.served.config.throttle["code_tries"]):
            page = yield self.browser.post("/account/email/code", {"code": wrong})
            self.assertEqual(page.status, 403)
        page = yield self.browser.post("/account/email/code", {"code": code})
        self.assertEqual(page.status, 404)
        self.assertIsNone((yield self.served.storage.get_account(2)).email)

    # ---------------------------------------------------------- devices

    @defer.inlineCallbacks
    def serve_with_registrar(self):
        self.fake, socket = yield fake_cli_with_devices(self)
        yield self.serve(registrar=FlexisipCLIRegistrar(reactor, socket=socket, timeout=2))

    @defer.inlineCallbacks
    def test_devices_listed_and_removed(self):
        """The devices page lists the registrar's devices; removing one un-registers exactly it."""
        yield self.serve_with_registrar()
        page = yield self.browser.get("/account/devices")
        self.assertEqual(page.status, 200)
        self.assertIn(IOS_UA, page.main_text())
        self.assertIn('value="urn:uuid:1111-aaaa"', page.text)
        page = yield self.browser.post("/account/devices/remove", {"uuid": "urn:uuid:1111-aaaa"},
                                       csrf=False)
        self.assertEqual(page.status, 403)
        self.assertNotIn(b"REGISTRAR_DELETE", b"".join(self.fake.commands))
        page = yield self.browser.post("/account/devices/remove", {"uuid": "urn:uuid:1111-aaaa"})
        self.assertEqual((page.status, page.header(b"location")), (303, b"/account/devices"))
        self.assertIn(b'REGISTRAR_DELETE sip:bob@sip.example.org "<urn:uuid:1111-aaaa>"',
                      self.fake.commands)
        page = yield self.browser.get("/account/devices")
        self.assertNotIn("urn:uuid:1111-aaaa", page.text)
        self.assertIn("urn:uuid:2222-bbbb", page.text)
        page = yield self.browser.post("/account/devices/remove", {"uuid": "urn:uuid:1111-aaaa"})
        self.assertEqual(page.status, 404)

    @defer.inlineCallbacks
    def test_registrar_down(self):
        """A registrar that cannot be reached is a 503 page, not JSON and not a 500."""
        missing = os.path.join(tempfile.mkdtemp(prefix="famd-"), "no-socket")
        yield self.serve(registrar=FlexisipCLIRegistrar(reactor, socket=missing, timeout=2))
        page = yield self.browser.get("/account/devices")
        self.assertEqual((page.status, page.title()), (503, "Unavailable"))
        self.assertEqual(page.header(b"content-type"), b"text/html; charset=utf-8")

    @defer.inlineCallbacks
    def test_devices_off(self):
        """With the registrar 'none', the devices page says the feature is off."""
        yield self.serve()
        page = yield self.browser.get("/account/devices")
        self.assertEqual(page.status, 200)
        self.assertIn("registrar is not connected", page.main_text())

    # ---------------------------------------------------------- provisioning

    @defer.inlineCallbacks
    def test_provisioning_qr_code(self):
        """The QR code holds a provisioning URL that gives the account's document once."""
        yield self.serve()
        page = yield self.browser.get("/account/provisioning")
        self.assertEqual(page.status, 200)
        page = yield self.browser.post("/account/provisioning", csrf=False)
        self.assertEqual(page.status, 403)
        page = yield self.browser.post("/account/provisioning")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.header(b"cache-control"), b"no-store")
        image = next(img for img in page.tree.iter("{http://www.w3.org/1999/xhtml}img"))
        data = base64.b64decode(image.get("src").split(",", 1)[1])
        url = decode(Image.open(io.BytesIO(data)))[0].data.decode("ascii")
        self.assertTrue(url.startswith(self.served.config.public_url + "/provisioning/"), url)
        path = url[len(self.served.config.public_url):]
        status, _, document = yield self.served.client.request("GET", "http://famd.test" + path)
        self.assertEqual(status, 200)
        self.assertIn(b"bob", document)
        self.assertIn(ha1("bob", DOMAIN, "bobpass", "MD5").encode(), document)
        status, _, _ = yield self.served.client.request("GET", "http://famd.test" + path)
        self.assertNotEqual(status, 200)

    # ---------------------------------------------------------- delete

    @defer.inlineCallbacks
    def test_delete_account(self):
        """A wrong password or no CSRF token deletes nothing; the right password deletes the account."""
        yield self.serve()
        page = yield self.browser.get("/account/delete")
        self.assertEqual(page.status, 200)
        page = yield self.browser.post("/account/delete", {"password": "wrong"})
        self.assertEqual(page.status, 403)
        page = yield self.browser.post("/account/delete", {"password": "bobpass"}, csrf=False)
        self.assertEqual(page.status, 403)
        self.assertIsNotNone((yield self.served.storage.get_account(2)))
        page = yield self.browser.post("/account/delete", {"password": "bobpass"})
        self.assertEqual(page.status, 200)
        self.assertIn("deleted", page.main_text())
        self.assertIsNone((yield self.served.storage.get_account(2)))
        self.assertEqual((yield self.browser.get("/account")).status, 303)
