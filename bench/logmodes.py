"""
The access log's cost: ``GET /api/ping`` on famd with each access-log mode,
measured in the same moments.

    python3 bench/logmodes.py                 # 5 rounds of 5 s, about 2 minutes

Four servers on 127.0.0.1: famd with ``access_log: FILE`` (a file of its
own), famd with the default (``access_log: true``: famd's log, text), the
same with ``log_format: json``, and the bare Klein floor.  Each famd logs to
a file (``--logfile``).  In each round every server gets ``--slices``
1-second wrk runs, the servers taking turns slice by slice, so that a
slowdown of this shared machine hits them alike.  It prints each server's
requests/s and CPU µs per request (medians of the rounds), each famd's
ratio to FILE mode and to the floor (medians of the rounds' ratios), the
budget's verdict (the default within 5 % of FILE mode), and the access
lines each famd wrote against the requests wrk saw answered (a log that
lost lines would show fewer).  Never part of the test suite.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402  (runs this command again under the checkout's .venv)
from run import loadgen, report, seed, servers  # noqa: E402

MODES = (
    ("file", "access_log: FILE", 'access_log: "{folder}/access.log"\n'),
    ("log", "access_log: true (text)", "access_log: true\n"),
    ("json", "access_log: true, log_format: json", "access_log: true\nlog_format: json\n"),
)
BUDGET = 0.95
"""The default mode's ping against FILE mode's (issue 17)."""


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, whose median is kept (5)")
    parser.add_argument("--slices", type=int, default=5, help="1-second runs of each server per round (5)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (64)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def access_lines(folder):
    """Access lines in a famd's log (its famd.log and rotated files) or its access.log."""
    count = 0
    for name in os.listdir(folder):
        if name.startswith("famd.log") or name.startswith("access.log"):
            with open(os.path.join(folder, name), "rb") as f:
                for line in f:
                    if b"/api/ping" in line:
                        count += 1
    return count


def main(argv=None):
    args = arguments(argv)
    wrk = loadgen.ensure_wrk()
    print("famd access-log modes on %s" % (report.machine(),))
    print("%d connections, %d rounds of %d one-second slices per server; about %d s"
          % (args.connections, args.rounds, args.slices, args.rounds * args.slices * 4 + 20), flush=True)
    top = tempfile.mkdtemp(prefix="famd-bench-logs-")
    database = os.path.join(top, "famd.sqlite")
    seed.seed(database, 100)
    famds = {}
    for name, label, extra in MODES:
        folder = os.path.join(top, name)
        os.mkdir(folder)
        famds[name] = servers.famd(sys.executable, folder, database, seed.DOMAIN,
                                   extra=extra.format(folder=folder))
    floor = servers.floor(sys.executable, top)
    ping = {"mode": "fixed", "path": "/api/ping"}
    everyone = list(famds.items()) + [("floor", floor)]
    rounds = {name: [] for name, _ in everyone}
    answered = {name: 0 for name in famds}
    warm = {}
    try:
        for _, server in everyone:
            server.start()
        warm = {name: loadgen.run(wrk, server.url, ping, 1, args.connections) for name, server in everyone}
        for number in range(args.rounds):
            parts = {name: [] for name, _ in everyone}
            for _ in range(args.slices):
                for name, server in everyone:
                    before = server.cpu_seconds()
                    result = loadgen.run(wrk, server.url, ping, 1, args.connections)
                    result.cpu = server.cpu_seconds() - before
                    parts[name].append(result)
            for name, _ in everyone:
                rounds[name].append(loadgen.merge(parts[name]))
            print("  round %d/%d done" % (number + 1, args.rounds), flush=True)
    finally:
        for name, server in everyone:
            server.stop()
    for name, server in famds.items():
        answered[name] = access_lines(server.folder)
    print()
    print("| famd | ping req/s | CPU µs/req | ratio to FILE | ratio to floor | access lines / 200s wrk saw |")
    print("|---|---|---|---|---|---|")
    for name, label, _ in MODES:
        mine = rounds[name]
        to_file = statistics.median(m.rate / f.rate for m, f in zip(mine, rounds["file"]))
        to_floor = statistics.median(m.rate / f.rate for m, f in zip(mine, rounds["floor"]))
        cpu = statistics.median(1e6 * m.cpu / m.requests for m in mine if m.requests)
        ok = sum(m.requests - m.data["status"] for m in mine) + warm[name].requests - warm[name].data["status"]
        print("| %s | %s | %.0f | %.3f | %.2f | %s / %s |"
              % (label, format(round(statistics.median(m.rate for m in mine)), ","), cpu, to_file,
                 to_floor, format(answered[name], ","), format(ok, ",")))
    print("| floor (bare Klein) | %s | - | - | 1.00 | - |"
          % format(round(statistics.median(m.rate for m in rounds["floor"])), ","))
    spread = [m.rate / f.rate for m, f in zip(rounds["log"], rounds["file"])]
    json_spread = [m.rate / f.rate for m, f in zip(rounds["json"], rounds["file"])]
    print()
    print("default/FILE by round: %s" % (", ".join("%.3f" % r for r in spread),))
    print("json/FILE by round:    %s" % (", ".join("%.3f" % r for r in json_spread),))
    verdict = statistics.median(spread)
    print("budget: default within 5 %% of FILE mode (ratio >= %.2f): %.3f, %s"
          % (BUDGET, verdict, "holds" if verdict >= BUDGET else "NOT MET"))
    errors = sum(m.errors() for ms in rounds.values() for m in ms)
    print("errors: %d" % (errors,))
    if args.keep:
        print("kept %s" % (top,))
    else:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
