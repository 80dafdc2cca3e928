"""
The workers scenario of the benchmark (``bench/run.py --workers``): the
same seeded database served by a famd with ``workers: 1`` and one with
``workers: 2``, measured in the same rounds, in slices that alternate
between the two (so the machine's ups and downs hit both alike), on
``ping``, ``info`` and ``me``; it prints each one's requests/s and the
ratio (median of the rounds' ratios) against its budget.
"""

import os
import statistics

import loadgen
import seed
import servers

ENDPOINTS = ("ping", "info", "me")
BUDGETS = {"ping": 1.7, "info": 1.6, "me": 1.6}
"""workers: 2 over workers: 1, requests/s, on a 2-core machine (issue 17)."""


def bench_workers(args, wrk, python, folder, endpoint_options, access_log):
    """Measure workers 1 against workers 2; return {endpoint: (rate 1, rate 2, ratio, errors)}."""
    database = os.path.join(folder, "famd.sqlite")
    seeded = seed.seed(database, args.accounts[0] if args.accounts else 1000)
    famds = {}
    for count in (1, 2):
        sub = os.path.join(folder, "workers%d" % (count,))
        os.mkdir(sub)
        famds[count] = servers.famd(python, sub, database, seed.DOMAIN,
                                    extra="workers: %d\naccess_log: %s\n" % (
                                        count, access_log(sub)))
    rounds = {name: {1: [], 2: []} for name in ENDPOINTS}
    slices = max(1, min(args.slices, args.seconds))
    seconds = max(1, args.seconds // slices)
    try:
        for famd in famds.values():
            famd.start()
            for name in ENDPOINTS:  # warm-up: imports, connections, page cache
                loadgen.run(wrk, famd.url, endpoint_options(seeded, name), 1, args.connections)
        for round_number in range(args.rounds):
            for name in ENDPOINTS:
                options = endpoint_options(seeded, name)
                parts = {1: [], 2: []}
                for _ in range(slices):
                    for count, famd in famds.items():
                        parts[count].append(loadgen.run(wrk, famd.url, options, seconds,
                                                        args.connections, args.threads))
                for count in (1, 2):
                    rounds[name][count].append(loadgen.merge(parts[count]))
            print("  round %d/%d done" % (round_number + 1, args.rounds), flush=True)
    finally:
        for famd in famds.values():
            famd.stop()
    results = {}
    for name in ENDPOINTS:
        one, two = rounds[name][1], rounds[name][2]
        results[name] = (
            statistics.median(r.rate for r in one),
            statistics.median(r.rate for r in two),
            statistics.median(b.rate / a.rate for a, b in zip(one, two)),
            sum(r.errors() for r in one + two),
        )
    return results


def table(results):
    """The printout: one line per endpoint, then the verdicts."""
    lines = ["", "== workers: 2 against workers: 1 ==",
             "%-34s %10s %10s %6s %7s %7s" % ("endpoint", "1 proc/s", "2 procs/s", "ratio",
                                              "budget", "errors")]
    from report import LABELS

    for name, (one, two, ratio, errors) in results.items():
        lines.append("%-34s %10.0f %10.0f %6.2f %7s %7d" % (
            LABELS[name], one, two, ratio, ">=%.1f" % BUDGETS[name], errors))
    for name, (_, _, ratio, errors) in results.items():
        holds = ratio >= BUDGETS[name] and errors == 0
        lines.append("%s %s: %.2f x (budget >= %.1f x, %d errors)" % (
            "PASS" if holds else "FAIL", name, ratio, BUDGETS[name], errors))
    return "\n".join(lines)
