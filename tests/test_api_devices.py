"""
GET and DELETE /api/accounts/me/devices through the real resource tree,
against a Flexisip CLI socket that behaves like Flexisip's, on every
storage engine.
"""

from twisted.internet import defer, reactor
from twisted.trial.unittest import TestCase

from famd.registrar.flexisip_cli import FlexisipCLIRegistrar
from famd.testing.flexisip_cli import GARBAGE
from famd.testing.registrar_contract import IOS_UA, device
from tests.api_helpers import BOB_KEY, fake_cli_with_devices
from tests.engines import on_engines
from tests.serving import serve

BOB = "sip:bob@sip.example.org"


class DevicesTests(TestCase):
    """A user lists and removes the devices Flexisip holds for them."""

    @defer.inlineCallbacks
    def setUp(self):
        self.fake, self.socket = yield fake_cli_with_devices(self)
        registrar = FlexisipCLIRegistrar(reactor, socket=self.socket, timeout=2)
        self.served = yield serve(self, registrar=registrar)

    @defer.inlineCallbacks
    def call(self, method, path, served=None, key=BOB_KEY):
        code, body, _ = yield (served or self.served).json(method, path, sip=BOB, key=key)
        return code, body

    @defer.inlineCallbacks
    def test_list(self):
        """The devices come keyed by uuid with user agent and ISO times."""
        code, body = yield self.call("GET", "/accounts/me/devices")
        self.assertEqual(code, 200)
        ios = device("2222-bbbb", IOS_UA)
        self.assertEqual(body["urn:uuid:2222-bbbb"], {
            "uuid": ios.uuid, "user_agent": IOS_UA,
            "expires_at": ios.expires_at, "update_time": ios.update_time})
        self.assertEqual(sorted(body), ["urn:uuid:1111-aaaa", "urn:uuid:2222-bbbb"])
        self.assertIn(b"REGISTRAR_GET sip:bob@sip.example.org", self.fake.commands)

    @defer.inlineCallbacks
    def test_remove(self):
        """Removing a device un-registers exactly that binding; a second removal is 404."""
        code, _ = yield self.call("DELETE", "/accounts/me/devices/urn:uuid:1111-aaaa")
        self.assertEqual(code, 200)
        self.assertIn(b'REGISTRAR_DELETE sip:bob@sip.example.org "<urn:uuid:1111-aaaa>"', self.fake.commands)
        code, body = yield self.call("GET", "/accounts/me/devices")
        self.assertEqual(list(body), ["urn:uuid:2222-bbbb"])
        code, body = yield self.call("DELETE", "/accounts/me/devices/urn:uuid:1111-aaaa")
        self.assertEqual(code, 404)
        self.assertIn("message", body)

    @defer.inlineCallbacks
    def test_authentication_required(self):
        """Without credentials the devices are not shown."""
        code, _ = yield self.call("GET", "/accounts/me/devices", key=None)
        self.assertEqual(code, 401)
        self.assertEqual(self.fake.commands, [])

    @defer.inlineCallbacks
    def test_flexisip_down_is_503(self):
        """With no CLI socket the endpoints answer 503 with a JSON message, and the rest still works."""
        yield self.fake.stop()
        code, body = yield self.call("GET", "/accounts/me/devices")
        self.assertEqual(code, 503)
        self.assertIn("registrar is unavailable", body["message"])
        code, _ = yield self.call("DELETE", "/accounts/me/devices/urn:uuid:1111-aaaa")
        self.assertEqual(code, 503)
        code, body = yield self.call("GET", "/accounts/me")
        self.assertEqual((code, body["username"]), (200, "bob"))

    @defer.inlineCallbacks
    def test_garbage_reply_is_503(self):
        """An unparsable reply from Flexisip is a 503, not a 500."""
        self.fake.mode = GARBAGE
        code, _ = yield self.call("GET", "/accounts/me/devices")
        self.assertEqual(code, 503)

    @defer.inlineCallbacks
    def test_registrar_none(self):
        """With the none registrar the list is empty and a removal finds nothing."""
        served = yield serve(self)
        code, body = yield self.call("GET", "/accounts/me/devices", served=served)
        self.assertEqual((code, body), (200, {}))
        code, _ = yield self.call("DELETE", "/accounts/me/devices/urn:uuid:1111-aaaa", served=served)
        self.assertEqual(code, 404)


globals().update(on_engines(DevicesTests))
