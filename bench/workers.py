"""
The workers scenario of the benchmark (``bench/run.py --workers``): the
same seeded database served by a famd with ``workers: 1`` and one with
``workers: 2``, measured in the same rounds, in slices that alternate
between the two (so the machine's ups and downs hit both alike), on
``ping``, ``info`` and ``me``; it prints each one's requests/s and the
ratio (median of the rounds' ratios) against its budget.

On a machine shared with other work the rates say little, so it also
prints the CPU time each request costs: famd's (all its processes, from
/proc) and wrk's own (it runs on the same cores), and from them the ratio
an otherwise idle machine would reach: with one process famd is held to
one core, with two both cores are shared by famd's processes and wrk.
"""

import os
import resource
import statistics
import time

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
        for count, famd in famds.items():
            famd.start()
            wait_for_spare(famd, count)
            for name in ENDPOINTS:  # warm-up: imports, connections, page cache
                loadgen.run(wrk, famd.url, endpoint_options(seeded, name), 1, args.connections)
        for round_number in range(args.rounds):
            for name in ENDPOINTS:
                options = endpoint_options(seeded, name)
                parts = {1: [], 2: []}
                for _ in range(slices):
                    for count, famd in famds.items():
                        parts[count].append(measured_run(wrk, famd, options, seconds, args))
                for count in (1, 2):
                    rounds[name][count].append(merged(parts[count]))
            print("  round %d/%d done" % (round_number + 1, args.rounds), flush=True)
    finally:
        for famd in famds.values():
            famd.stop()
    results = {}
    for name in ENDPOINTS:
        one, two = rounds[name][1], rounds[name][2]
        results[name] = {
            "rates": (statistics.median(r.rate for r in one), statistics.median(r.rate for r in two)),
            "ratio": statistics.median(b.rate / a.rate for a, b in zip(one, two)),
            "errors": sum(r.errors() for r in one + two),
            "cpu_us": tuple(statistics.median(r.cpu / r.requests * 1e6 for r in runs)
                            for runs in (one, two)),
            "wrk_us": statistics.median(r.wrk_cpu / r.requests * 1e6 for r in one + two),
        }
    return results


def wait_for_spare(famd, count, timeout=60.0):
    """Wait until famd's workers are up (its log names the spare), so their start-up is not measured."""
    if count < 2:
        return
    deadline = time.monotonic() + timeout
    log = os.path.join(famd.folder, "famd.log")
    while time.monotonic() < deadline:
        with open(log, errors="replace") as text:
            if "spare worker ready" in text.read():
                return
        time.sleep(0.1)
    raise RuntimeError("famd's workers did not start within %d s" % (timeout,))


def family_cpu(pid):
    """CPU seconds (user + system) of process C{pid} and its children, from /proc."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % (entry,)) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured_run(wrk, famd, options, seconds, args):
    """One wrk run, with famd's CPU time (all processes) and wrk's own."""
    before, wrk_before = family_cpu(famd.process.pid), _children_cpu()
    result = loadgen.run(wrk, famd.url, options, seconds, args.connections, args.threads)
    result.cpu = family_cpu(famd.process.pid) - before
    result.wrk_cpu = _children_cpu() - wrk_before
    return result


def merged(results):
    """L{loadgen.merge} keeping wrk's CPU time too."""
    merged = loadgen.merge(results)
    merged.wrk_cpu = sum(r.wrk_cpu for r in results)
    return merged


def table(results):
    """The printout: one line per endpoint, then the verdicts."""
    from report import LABELS

    lines = ["", "== workers: 2 against workers: 1 ==",
             "%-34s %9s %9s %6s %7s %6s %8s %8s %6s %7s" % (
                 "endpoint", "1 proc/s", "2 procs/s", "ratio", "budget", "errors",
                 "CPU us 1", "CPU us 2", "wrk us", "idle x")]
    for name, r in results.items():
        lines.append("%-34s %9.0f %9.0f %6.2f %7s %6d %8.0f %8.0f %6.0f %7.2f" % (
            LABELS[name], r["rates"][0], r["rates"][1], r["ratio"], ">=%.1f" % BUDGETS[name],
            r["errors"], r["cpu_us"][0], r["cpu_us"][1], r["wrk_us"], idle_ratio(r)))
    lines.append("(CPU us: famd's CPU time per request, all processes, with 1 and 2 processes; "
                 "wrk us: wrk's; idle x: the ratio these allow on an idle 2-core machine)")
    for name, r in results.items():
        holds = r["ratio"] >= BUDGETS[name] and r["errors"] == 0
        lines.append("%s %s: %.2f x (budget >= %.1f x, %d errors)" % (
            "PASS" if holds else "FAIL", name, r["ratio"], BUDGETS[name], r["errors"]))
    return "\n".join(lines)


def idle_ratio(r):
    """
    The ratio an idle 2-core machine allows: one famd process is held to one
    core (1 / its CPU per request, wrk fitting in the other core); two share
    both cores with wrk (2 / (their CPU per request + wrk's)).
    """
    one, two = r["cpu_us"]
    return (2.0 / (two + r["wrk_us"])) / (1.0 / max(one, r["wrk_us"]))
