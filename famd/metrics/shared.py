"""
The metrics directory every famd process of one server writes to.

The primary process creates a fresh private directory (mode 0700) when
famd starts and names it in C{os.environ[}L{ENVIRONMENT}C{]}, which the
worker processes it starts inherit; it removes the directory when famd
stops.  Each worker writes its L{famd.metrics.recorder.Recorder}'s
snapshot to C{<pid>.json} once a second and when it stops (written to a
temporary file, then renamed: a reader never sees half a file).  The
primary's scrape merges every file with its own counts, kept in memory
(L{merge}): counters and histograms are summed,
gauges too (the pools of all processes).  When a worker exits,
L{process_dead} folds its last counts into C{dead.json}, so counters never
go back; its gauges are dropped.  A worker killed without stopping loses
what it counted since its last flush (at most a second).
"""

import json
import os
import shutil
import tempfile

ENVIRONMENT = "FAMD_METRICS_DIR"
"""The environment variable naming the directory, inherited by workers."""

DEAD = "dead.json"
"""The counts of processes gone, kept so that counters never decrease."""


def create():
    """Create a fresh private directory, name it in C{os.environ}; return its path."""
    path = tempfile.mkdtemp(prefix="famd-metrics-")
    os.chmod(path, 0o700)
    os.environ[ENVIRONMENT] = path
    return path


def inherited():
    """The directory named by the environment (a worker's), or None."""
    path = os.environ.get(ENVIRONMENT)
    return path if path and os.path.isdir(path) else None


def remove(path):
    """Remove the directory (at stop); forget it in C{os.environ}."""
    shutil.rmtree(path, ignore_errors=True)
    if os.environ.get(ENVIRONMENT) == path:
        del os.environ[ENVIRONMENT]


def _write(path, name, data):
    fd, temporary = tempfile.mkstemp(dir=path, prefix=".%s." % (name,))
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    os.replace(temporary, os.path.join(path, name))


def _read(path, name):
    try:
        with open(os.path.join(path, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def flush(path, pid, snapshot):
    """Write C{snapshot} as process C{pid}'s counts; False when the directory is gone."""
    try:
        _write(path, "%d.json" % (pid,), snapshot)
    except OSError:
        return False
    return True


def _add(into, snapshot, with_gauges=True):
    """Add C{snapshot}'s counts (and gauges) to the merged C{into}."""
    for family, labels, cells in snapshot.get("histograms", ()):
        key = (family, tuple(labels))
        total = into["histograms"].get(key)
        if total is None:
            into["histograms"][key] = list(cells)
        else:
            for index, value in enumerate(cells):
                total[index] += value
    for kind in ("counters", "gauges") if with_gauges else ("counters",):
        for family, labels, value in snapshot.get(kind, ()):
            key = (family, tuple(labels))
            into[kind][key] = into[kind].get(key, 0) + value


def merge(path, own=None):
    """
    The sum of every process's counts, the snapshot C{own} (the calling
    process's, kept in memory) included: {'histograms': {(family, labels):
    cells}, 'counters': {...: value}, 'gauges': {...: value}}.
    """
    merged = {"histograms": {}, "counters": {}, "gauges": {}}
    if own is not None:
        _add(merged, own)
    try:
        names = os.listdir(path)
    except OSError:
        return merged
    for name in names:
        if name.endswith(".json") and not name.startswith("."):
            snapshot = _read(path, name)
            if snapshot is not None:
                _add(merged, snapshot, with_gauges=name != DEAD)
    return merged


def _unmerge(merged):
    """L{merge}'s form back to a snapshot's."""
    return {
        "histograms": [[f, list(l), cells] for (f, l), cells in merged["histograms"].items()],
        "counters": [[f, list(l), value] for (f, l), value in merged["counters"].items()],
        "gauges": [],
    }


def fold_dead(path, pid):
    """
    Fold the counts of the exited process C{pid} into L{DEAD} and remove
    its file (call from one process only: the primary's supervisor).
    """
    name = "%d.json" % (pid,)
    snapshot = _read(path, name)
    if snapshot is None:
        return
    merged = {"histograms": {}, "counters": {}, "gauges": {}}
    dead = _read(path, DEAD)
    if dead is not None:
        _add(merged, dead, with_gauges=False)
    _add(merged, snapshot, with_gauges=False)
    _write(path, DEAD, _unmerge(merged))
    os.unlink(os.path.join(path, name))
