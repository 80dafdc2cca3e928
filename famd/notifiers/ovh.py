"""
The ``ovh`` SMS backend: the OVHcloud SMS API (``POST /sms/{service}/jobs``).

Requests are signed the way OVH documents: ``"$1$" + sha1_hex(application
secret + "+" + consumer key + "+" + METHOD + "+" + full URL + "+" + body +
"+" + timestamp)``, the timestamp being OVH's clock, learnt once from
``GET /auth/time`` and kept as an offset from the reactor's clock.

The HTTP client is any treq-like object (C{get}/C{post} returning a Deferred
L{IResponse}); L{build} makes a L{treq.client.HTTPClient} on the reactor.
"""

import json
from hashlib import sha1
from urllib.parse import quote

import treq
from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from famd.interfaces import DeliveryFailed, DeliveryTimedOut, ISMSSender

_GSM_7BIT = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€"
)


def coding(text):
    """OVH's C{coding}: "7bit" when GSM 03.38 covers C{text}, else "8bit"."""
    return "7bit" if set(text) <= _GSM_7BIT else "8bit"


def signature(secret, consumer_key, method, url, body, timestamp):
    """The X-Ovh-Signature value of one request."""
    text = "+".join([secret, consumer_key, method.upper(), url, body, str(timestamp)])
    return "$1$" + sha1(text.encode("utf-8")).hexdigest()


class _Failed(Exception):
    """Internal: a step failed; the message is safe to show."""


@implementer(ISMSSender)
class OVHSMSSender:
    """
    Sends SMS through one OVH SMS account.

    @param client: a treq-like HTTP client.
    @param reactor: gives the local time and schedules the timeout.
    @param sender: the sender name or number, or None to let OVH choose a
        number (C{senderForResponse}).
    """

    log = Logger()

    def __init__(
        self,
        client,
        reactor,
        application_key,
        application_secret,
        consumer_key,
        service_name,
        sender=None,
        endpoint="https://eu.api.ovh.com/1.0",
        timeout=30.0,
    ):
        self._client = client
        self._reactor = reactor
        self._application_key = application_key
        self._secret = application_secret
        self._consumer_key = consumer_key
        self._sender = sender
        self._endpoint = endpoint.rstrip("/")
        self._jobs_url = "%s/sms/%s/jobs" % (
            self._endpoint,
            quote(service_name, safe=""),
        )
        self._timeout = timeout
        self._offset = None

    def send(self, phone, text):
        d = defer.Deferred.fromCoroutine(self._send(phone, text))
        expired = []

        def expire():
            expired.append(True)
            d.cancel()

        timer = self._reactor.callLater(self._timeout, expire)

        def finished(result):
            if timer.active():
                timer.cancel()
            return result

        d.addBoth(finished)
        d.addErrback(self._failed, phone, expired)
        return d

    async def _send(self, phone, text):
        timestamp = await self._timestamp()
        job = {
            "charset": "UTF-8",
            "coding": coding(text),
            "message": text,
            "noStopClause": True,
            "priority": "high",
            "receivers": [phone],
        }
        if self._sender is None:
            job["senderForResponse"] = True
        else:
            job["sender"] = self._sender
            job["senderForResponse"] = False
        body = json.dumps(job)
        headers = {
            "X-Ovh-Application": self._application_key,
            "X-Ovh-Consumer": self._consumer_key,
            "X-Ovh-Timestamp": str(timestamp),
            "X-Ovh-Signature": signature(
                self._secret,
                self._consumer_key,
                "POST",
                self._jobs_url,
                body,
                timestamp,
            ),
            "Content-Type": "application/json",
        }
        response = await self._client.post(
            self._jobs_url, data=body.encode("utf-8"), headers=headers
        )
        answer = await self._json(response, "the SMS job")
        if not isinstance(answer, dict):
            raise _Failed("OVH answered an unexpected document")
        if answer.get("invalidReceivers"):
            raise _Failed("OVH rejected the receiver")
        self.log.info("SMS to {phone} handed to OVH", phone=phone)

    async def _timestamp(self):
        """OVH's current time (int), asking OVH for its clock the first time."""
        if self._offset is None:
            response = await self._client.get(
                self._endpoint + "/auth/time",
                headers={"X-Ovh-Application": self._application_key},
            )
            server = await self._json(response, "the time")
            if isinstance(server, bool) or not isinstance(server, int):
                raise _Failed("OVH answered an unexpected time")
            self._offset = server - int(self._reactor.seconds())
        return int(self._reactor.seconds()) + self._offset

    async def _json(self, response, what):
        """The decoded JSON answer, or L{_Failed} with the status and OVH's message."""
        content = await treq.content(response)
        try:
            document = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            document = None
        if not 200 <= response.code < 300:
            message = document.get("message") if isinstance(document, dict) else None
            raise _Failed(
                "OVH answered %d to %s%s"
                % (response.code, what, ": %s" % (message,) if message else "")
            )
        if document is None:
            raise _Failed("OVH answered %s with something that is not JSON" % (what,))
        return document

    def _failed(self, failure, phone, expired):
        if expired:
            why = "no answer from %s within %g seconds" % (
                self._endpoint,
                self._timeout,
            )
        elif failure.check(_Failed):
            why = str(failure.value)
        elif failure.check(defer.CancelledError):
            why = "cancelled"
        else:
            why = "cannot reach %s: %s" % (self._endpoint, _reason(failure))
        raise (DeliveryTimedOut if expired else DeliveryFailed)(
            "SMS to %s not sent: %s" % (phone, self._scrub(why)))

    def _scrub(self, text):
        """C{text} shortened, with any key or secret replaced by ***."""
        for secret in (self._secret, self._consumer_key, self._application_key):
            if len(secret) >= 8:
                text = text.replace(secret, "***")
        text = " ".join(text.split())
        return text if len(text) <= 300 else text[:297] + "..."


def _reason(failure):
    """What went wrong below HTTP, without twisted.web's Failure lists."""
    reasons = getattr(failure.value, "reasons", None)
    if reasons:
        return "; ".join(reason.getErrorMessage() for reason in reasons)
    return failure.getErrorMessage()


def build(options, context):
    """The factory of the ``ovh`` SMS backend."""
    from treq.client import HTTPClient
    from twisted.web.client import Agent, HTTPConnectionPool

    reactor = context.reactor
    client = HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor)))
    return OVHSMSSender(
        client,
        reactor,
        options["application_key"],
        options["application_secret"],
        options["consumer_key"],
        options["service_name"],
        sender=options["sender"],
        endpoint=options["endpoint"],
        timeout=options["timeout"],
    )
