"""
The share of a famd process's CPU samples spent in one package (py-spy):
how much metrics cost, measured inside the process, so that the machine's
load (which moves every throughput figure) hardly moves it.

A sample counts for the package when its deepest frame of that package
calls nothing else of famd, Twisted's web server or Klein below it (the
hot paths' wrappers, such as the metered request, are not charged for the
request they wrap).
"""

import os
import shutil
import signal
import subprocess
import sys

SERVING = ("famd/", "twisted/web", "klein/")


class Profile:
    """py-spy recording process C{pid} at C{rate} samples/s until L{stop}."""

    def __init__(self, pid, path, rate=100):
        self.path = path
        py_spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
        if not os.path.exists(py_spy):
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        self._process = subprocess.Popen(
            [py_spy, "record", "-p", str(pid), "-r", str(rate), "--nonblocking", "-f", "raw", "-o", path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        """End the recording (py-spy writes its file on SIGINT)."""
        self._process.send_signal(signal.SIGINT)
        self._process.wait(timeout=60)


def share(path, package="famd/metrics/"):
    """(samples, samples charged to C{package}, {function: samples}) of a raw py-spy file."""
    total = charged = 0
    by_function = {}
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            count = int(count)
            total += count
            frames = stack.split(";")
            inside = [index for index, frame in enumerate(frames) if package in frame]
            if not inside:
                continue
            below = frames[inside[-1] + 1:]
            if any(package not in frame and any(part in frame for part in SERVING) for frame in below):
                continue
            charged += count
            name = frames[inside[-1]].split(" (")[0]
            by_function[name] = by_function.get(name, 0) + count
    return total, charged, by_function
