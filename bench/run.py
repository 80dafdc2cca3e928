"""
famd's benchmark: famd against a bare Klein floor, on this machine.

    python3 bench/run.py                      # 1,000 accounts
    python3 bench/run.py --accounts 1000 --accounts 1000000

For each size it seeds a new SQLite file and starts a famd on it (the
checkout's code), starts the floor (``floor.py``), all on 127.0.0.1, and
drives them with wrk (installed if missing): in each round every endpoint
is run on each size's famd, each run followed by a floor run, so that
machine noise hits all of them alike.  It prints famd's and the floor's
requests/s, their ratio (median of the rounds), p50/p99 latency, errors,
famd's resident memory and start-up time, then every budget of the
performance issue with its verdict (a million accounts against a thousand:
the median of the rounds' ratios).
Every process it starts is stopped at the end.  It needs famd's
dependencies: it runs under the checkout's ``.venv`` when there is one.
Never part of the test suite.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)


def _reexec_in_venv():
    """Run again under the checkout's .venv, which has famd's dependencies."""
    venv_python = os.path.join(CHECKOUT, ".venv", "bin", "python")
    if os.environ.get("FAMD_BENCH_PYTHON") or not os.path.exists(venv_python):
        return
    if os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(CHECKOUT, ".venv")):
        return
    os.environ["FAMD_BENCH_PYTHON"] = venv_python
    os.execv(venv_python, [venv_python] + sys.argv)


_reexec_in_venv()
sys.path[:0] = [CHECKOUT, HERE]
try:
    import klein  # noqa: F401
    import yaml  # noqa: F401
except ImportError as missing:
    raise SystemExit(
        "bench/run.py needs famd's dependencies (%s): python3 -m venv .venv && "
        ".venv/bin/pip install . (it then runs itself under .venv)" % (missing,)
    )

import loadgen  # noqa: E402
import report  # noqa: E402
import seed  # noqa: E402
import servers  # noqa: E402


ENDPOINTS = ("ping", "info", "me", "admin", "digest")


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--accounts", type=int, action="append",
                        help="accounts in the database (repeatable; default 1000)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run (5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, whose median is kept (3)")
    parser.add_argument("--slices", type=int, default=5,
                        help="famd/floor alternations within a round's run of each (5: 1 s each)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--only", action="append", choices=ENDPOINTS,
                        help="measure only this endpoint (repeatable; default all)")
    parser.add_argument("--access-log", choices=("file", "log", "json", "off"), default="file",
                        help="famd's access_log: a file of its own (default), famd's log (text or "
                             "json, its log_format), or none; bench/logmodes.py compares them")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def endpoint_options(seeded, name):
    domain = seed.DOMAIN
    if name == "ping":
        return {"mode": "fixed", "path": "/api/ping"}
    if name == "info":
        return {"mode": "info", "domain": domain, "first": 2, "last": seeded.accounts}
    if name == "me":
        return {"mode": "me", "domain": domain, "first": seeded.first_keyed,
                "step": seeded.key_step, "count": seeded.keyed}
    if name == "admin":
        return {"mode": "admin", "domain": domain, "key": seeded.admin_key, "page": 2}
    if name == "digest":
        return {"mode": "digest", "domain": domain, "first": 2, "last": seeded.accounts,
                "password": seed.PASSWORD}
    raise ValueError(name)


class Size:
    """One database size under test: its seeded file and its famd."""

    def __init__(self, args, python, size, folder):
        self.size = size
        self.folder = os.path.join(folder, str(size))
        os.mkdir(self.folder)
        database = os.path.join(self.folder, "famd.sqlite")
        began = time.monotonic()
        self.seeded = seed.seed(database, size)
        self.seeding = time.monotonic() - began
        access_log = {"file": '"%s"' % os.path.join(self.folder, "access.log"), "log": "true",
                      "json": "true\nlog_format: json", "off": "false"}
        self.famd = servers.famd(python, self.folder, database, seed.DOMAIN,
                                 extra="access_log: %s\n" % access_log[args.access_log])
        self.measured = {}
        self.startup = None


def bench_sizes(args, wrk, python, sizes, folder):
    """
    Measure every size in the same rounds: in each round, each endpoint is
    run on each size's famd, each time followed by a floor run, so that the
    machine's ups and downs hit all of them alike (and the sizes can be
    compared round by round).
    """
    under_test = [Size(args, python, size, folder) for size in sizes]
    floor = servers.floor(python, folder)
    names = [name for name in ENDPOINTS if name in (args.only or ENDPOINTS)]

    def run(server, options, connections=args.connections, seconds=args.seconds):
        before = server.cpu_seconds()
        result = loadgen.run(wrk, server.url, options, seconds, connections, args.threads)
        result.cpu = server.cpu_seconds() - before
        return result

    def famd_and_floor(famd, options, floor_too):
        """
        A round's run of famd (and the floor's), made of slices that
        alternate between the two: a slowdown of the machine lasting a
        few seconds hits both alike.
        """
        slices = max(1, min(args.slices, args.seconds))
        seconds = max(1, args.seconds // slices)
        famd_parts, floor_parts = [], []
        for _ in range(slices):
            famd_parts.append(run(famd, options, seconds=seconds))
            if floor_too:
                floor_parts.append(run(floor, ping, seconds=seconds))
        return loadgen.merge(famd_parts), loadgen.merge(floor_parts) if floor_parts else None

    ping = endpoint_options(under_test[0].seeded, "ping")
    try:
        for size in under_test:  # one at a time: start-up is measured alone
            size.startup = size.famd.start()
        floor.start()
        # Warm them up (imports, first connections, SQLite's page cache).
        for size in under_test:
            for name in ("ping", "info", "me", "admin"):
                loadgen.run(wrk, size.famd.url, endpoint_options(size.seeded, name), 1, args.connections)
            size.measured = {name: report.Measured(name) for name in names}
        loadgen.run(wrk, floor.url, ping, 1, args.connections)
        for round_number in range(args.rounds):
            for name in names:
                for size in under_test:
                    # The digest flow has no counterpart in the floor: no ratio.
                    size.measured[name].add(
                        *famd_and_floor(size.famd, endpoint_options(size.seeded, name), name != "digest")
                    )
            print("  round %d/%d done" % (round_number + 1, args.rounds), flush=True)
        results = {}
        for size in under_test:
            last_page = max(1, -(-size.size // 20))
            pages = run(size.famd, {"mode": "admin", "domain": seed.DOMAIN, "key": size.seeded.admin_key,
                                    "pages": last_page}, connections=1)
            rss, peak = size.famd.memory()
            extras = [
                ("admin page, random of %s pages, 1 connection" % format(last_page, ","),
                 "%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors"
                 % (pages.rate, pages.p50_ms, pages.p99_ms, pages.errors())),
                ("famd resident memory", "%.1f MB now, %.1f MB peak" % (rss / 2**20, peak / 2**20)),
                ("famd start-up (spawn to first pong)", "%.2f s" % size.startup),
                ("seeding", "%.1f s" % size.seeding),
            ]
            results[size.size] = {"measured": size.measured, "admin_p99_ms": pages.p99_ms,
                                  "peak_rss": peak, "startup": size.startup, "extras": extras}
    finally:
        for size in under_test:
            size.famd.stop()
        floor.stop()
    for size, result in sorted(results.items()):
        print(report.table(size, result["measured"], result["extras"]), flush=True)
    return results


def main(argv=None):
    args = arguments(argv)
    sizes = args.accounts or [1000]
    wrk = loadgen.ensure_wrk()
    python = sys.executable
    estimate = len(sizes) * (args.rounds * (2 * 4 + 1) + 4 + 1 + 1) * args.seconds + sum(
        15 + size / 100000 for size in sizes
    )
    print("famd benchmark on %s" % (report.machine(),))
    print("%d connections, %d wrk thread(s), %d rounds of %d s, famd access log: %s; about %d s in all"
          % (args.connections, args.threads, args.rounds, args.seconds, args.access_log, estimate),
          flush=True)
    folder = tempfile.mkdtemp(prefix="famd-bench-")
    try:
        results = bench_sizes(args, wrk, python, sorted({max(2, size) for size in sizes}), folder)
    finally:
        if args.keep:
            print("kept %s" % (folder,))
        else:
            shutil.rmtree(folder, ignore_errors=True)
    report.print_verdicts(results)


if __name__ == "__main__":
    main()
