"""
The load generator: Debian's ``wrk`` (C, epoll), driven with ``wrk.lua``
(a request built per call: random accounts, the DIGEST flow) or, for one
fixed request, ``wrk-fixed.lua`` (no Lua call per request: against the
floor wrk's CPU per request went from 19-20 us to 16.5-18, and on a 2-core
machine wrk's CPU is taken from the server under test).

L{ensure_wrk} installs the ``wrk`` package when it is missing (apt-get, as
root or through sudo).  L{run} runs one bounded measurement against a URL on
127.0.0.1 and returns what the script's ``done()`` printed.
"""

import json
import os
import subprocess

import debian

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "wrk.lua")
FIXED_SCRIPT = os.path.join(HERE, "wrk-fixed.lua")
"""For mode=fixed: the same request every time, with no Lua call per request."""
FIXED_HEADERS = {"from": "From", "key": "x-api-key"}
MARK = "FAMD-BENCH "


def ensure_wrk():
    """The path of wrk, installing Debian's package first if needed."""
    return debian.ensure("wrk", "wrk")


class Result:
    """One wrk run: throughput, latency percentiles, errors."""

    def __init__(self, data):
        self.data = data
        self.seconds = data["duration_us"] / 1e6
        self.requests = data["requests"]
        self.rate = self.requests / self.seconds if self.seconds else 0.0
        self.p50_ms = data["p50_us"] / 1000.0
        self.p99_ms = data["p99_us"] / 1000.0
        self.ok = data["ok"]
        self.unexpected = data["unexpected"]

    def errors(self, expected_statuses_counted=False):
        """Socket errors, timeouts and unexpected statuses."""
        transport = sum(self.data[k] for k in ("connect", "read", "write", "timeout"))
        if expected_statuses_counted:  # digest: 401s are part of the flow
            return transport + self.unexpected
        return transport + self.data["status"]


COUNTS = ("requests", "duration_us", "ok", "unexpected", "connect", "read", "write", "timeout", "status")


def merge(results):
    """
    One L{Result} for consecutive runs against the same server: counts and
    durations added up, the median of their p50s and the worst of their p99s.
    """
    data = {key: sum(r.data[key] for r in results) for key in COUNTS}
    data["p50_us"] = sorted(r.data["p50_us"] for r in results)[len(results) // 2]
    data["p99_us"] = max(r.data["p99_us"] for r in results)
    merged = Result(data)
    merged.cpu = sum(getattr(r, "cpu", 0.0) for r in results)
    return merged


def run(wrk, url, options, seconds, connections, threads=1, timeout=5):
    """
    Run wrk for C{seconds} against C{url} (the server's base URL) with the
    script options C{options} (a dict, see ``wrk.lua``).
    """
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("the benchmark only loads 127.0.0.1")
    argv = [wrk, "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "%ds" % timeout]
    if options.get("mode") == "fixed":
        for option, header in FIXED_HEADERS.items():
            if option in options:
                argv += ["-H", "%s: %s" % (header, options[option])]
        argv += ["-s", FIXED_SCRIPT, url + options["path"]]
    else:
        argv += ["-s", SCRIPT, url + "/api/ping", "--"] + ["%s=%s" % item for item in options.items()]
    completed = subprocess.run(
        argv, capture_output=True, text=True, timeout=seconds + timeout + 30
    )
    for line in completed.stdout.splitlines():
        if line.startswith(MARK):
            return Result(json.loads(line[len(MARK):]))
    raise RuntimeError("wrk printed no result:\n%s\n%s" % (completed.stdout, completed.stderr))
