"""
The ``flexisip-pusher`` push backend: run Flexisip's ``flexisip_pusher`` once
per notification.

The program gets an argument vector through C{reactor.spawnProcess}, never a
shell, so a device token cannot inject commands.  A notification counts as
sent when the program exits with status 0 within the timeout and, if it
prints ``N push notification(s) sent, X successfully and Y failed.``, Y is 0
(Flexisip 2.1 exits 0 even when delivery fails; later releases exit with the
number of failures).  The token, the payload and the FCM key are secrets:
only the provider is logged, and the program's output is never shown.

At most C{max_concurrent} programs run at once; a notification waits at
most C{queue_timeout} seconds for its turn, then fails (the API answers
503), so a flood of requests cannot start a flood of processes.
"""

import json
import re

from twisted.internet import defer, error
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from zope.interface import implementer

from famd.interfaces import DeliveryFailed, DeliveryTimedOut, IPushSender

SUMMARY = re.compile(
    rb"(\d+) push notification\(s\) sent, (\d+) successfully and (\d+) failed\."
)
_OUTPUT_LIMIT = 64 * 1024


class _Collector(ProcessProtocol):
    """Keeps the (first 64 KiB of the) output and reports the end."""

    def __init__(self):
        self.output = bytearray()
        self.ended = defer.Deferred()

    def outReceived(self, data):
        self._keep(data)

    def errReceived(self, data):
        self._keep(data)

    def _keep(self, data):
        room = _OUTPUT_LIMIT - len(self.output)
        if room > 0:
            self.output += data[:room]

    def processEnded(self, reason):
        self.ended.callback(reason.value)


def arguments(
    path, pn_provider, pn_param, pn_prid, payload, key=None, prefix=None, extra_args=()
):
    """The argument vector of one C{flexisip_pusher} run (argv[0] is C{path})."""
    argv = [
        path,
        "--pn-provider",
        pn_provider,
        "--pn-param",
        pn_param,
        "--pn-prid",
        pn_prid,
        "--customPayload",
        json.dumps(payload),
    ]
    if pn_provider.startswith("apns"):
        argv += ["--apple-push-type", "Background"]
    if key is not None:
        argv += ["--key", key]
    if prefix is not None:
        argv += ["--prefix", prefix]
    return argv + list(extra_args)


@implementer(IPushSender)
class FlexisipPusher:
    """
    Pushes through the C{flexisip_pusher} executable at C{path}.

    @param env: the child's environment; None passes famd's own.
    """

    log = Logger()

    def __init__(
        self,
        reactor,
        path,
        key=None,
        prefix=None,
        extra_args=(),
        timeout=30.0,
        env=None,
        max_concurrent=4,
        queue_timeout=5.0,
    ):
        self._reactor = reactor
        self._slots = defer.DeferredSemaphore(max_concurrent)
        self._queue_timeout = queue_timeout
        self._path = path
        self._key = key
        self._prefix = prefix
        self._extra_args = tuple(extra_args)
        self._timeout = timeout
        self._env = env

    def send(self, pn_provider, pn_param, pn_prid, payload):
        turn = self._slots.acquire()
        if not turn.called:
            timer = self._reactor.callLater(self._queue_timeout, turn.cancel)
            turn.addBoth(_stop_timer, timer)
        turn.addErrback(self._busy, pn_provider)
        turn.addCallback(lambda _: self._run(pn_provider, pn_param, pn_prid, payload))
        return turn

    def _busy(self, failure, pn_provider):
        failure.trap(defer.CancelledError)
        raise DeliveryTimedOut(
            "%s push notification not sent: %d flexisip_pusher already running for %g seconds"
            % (pn_provider, self._slots.limit, self._queue_timeout)
        )

    def _run(self, pn_provider, pn_param, pn_prid, payload):
        """Run one program in a slot taken; the slot is given back when it ends."""
        d = self._spawn(pn_provider, pn_param, pn_prid, payload)
        return d.addBoth(self._release)

    def _release(self, result):
        self._slots.release()
        return result

    def _spawn(self, pn_provider, pn_param, pn_prid, payload):
        argv = arguments(
            self._path,
            pn_provider,
            pn_param,
            pn_prid,
            payload,
            self._key,
            self._prefix,
            self._extra_args,
        )
        collector = _Collector()
        try:
            process = self._reactor.spawnProcess(
                collector, self._path, argv, env=self._env
            )
        except (OSError, ValueError) as e:
            return defer.fail(
                DeliveryFailed(
                    "%s push notification not sent: cannot run %s: %s"
                    % (pn_provider, self._path, getattr(e, "strerror", None) or e)
                )
            )
        process.closeStdin()
        timer = self._reactor.callLater(self._timeout, self._kill, process)
        collector.ended.addCallback(self._ended, timer, collector, pn_provider)
        return collector.ended

    def _kill(self, process):
        try:
            process.signalProcess("KILL")
        except error.ProcessExitedAlready:
            pass

    def _ended(self, reason, timer, collector, pn_provider):
        timed_out = not timer.active()
        if not timed_out:
            timer.cancel()
        problem = None
        if timed_out:
            problem = "killed after %g seconds without finishing" % (self._timeout,)
        elif getattr(reason, "signal", None):
            problem = "killed by signal %d" % (reason.signal,)
        elif reason.exitCode:
            problem = "exited with status %d" % (reason.exitCode,)
        else:
            summary = SUMMARY.findall(bytes(collector.output))
            if summary and int(summary[-1][2]) > 0:
                problem = "reported %s of %s failed" % (
                    int(summary[-1][2]),
                    int(summary[-1][0]),
                )
        if problem is not None:
            raise (DeliveryTimedOut if timed_out else DeliveryFailed)(
                "%s push notification not sent: flexisip_pusher %s"
                % (pn_provider, problem)
            )
        self.log.info("{provider} push notification sent", provider=pn_provider)


def _stop_timer(result, timer):
    if timer.active():
        timer.cancel()
    return result


def build(options, context):
    """The factory of the ``flexisip-pusher`` push backend."""
    return FlexisipPusher(
        context.reactor,
        options["path"],
        key=options["key"],
        prefix=options["prefix"],
        extra_args=options["extra_args"],
        timeout=options["timeout"],
        max_concurrent=options["max_concurrent"],
        queue_timeout=options["queue_timeout"],
    )
