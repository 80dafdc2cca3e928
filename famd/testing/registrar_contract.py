"""
The L{IRegistrar} contract: one suite that every registrar provider passes.

Mix L{RegistrarContractMixin} into a C{twisted.trial.unittest.TestCase} and
provide two methods:

- C{make_registrar()}: the provider under test;
- C{seed(username, domain, registrations)}: store those
  L{famd.testing.flexisip_cli.Registration}s as Flexisip would (in a fake
  CLI's records, in Redis, ...); may return a Deferred.

The suite uses a fresh username per test, so a shared backend (a real
Redis) needs no emptying between tests, only the cleanup of what C{seed}
wrote.
"""

import uuid as uuidlib

from twisted.internet.defer import inlineCallbacks, maybeDeferred
from zope.interface.verify import verifyObject

from famd.interfaces import IRegistrar
from famd.registrar import Device
from famd.testing.flexisip_cli import Registration

EXPIRES_AT = 4102444800
"""2100-01-01T00:00:00Z: far enough that no binding of the suite expires."""

UPDATED = EXPIRES_AT - 3600
"""2099-12-31T23:00:00Z, one hour (the usual REGISTER expiry) before."""

ANDROID_UA = "LinphoneAndroid/5.0 (belle-sip/4.5) Pixel 7; Android 14"
IOS_UA = "LinphoneiOS/5.1 (iPhone; iOS 17.0) LinphoneSDK/5.3 (belle-sip/5.3)"


def registration(instance, user_agent=ANDROID_UA, quoted=True, **extra):
    """
    A binding of the device C{urn:uuid:<instance>}, stored under
    C{"<urn:uuid:...>"} (or C{<urn:uuid:...>} when not C{quoted}).
    """
    key = "<urn:uuid:%s>" % (instance,)
    return Registration(
        unique_id='"%s"' % (key,) if quoted else key,
        user_agent=user_agent,
        expires_at=EXPIRES_AT,
        update_time=UPDATED,
        **extra
    )


def device(instance, user_agent=ANDROID_UA):
    """The L{Device} the API shows for L{registration}C{(instance, user_agent)}."""
    return Device(
        uuid="urn:uuid:%s" % (instance,),
        user_agent=user_agent or None,
        expires_at="2100-01-01T00:00:00Z",
        update_time="2099-12-31T23:00:00Z",
    )


def _by_uuid(devices):
    return sorted(devices, key=lambda found: found.uuid)


class RegistrarContractMixin:
    """What every L{IRegistrar} provider does, whatever it talks to."""

    domain = "sip.example.org"

    def make_registrar(self):
        """Return the provider under test."""
        raise NotImplementedError

    def seed(self, username, domain, registrations):
        """Store C{registrations} for C{username@domain} as Flexisip would."""
        raise NotImplementedError

    def username(self):
        """A username no other test uses."""
        return "dev" + uuidlib.uuid4().hex[:12]

    def _seeded(self, registrations, username=None):
        username = username or self.username()
        seeding = maybeDeferred(self.seed, username, self.domain, registrations)
        return seeding.addCallback(lambda _: username)

    def test_provides_interface(self):
        """The provider provides IRegistrar."""
        self.assertTrue(verifyObject(IRegistrar, self.make_registrar()))

    @inlineCallbacks
    def test_unknown_user(self):
        """A user Flexisip holds nothing for has no devices."""
        devices = yield self.make_registrar().list_devices(self.username(), self.domain)
        self.assertEqual(devices, [])

    @inlineCallbacks
    def test_lists_devices(self):
        """Every binding is listed with its public id, user agent and times."""
        user = yield self._seeded(
            [registration("aaaa-1111"), registration("bbbb-2222", IOS_UA)]
        )
        devices = yield self.make_registrar().list_devices(user, self.domain)
        self.assertEqual(
            _by_uuid(devices),
            [device("aaaa-1111"), device("bbbb-2222", IOS_UA)],
        )

    @inlineCallbacks
    def test_unusual_user_agent(self):
        """A user agent with escapable and non-ASCII characters comes back intact."""
        agent = 'Linphone Desktop/5.2 (Ubuntu 24.04; "x86_64") 100% élan&co=1;a?b'
        user = yield self._seeded([registration("cccc-3333", agent)])
        devices = yield self.make_registrar().list_devices(user, self.domain)
        self.assertEqual(devices, [device("cccc-3333", agent)])

    @inlineCallbacks
    def test_no_user_agent(self):
        """A device that sent no User-Agent has a null user agent."""
        user = yield self._seeded([registration("dddd-4444", "")])
        devices = yield self.make_registrar().list_devices(user, self.domain)
        self.assertEqual(devices, [device("dddd-4444", None)])

    @inlineCallbacks
    def test_unquoted_unique_id(self):
        """A unique id stored without quotes gives the same public id."""
        user = yield self._seeded([registration("eeee-5555", quoted=False)])
        devices = yield self.make_registrar().list_devices(user, self.domain)
        self.assertEqual(devices, [device("eeee-5555")])

    @inlineCallbacks
    def test_users_are_separate(self):
        """One user's devices are not listed for another."""
        yield self._seeded([registration("ffff-6666")])
        devices = yield self.make_registrar().list_devices(self.username(), self.domain)
        self.assertEqual(devices, [])

    @inlineCallbacks
    def test_remove_device(self):
        """Removing a device by public id removes that binding only."""
        user = yield self._seeded(
            [registration("aaaa-1111"), registration("bbbb-2222", IOS_UA)]
        )
        registrar = self.make_registrar()
        removed = yield registrar.remove_device(user, self.domain, "urn:uuid:aaaa-1111")
        self.assertIs(removed, True)
        devices = yield registrar.list_devices(user, self.domain)
        self.assertEqual(devices, [device("bbbb-2222", IOS_UA)])

    @inlineCallbacks
    def test_remove_unquoted(self):
        """A binding stored without quotes is removed by its public id."""
        user = yield self._seeded([registration("eeee-5555", quoted=False)])
        registrar = self.make_registrar()
        removed = yield registrar.remove_device(user, self.domain, "urn:uuid:eeee-5555")
        self.assertIs(removed, True)
        self.assertEqual((yield registrar.list_devices(user, self.domain)), [])

    @inlineCallbacks
    def test_remove_unknown_device(self):
        """Removing a device the user lacks answers False and keeps the others."""
        user = yield self._seeded([registration("aaaa-1111")])
        registrar = self.make_registrar()
        removed = yield registrar.remove_device(user, self.domain, "urn:uuid:0000-0000")
        self.assertIs(removed, False)
        devices = yield registrar.list_devices(user, self.domain)
        self.assertEqual(devices, [device("aaaa-1111")])

    @inlineCallbacks
    def test_remove_is_not_fooled_by_decoration(self):
        """The public id must match exactly: the stored id with quotes is not it."""
        user = yield self._seeded([registration("aaaa-1111")])
        registrar = self.make_registrar()
        removed = yield registrar.remove_device(
            user, self.domain, '"<urn:uuid:aaaa-1111>"'
        )
        self.assertIs(removed, False)
        self.assertEqual(len((yield registrar.list_devices(user, self.domain))), 1)

    @inlineCallbacks
    def test_remove_for_unknown_user(self):
        """Removing a device of a user Flexisip holds nothing for answers False."""
        removed = yield self.make_registrar().remove_device(
            self.username(), self.domain, "urn:uuid:aaaa-1111"
        )
        self.assertIs(removed, False)

    @inlineCallbacks
    def test_remove_twice(self):
        """A device removed once is gone: removing it again answers False."""
        user = yield self._seeded([registration("aaaa-1111")])
        registrar = self.make_registrar()
        self.assertIs(
            (yield registrar.remove_device(user, self.domain, "urn:uuid:aaaa-1111")),
            True,
        )
        self.assertIs(
            (yield registrar.remove_device(user, self.domain, "urn:uuid:aaaa-1111")),
            False,
        )

    @inlineCallbacks
    def test_contact_without_instance(self):
        """A contact without +sip.instance is listed and removed by its key."""
        generated = Registration(
            unique_id="fs-gen-6c3b2a1f0e",
            user_agent="Grandstream GXP2170 1.0.11.23",
            expires_at=EXPIRES_AT,
            update_time=UPDATED,
            contact="sip:1001@192.0.2.77:5060",
        )
        user = yield self._seeded([generated, registration("aaaa-1111")])
        registrar = self.make_registrar()
        devices = yield registrar.list_devices(user, self.domain)
        self.assertEqual(
            _by_uuid(devices),
            _by_uuid(
                [
                    device("aaaa-1111"),
                    Device(
                        uuid="fs-gen-6c3b2a1f0e",
                        user_agent="Grandstream GXP2170 1.0.11.23",
                        expires_at="2100-01-01T00:00:00Z",
                        update_time="2099-12-31T23:00:00Z",
                    ),
                ]
            ),
        )
        removed = yield registrar.remove_device(user, self.domain, "fs-gen-6c3b2a1f0e")
        self.assertIs(removed, True)
        self.assertEqual(
            (yield registrar.list_devices(user, self.domain)), [device("aaaa-1111")]
        )
