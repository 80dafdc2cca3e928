"""
famd's benchmark: famd against a bare Klein floor, on this machine.

    python3 bench/run.py                      # 1,000 accounts
    python3 bench/run.py --accounts 1000 --accounts 1000000
    python3 bench/run.py --workers            # workers: 2 against workers: 1
    python3 bench/run.py --metrics            # metrics off against metrics on
    python3 bench/run.py --metrics --profile  # and the share of famd/metrics in py-spy's samples

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
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

from checkout import CHECKOUT, HERE, reexec_in_venv  # standard library only

reexec_in_venv()
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
import profile_share  # noqa: E402
import report  # noqa: E402
import seed  # noqa: E402
import servers  # noqa: E402
import workers  # noqa: E402


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
    parser.add_argument("--workers", action="store_true",
                        help="measure workers: 2 against workers: 1 (ping, info, me) instead")
    parser.add_argument("--metrics", action="store_true",
                        help="instead: famd with metrics off against metrics on (ping, info, me, admin)")
    parser.add_argument("--profile", action="store_true",
                        help="with --metrics: py-spy the metrics-on famd, print the share of its samples"
                             " spent in famd/metrics (slows that famd: its ratios are then not the cost)")
    parser.add_argument("--access-log", choices=("file", "log", "json", "off"), default="file",
                        help="famd's access_log: a file of its own (default), famd's log (text or "
                             "json, its log_format), or none; bench/logmodes.py compares them")
    parser.add_argument("--fresh", action="store_true",
                        help="with --metrics: start both famds again before each round (not with --profile)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.fresh and args.profile:
        parser.error("--fresh starts new processes: py-spy (--profile) follows one")
    return args


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


def access_log_setting(args, folder):
    """famd.yaml's access_log value for C{--access-log} (a file in C{folder})."""
    return {"file": '"%s"' % os.path.join(folder, "access.log"), "log": "true",
            "json": "true\nlog_format: json", "off": "false"}[args.access_log]


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
        self.famd = servers.famd(python, self.folder, database, seed.DOMAIN,
                                 extra="access_log: %s\n" % access_log_setting(args, self.folder))
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


METRICS_ENDPOINTS = ("ping", "info", "me", "admin")
METRICS_BUDGET = 0.95
"""Metrics on keeps at least this share of each endpoint's rate with metrics off."""


def bench_metrics(args, wrk, python, folder):
    """
    famd with metrics off against famd with metrics on (a listener on
    ``metrics.listen``, scraped every L{SCRAPE_INTERVAL} seconds during the
    runs, as Prometheus would), two processes on copies of one seeded database,
    measured in the same rounds: each round's run of an endpoint alternates
    slices of the two (which one goes first alternates too).  Prints each
    endpoint's rates and the median of the rounds' on/off ratios, and the
    budget's verdict.
    """
    size = (args.accounts or [1000])[0]
    base = os.path.join(folder, "metrics")
    os.mkdir(base)
    database = os.path.join(base, "seed.sqlite")
    seeded = seed.seed(database, size)
    famds, scrape_url = {}, None
    for mode in ("off", "on"):
        sub = os.path.join(base, mode)
        os.mkdir(sub)
        copy = os.path.join(sub, "famd.sqlite")
        shutil.copy(database, copy)
        extra = "access_log: %s\n" % access_log_setting(args, sub)
        if mode == "on":
            port = servers.free_port()
            scrape_url = "http://127.0.0.1:%d/metrics" % (port,)
            extra += 'metrics: {listen: "tcp:%d:interface=127.0.0.1"}\n' % (port,)
        famds[mode] = servers.famd(python, sub, copy, seed.DOMAIN, extra=extra)
    scraper = Scraper(scrape_url)
    names = [name for name in METRICS_ENDPOINTS if name in (args.only or METRICS_ENDPOINTS)]
    rates = {name: {"off": [], "on": []} for name in names}
    ratios = {name: [] for name in names}
    cpu = {name: {"off": [], "on": []} for name in names}
    cpu_ratios = {name: [] for name in names}
    slices = max(1, min(args.slices, args.seconds))
    seconds = max(1, args.seconds // slices)
    try:
        def start_and_warm():
            for famd in famds.values():
                famd.start()
            for famd in famds.values():
                for name in names:
                    loadgen.run(wrk, famd.url, endpoint_options(seeded, name), 1, args.connections)

        start_and_warm()
        scraper.start()
        if args.profile:
            profile = profile_share.Profile(famds["on"].process.pid, os.path.join(base, "on.spy"))
        for round_number in range(args.rounds):
            if args.fresh and round_number > 0:
                # New processes each round: one process can be a few per cent
                # faster than another running the same code (an A/A run of two
                # metrics-off famds gave 0.97 to 0.99), which new ones average out.
                for famd in famds.values():
                    famd.stop()
                start_and_warm()
            for name in names:
                parts = {"off": [], "on": []}
                for index in range(slices):
                    order = ("off", "on") if (index + round_number) % 2 == 0 else ("on", "off")
                    for mode in order:
                        before = famds[mode].cpu_seconds()
                        part = loadgen.run(wrk, famds[mode].url, endpoint_options(seeded, name),
                                           seconds, args.connections, args.threads)
                        part.cpu = famds[mode].cpu_seconds() - before
                        parts[mode].append(part)
                merged = {mode: loadgen.merge(parts[mode]) for mode in parts}
                for mode in merged:
                    rates[name][mode].append(merged[mode].rate)
                    cpu[name][mode].append(1e6 * merged[mode].cpu / max(1, merged[mode].requests))
                ratios[name].append(merged["on"].rate / merged["off"].rate if merged["off"].rate else 0.0)
                cpu_ratios[name].append(cpu[name]["off"][-1] / cpu[name]["on"][-1] if cpu[name]["on"][-1] else 0.0)
            print("  round %d/%d done" % (round_number + 1, args.rounds), flush=True)
    finally:
        scraper.stop()
        if args.profile:
            profile.stop()
        for famd in famds.values():
            famd.stop()
    print()
    if args.profile:
        total, charged, by_function = profile_share.share(os.path.join(base, "on.spy"))
        print("py-spy, metrics-on famd: %d of %d samples (%.2f %%) in famd/metrics: %s" % (
            charged, total, 100.0 * charged / max(1, total),
            ", ".join("%s %d" % item for item in sorted(by_function.items(), key=lambda i: -i[1]))))
    print("| endpoint | off req/s | on req/s | on/off req/s (rounds) | off CPU µs/req | on CPU µs/req"
          " | off/on CPU per request (rounds) |")
    print("|---|---|---|---|---|---|---|")
    verdicts = []
    for name in names:
        ratio = statistics.median(ratios[name])
        verdicts.append((name, ratio, statistics.median(cpu_ratios[name])))
        print("| %s | %s | %s | %.3f (%s) | %.0f | %.0f | %.3f (%s) |" % (
            name, format(round(statistics.median(rates[name]["off"])), ","),
            format(round(statistics.median(rates[name]["on"])), ","), ratio,
            " ".join("%.2f" % r for r in ratios[name]),
            statistics.median(cpu[name]["off"]), statistics.median(cpu[name]["on"]),
            statistics.median(cpu_ratios[name]), " ".join("%.2f" % r for r in cpu_ratios[name])))
    print()
    print("scrapes during the runs: %d (%d failed)" % (scraper.done, scraper.failed))
    for name, ratio, cpu_ratio in verdicts:
        print("budget: %-5s metrics on >= %.2f of off: req/s %.3f %s, CPU per request %.3f %s" % (
            name, METRICS_BUDGET, ratio, "held" if ratio >= METRICS_BUDGET else "NOT MET",
            cpu_ratio, "held" if cpu_ratio >= METRICS_BUDGET else "NOT MET"))


SCRAPE_INTERVAL = 5.0
"""Seconds between two scrapes: more often than Prometheus's usual 15 s to 1 min."""


class Scraper:
    """Scrapes a metrics URL every L{SCRAPE_INTERVAL} on a thread, as Prometheus would."""

    def __init__(self, url):
        self.url, self.done, self.failed = url, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self):
        while not self._stop.wait(SCRAPE_INTERVAL):
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    response.read()
                self.done += 1
            except OSError:
                self.failed += 1


def main(argv=None):
    args = arguments(argv)
    sizes = args.accounts or [1000]
    wrk = loadgen.ensure_wrk()
    python = sys.executable
    estimate = len(sizes) * (args.rounds * (2 * 4 + 1) + 4 + 1 + 1) * args.seconds + sum(
        15 + size / 100000 for size in sizes
    )
    if args.workers:  # 3 endpoints, 2 famds, and a warm-up of each
        estimate = args.rounds * 3 * 2 * args.seconds + 2 * (3 + 3)
    print("famd benchmark on %s" % (report.machine(),))
    print("%d connections, %d wrk thread(s), %d rounds of %d s, famd access log: %s; about %d s in all"
          % (args.connections, args.threads, args.rounds, args.seconds, args.access_log, estimate),
          flush=True)
    folder = tempfile.mkdtemp(prefix="famd-bench-")
    if args.metrics:
        try:
            bench_metrics(args, wrk, python, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    try:
        if args.workers:
            print(workers.table(workers.bench_workers(
                args, wrk, python, folder, endpoint_options, lambda sub: access_log_setting(args, sub))))
            return
        results = bench_sizes(args, wrk, python, sorted({max(2, size) for size in sizes}), folder)
    finally:
        if args.keep:
            print("kept %s" % (folder,))
        else:
            shutil.rmtree(folder, ignore_errors=True)
    report.print_verdicts(results)


if __name__ == "__main__":
    main()
