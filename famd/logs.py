"""
famd's log observer: every line of famd's log, twistd's own included, in
the format chosen by ``log_format`` in famd.yaml.

 - ``text`` (the default): twistd's classic lines,
   ``2026-12-02T17:38:17+0000 [famd.access#info] LINE``.
 - ``json``: one JSON object per line (JSON Lines): ``time`` (ISO 8601,
   UTC, milliseconds), ``level``, ``namespace``, ``text`` (what the text
   format shows after the system), ``system`` for twistd's legacy events,
   ``traceback`` when the event carries a failure; access lines add their
   parts (``client``, ``method``, ``path``, ``status``, ``bytes``,
   ``user_agent``; a line of another shape has only ``text``).  Only what
   the text format shows goes in, so a secret masked in the text line is
   masked here too (an event's other fields, which twisted's own JSON
   observer would dump, never reach the file).

The access log's lines come as batches (L{famd.accesslog.LogAccess}, or a
worker process relaying its own): one event carrying ``famd_access_batch``,
a list of ``[time, line]``, which this observer writes as one log line per
access line, each with its own time, in one write.

twistd installs the observer of the application's L{ILogObserver}
component instead of its own: L{ObservedService} sets that component when
twistd adds famd's service to its application (before twistd starts
logging).  L{observer_for_twistd} writes where twistd would have: the
``--logfile`` file (rotated like twistd's: at 1 MB, and on SIGUSR1),
stdout with ``-n`` and no ``--logfile`` (or ``--logfile -``), or syslog
with ``--syslog`` (always text there: syslog frames its own lines).  With
``--logger`` twistd uses that observer and not famd's: the access log then
sends one event per line (see L{batches_expanded}).
"""

import signal
import sys
import time

import orjson
from twisted.application.service import MultiService
from twisted.logger import (
    ILogObserver,
    LegacyLogObserverWrapper,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
)
from twisted.python.components import Componentized
from twisted.python.logfile import LogFile
from zope.interface import implementer

FORMATS = ("text", "json")
ACCESS_BATCH = "famd_access_batch"
"""The event key of a batch of access lines: a list of C{[time, line]}."""

_MILLISECONDS = [".%03dZ" % (ms,) for ms in range(1000)]

_expanded = [False]


def batches_expanded():
    """Whether a famd observer installed by twistd writes this process's log (and reads batches)."""
    return _expanded[0]


def check_setting(value):
    """The ``log_format`` option's check."""
    return None if value in FORMATS else "must be text or json, not %r" % (value,)


class _Stamps:
    """Time stamps of both formats, each made once per second."""

    def __init__(self):
        self._text_second = self._json_second = None
        self._text = self._json = ""

    def text(self, when):
        """twistd's stamp: local time and its offset, to the second."""
        if when is None:
            return "-"
        second = int(when)
        if second != self._text_second:
            self._text_second, self._text = second, formatTime(second)
        return self._text

    def json(self, when):
        """ISO 8601 in UTC, to the millisecond."""
        if when is None:
            return None
        second = int(when)
        if second != self._json_second:
            self._json_second = second
            self._json = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return self._json + _MILLISECONDS[int((when - second) * 1000)]


def _level_name(event):
    level = event.get("log_level")
    return level.name if level is not None else "-"


@implementer(ILogObserver)
class LogObserver:
    """
    Writes events through C{write} (a callable taking text) then calls
    C{flush}, one call of each per event (per batch for access lines),
    in C{log_format} (``text`` or ``json``).  With C{announce}, the first
    event it sees tells L{batches_expanded} that it writes this process's log.
    """

    def __init__(self, write, flush, log_format="text", announce=False):
        self._write = write
        self._flush = flush
        self._json = log_format == "json"
        self._announce = announce
        self._stamps = _Stamps()

    def __call__(self, event):
        if self._announce:
            _expanded[0], self._announce = True, False
        batch = event.get(ACCESS_BATCH)
        if batch is not None:
            text = self._batch_json(event, batch) if self._json else self._batch_text(event, batch)
        else:
            text = self._event_json(event) if self._json else self._event_text(event)
        if text:
            self._write(text)
            self._flush()

    def _event_text(self, event):
        return formatEventAsClassicLogText(event, formatTime=self._stamps.text)

    def _event_json(self, event):
        text = formatEvent(event)
        record = {
            "time": self._stamps.json(event.get("log_time")),
            "level": _level_name(event),
            "namespace": event.get("log_namespace", "-"),
            "text": text,
        }
        if "log_system" in event:
            record["system"] = str(event["log_system"])
        failure = event.get("log_failure")
        if failure is not None:
            try:
                record["traceback"] = failure.getTraceback()
            except Exception:  # a failure that cannot even print itself
                record["traceback"] = "(unable to obtain traceback)"
        elif not text:
            return None
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE).decode("utf-8")

    def _batch_text(self, event, batch):
        system = " [%s#%s] " % (event.get("log_namespace", "-"), _level_name(event))
        stamp, lines = self._stamps.text, []
        second = prefix = None
        for when, line in batch:
            if int(when) != second:  # the stamp and system, made once per second
                second = int(when)
                prefix = stamp(when) + system
            lines.append(prefix + line)
        lines.append("")
        return "\n".join(lines)

    def _batch_json(self, event, batch):
        namespace, level = event.get("log_namespace", "-"), _level_name(event)
        stamp, dumps = self._stamps.json, orjson.dumps
        records = []
        for when, line in batch:
            try:
                client, method, path, status, size, agent = line.split(" ", 5)
                if method[0] != '"' or path[-1] != '"' or agent[0] != '"' or agent[-1] != '"':
                    raise ValueError(line)
                record = {"time": stamp(when), "level": level, "namespace": namespace, "text": line,
                          "client": client, "method": method[1:], "path": path[:-1],
                          "status": int(status), "bytes": int(size) if size != "-" else 0,
                          "user_agent": agent[1:-1]}
            except (ValueError, IndexError):  # a line of another shape: no parts
                record = {"time": stamp(when), "level": level, "namespace": namespace, "text": line}
            records.append(dumps(record))
        return (b"\n".join(records) + b"\n").decode("utf-8")


def _expanded_events(event):
    """A batch event as the one-line events it stands for (for observers that do not read batches)."""
    batch = event.get(ACCESS_BATCH)
    if batch is None:
        return [event]
    base = {key: value for key, value in event.items() if key != ACCESS_BATCH}
    base["log_format"] = "{line}"
    return [dict(base, log_time=when, line=line) for when, line in batch]


@implementer(ILogObserver)
class ExpandingObserver:
    """Hands C{observer} every event, a batch of access lines as one event per line."""

    def __init__(self, observer, announce=False):
        self._observer = observer
        self._announce = announce

    def __call__(self, event):
        if self._announce:
            _expanded[0], self._announce = True, False
        for one in _expanded_events(event):
            self._observer(one)


def observer_for_twistd(log_format, twistd_options):
    """
    famd's observer writing where twistd, given C{twistd_options} (its
    parsed command line), would have written its log.

    @raise SystemExit: the log cannot be written there.
    """
    options = twistd_options or {}
    if options.get("syslog"):
        from twisted.python import syslog

        return ExpandingObserver(
            LegacyLogObserverWrapper(syslog.SyslogObserver(options.get("prefix") or "").emit),
            announce=True,
        )
    logfile = options.get("logfile") or ""
    nodaemon = options.get("nodaemon", False)
    if logfile == "-" and not nodaemon:
        raise SystemExit("Daemons cannot log to stdout, exiting!")
    if logfile == "-" or (nodaemon and not logfile):
        out = sys.stdout
        return LogObserver(out.write, out.flush, log_format, announce=True)
    try:
        out = LogFile.fromFullPath(logfile or "twistd.log")
    except OSError as error:
        raise SystemExit("famd: cannot open the log file %s: %s" % (logfile or "twistd.log", error))
    _rotate_on_sigusr1(out)
    return LogObserver(out.write, out.flush, log_format, announce=True)


def _rotate_on_sigusr1(logfile):
    """Rotate C{logfile} on SIGUSR1, as twistd does, unless something else handles it."""
    if signal.getsignal(signal.SIGUSR1):
        return

    def rotate(number, frame):
        from twisted.internet import reactor

        reactor.callFromThread(logfile.rotate)

    signal.signal(signal.SIGUSR1, rotate)


class ObservedService(MultiService):
    """
    famd's service tree under one more service, which hands twistd's
    application C{observer} as its L{ILogObserver} component when twistd
    adds famd to the application, so that twistd logs through it.
    """

    def __init__(self, service, observer):
        super().__init__()
        self.observer = observer
        service.setServiceParent(self)

    def setServiceParent(self, parent):
        if isinstance(parent, Componentized):
            parent.setComponent(ILogObserver, self.observer)
        super().setServiceParent(parent)
