"""
The access log: one line per HTTP request, secrets masked (see
L{famd.web.access_log_line}).

Where the lines go is ``access_log`` in famd.yaml:

 - ``true`` (the default): famd's own log.  The lines are kept in memory
   and published once a second and when famd stops, as one event that
   famd's log observer (L{famd.logs}) writes as one log line per access
   line, each with its own time stamp, in one write: a request only
   formats its line.  (One event per line made every line a trip through
   the log observers: formatting, a time stamp, a write and a flush, a
   sixth of a ping's time.)
 - a file path: the lines are kept in memory and appended to that file once
   a second and when famd stops, so a request only formats its line.  The
   file is rotated at 10 MB, keeping the 10 previous ones.
 - ``false``: no access log (a reverse proxy in front already keeps one).
"""

import os
import time

from twisted.application.service import Service
from twisted.logger import Logger, LogLevel, globalLogPublisher
from twisted.python.logfile import LogFile

from famd.logs import ACCESS_BATCH, batches_expanded

ROTATE_LENGTH = 10 * 1000 * 1000
ROTATED_FILES = 10
FLUSH_INTERVAL = 1.0

_LOGGER = Logger(namespace="famd.access")


class KeptLines:
    """
    Lines kept in memory and written by C{_write(lines)} at most once every
    L{FLUSH_INTERVAL} seconds, at once when there is no C{clock} to wait on,
    and at once after L{close} (a request finishing while famd stops).
    Subclasses add to C{_lines}, then call L{_kept}.
    """

    def __init__(self, clock):
        self._clock = clock
        self._lines = []
        self._pending = None
        self._closed = False

    def _kept(self):
        """Lines were added: write them now, or when the current interval ends."""
        if self._closed or self._clock is None:
            self.flush()
        elif self._pending is None:
            self._pending = self._clock.callLater(FLUSH_INTERVAL, self.flush)

    def flush(self):
        """Write the lines kept so far."""
        if self._pending is not None and self._pending.active():
            self._pending.cancel()
        self._pending = None
        if self._lines:
            lines, self._lines = self._lines, []
            self._write(lines)

    def _write(self, lines):
        raise NotImplementedError()

    def close(self):
        """Write what is kept; from now on every line is written at once."""
        self._closed = True
        self.flush()


class LogAccess(KeptLines):
    """
    Access lines for famd's log, kept in memory and published at most once
    a second (and when famd stops): one event carrying every line with its
    time (C{famd_access_batch}, see L{famd.logs}) when famd's observer
    writes the log, otherwise one ``[famd.access#info] LINE`` event per line.
    Without a C{clock} (tests, tools) every line is published at once.
    C{batches} True publishes batches whoever writes the log (a worker
    process relaying them to the parent, whose observer writes them).
    """

    def __init__(self, clock=None, observer=globalLogPublisher, batches=None):
        super().__init__(clock)
        self._observer = observer
        self._batches = batches_expanded if batches is None else (lambda: batches)
        self._seconds = time.time if clock is None else clock.seconds

    def __call__(self, line):
        self._lines.append((self._seconds(), line))
        self._kept()

    def write_batch(self, stamped_lines):
        """Add lines made elsewhere (a worker's), C{[(time, line), ...]}, written like this writer's own."""
        self._lines.extend(stamped_lines)
        if self._lines:
            self._kept()

    def _write(self, lines):
        """Publish C{lines}: one batch event, or one event per line."""
        if self._batches():
            self._observer(
                {
                    "log_format": "{famd_access_count} access log lines",
                    "famd_access_count": len(lines),
                    ACCESS_BATCH: lines,
                    "log_logger": _LOGGER,
                    "log_level": LogLevel.info,
                    "log_namespace": "famd.access",
                    "log_source": None,
                    "log_time": lines[-1][0],
                }
            )
            return
        for when, line in lines:
            # A complete event, handed to the publisher as Logger.emit would.
            self._observer(
                {
                    "log_format": "{line}",
                    "line": line,
                    "log_logger": _LOGGER,
                    "log_level": LogLevel.info,
                    "log_namespace": "famd.access",
                    "log_source": None,
                    "log_time": when,
                }
            )


class FileAccess(KeptLines):
    """
    Access lines appended to a file of their own, once a second: each line
    is ``2026-06-01T10:00:00+0000 LINE``.
    """

    def __init__(self, path, clock):
        super().__init__(clock)
        self.path = path
        self._file = None
        self._second = None
        self._stamp = ""

    def __call__(self, line):
        self._lines.append(self._stamp_of(self._clock.seconds()) + line + "\n")
        self._kept()

    def write_batch(self, stamped_lines):
        """Add lines made elsewhere (a worker's), C{[(time, line), ...]}, each stamped with its own time."""
        stamp_of, lines = self._stamp_of, self._lines
        for when, line in stamped_lines:
            lines.append(stamp_of(when) + line + "\n")
        if lines:
            self._kept()

    def _stamp_of(self, now):
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S+0000 ", time.gmtime(second))
        return self._stamp

    def _write(self, lines):
        """Append C{lines} to the file."""
        data = "".join(lines)
        if self._file is None:
            self._file = LogFile(
                os.path.basename(self.path), os.path.dirname(self.path) or ".",
                rotateLength=ROTATE_LENGTH, maxRotatedFiles=ROTATED_FILES,
            )
        self._file.write(data.encode("utf-8", "backslashreplace"))


def from_setting(setting, clock):
    """The writer for an ``access_log`` value (True, False or a path); None when off."""
    if setting is True:
        return LogAccess(clock)
    if setting is False or setting is None:
        return None
    return FileAccess(setting, clock)


class AccessLogService(Service):
    """Writes what is left of the access log when famd stops."""

    name = "access-log"

    def __init__(self, access):
        self.access = access

    def stopService(self):
        super().stopService()
        if self.access is not None:
            self.access.close()


def check_setting(value):
    """The ``access_log`` option's check: true, false or a file path."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip()):
        return None
    return "must be true, false or a file path, not %r" % (value,)
