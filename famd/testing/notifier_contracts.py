"""
Contract test mixins for the notifier interfaces, one per interface.

Mix one into a L{twisted.trial.unittest.TestCase} and define the two hooks it
names; the same tests then run against every provider, famd's and third
parties'.  Hooks may return a value or a Deferred.  famd's own providers run
them against the real servers of L{famd.testing.smtp_server},
L{famd.testing.ovh_api} and L{famd.testing.pusher}, which a third-party
provider speaking those protocols may reuse.
"""

from twisted.internet.defer import inlineCallbacks, maybeDeferred
from zope.interface.verify import verifyObject

from famd.interfaces import IEmailSender, IPushSender, ISMSSender


class EmailSenderContract:
    """
    What every L{IEmailSender} does.

    Hooks: C{make_sender()} returns the provider under test;
    C{recipients()} returns the recipients the transport saw, in order.
    """

    @inlineCallbacks
    def test_provides_interface(self):
        """The provider declares and fully implements IEmailSender."""
        sender = yield maybeDeferred(self.make_sender)
        self.assertTrue(verifyObject(IEmailSender, sender))

    @inlineCallbacks
    def test_send_plain(self):
        """A plain-text message is handed over and the Deferred fires with None."""
        sender = yield maybeDeferred(self.make_sender)
        result = yield sender.send("alice@example.org", "Hello", "Your code: 1234")
        self.assertIsNone(result)
        recipients = yield maybeDeferred(self.recipients)
        self.assertEqual(list(recipients), ["alice@example.org"])

    @inlineCallbacks
    def test_send_html(self):
        """A message with an HTML alternative is handed over like a plain one."""
        sender = yield maybeDeferred(self.make_sender)
        result = yield sender.send(
            "bob@example.org", "Hello", "Hi", html="<p>Hi &amp; welcome</p>"
        )
        self.assertIsNone(result)
        recipients = yield maybeDeferred(self.recipients)
        self.assertEqual(list(recipients), ["bob@example.org"])

    @inlineCallbacks
    def test_send_twice(self):
        """Two messages sent one after the other both reach the transport."""
        sender = yield maybeDeferred(self.make_sender)
        yield sender.send("alice@example.org", "One", "first")
        yield sender.send("bob@example.org", "Two", "second")
        recipients = yield maybeDeferred(self.recipients)
        self.assertEqual(list(recipients), ["alice@example.org", "bob@example.org"])


class SMSSenderContract:
    """
    What every L{ISMSSender} does.

    Hooks: C{make_sender()} returns the provider under test;
    C{recipients()} returns the numbers the transport saw, in order.
    """

    @inlineCallbacks
    def test_provides_interface(self):
        """The provider declares and fully implements ISMSSender."""
        sender = yield maybeDeferred(self.make_sender)
        self.assertTrue(verifyObject(ISMSSender, sender))

    @inlineCallbacks
    def test_send(self):
        """A text is handed over and the Deferred fires with None."""
        sender = yield maybeDeferred(self.make_sender)
        result = yield sender.send("+33612345678", "Your code is 1234")
        self.assertIsNone(result)
        recipients = yield maybeDeferred(self.recipients)
        self.assertEqual(list(recipients), ["+33612345678"])

    @inlineCallbacks
    def test_send_unicode(self):
        """A text outside the GSM alphabet is handed over too."""
        sender = yield maybeDeferred(self.make_sender)
        result = yield sender.send("+33612345679", "Code \u2713 \U0001f511 1234")
        self.assertIsNone(result)
        recipients = yield maybeDeferred(self.recipients)
        self.assertEqual(list(recipients), ["+33612345679"])

    @inlineCallbacks
    def test_send_twice(self):
        """Two texts sent one after the other both reach the transport."""
        sender = yield maybeDeferred(self.make_sender)
        yield sender.send("+33612345678", "one")
        yield sender.send("+4915112345678", "two")
        recipients = yield maybeDeferred(self.recipients)
        self.assertEqual(list(recipients), ["+33612345678", "+4915112345678"])


class PushSenderContract:
    """
    What every L{IPushSender} does.

    Hooks: C{make_sender()} returns the provider under test; C{pushed()}
    returns the (pn_provider, pn_param, pn_prid, payload) the transport saw,
    in order.
    """

    @inlineCallbacks
    def test_provides_interface(self):
        """The provider declares and fully implements IPushSender."""
        sender = yield maybeDeferred(self.make_sender)
        self.assertTrue(verifyObject(IPushSender, sender))

    @inlineCallbacks
    def test_send_fcm(self):
        """An FCM notification is handed over and the Deferred fires with None."""
        sender = yield maybeDeferred(self.make_sender)
        payload = {"token": "abc"}
        result = yield sender.send("fcm", "project-id", "device-token", payload)
        self.assertIsNone(result)
        pushed = yield maybeDeferred(self.pushed)
        self.assertEqual(list(pushed), [("fcm", "project-id", "device-token", payload)])

    @inlineCallbacks
    def test_send_apns(self):
        """An APNs notification is handed over and the Deferred fires with None."""
        sender = yield maybeDeferred(self.make_sender)
        payload = {"token": "def"}
        param = "ABCD1234.org.linphone.phone.voip"
        result = yield sender.send("apns", param, "0123456789abcdef", payload)
        self.assertIsNone(result)
        pushed = yield maybeDeferred(self.pushed)
        self.assertEqual(list(pushed), [("apns", param, "0123456789abcdef", payload)])
