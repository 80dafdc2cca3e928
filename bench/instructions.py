"""
What a famd configuration costs per request, in instructions: famd runs
under valgrind's callgrind, which counts the instructions it executes,
whatever else the machine is doing.  Throughput runs (``bench/run.py
--metrics``, ``bench/logmodes.py``) swing by about 4 % between two famds
of the same code on this shared machine, the size of the budgets they
judge; counts of two such famds differ by up to 1.6 % (how requests fall
into the reactor's turns still varies with timing).

    python3 bench/instructions.py                  # metrics off against on
    python3 bench/instructions.py --compare access-log   # access_log FILE against the default
    python3 bench/instructions.py --compare same   # two famds alike: the count's own spread
    python3 bench/instructions.py --requests 4000 --only info

It seeds one SQLite file (copied for each famd); in each of ``--rounds``
rounds it starts a new famd of each configuration under ``valgrind
--tool=callgrind --instr-atstart=no`` (start-up is not counted), warms it
up, and for each endpoint counts the instructions of exactly
``--requests`` requests (the same pseudo-random sequence for every
variant, sent on ``--connections`` keep-alive connections):
``callgrind_control`` turns counting on before the first and dumps the
count after the last answer.  It prints instructions per request and the
ratio baseline/variant (median of the rounds), which stands for the
variant's share of the baseline's requests per second, famd being
CPU-bound under load.

The count is of famd's own process (all its threads: the reactor and the
storage thread), not of the kernel's work for it.  Under valgrind famd runs
about fifty times slower, so work done once a second (the access log's
flush) falls on fifty times fewer requests than at full speed: its share
is overstated, which errs against the variant that has it.  No scrape is
made during the counts.  The requests are made here, in Python, as
``wrk.lua`` makes them for ``bench/run.py``.  Needs valgrind (Debian's
package, installed if missing).  Never part of the test suite.
"""

import argparse
import glob
import http.client
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from checkout import CHECKOUT, HERE, reexec_in_venv  # standard library only

if __name__ == "__main__":
    reexec_in_venv()
sys.path[:0] = [CHECKOUT, HERE]

import debian  # noqa: E402
import seed  # noqa: E402
import servers  # noqa: E402

ENDPOINTS = ("ping", "info", "me", "admin")

COMPARISONS = {
    # name: ((label, extra famd.yaml lines), (label, extra)); the first is the baseline.
    # Unless a comparison sets it, the access log is famd's default (famd's own log).
    "metrics": (
        ("off", lambda folder, port: ""),
        ("on", lambda folder, port: 'metrics: {listen: "tcp:%d:interface=127.0.0.1"}\n' % (port,)),
    ),
    "same": (  # an A/A run: two famds of one configuration, the harness's own resolution
        ("off", lambda folder, port: ""),
        ("off-again", lambda folder, port: ""),
    ),
    "access-log": (
        ("FILE", lambda folder, port: 'access_log: "%s"\n' % (os.path.join(folder, "access.log"),)),
        ("default", lambda folder, port: "access_log: true\n"),
    ),
}
BUDGET = 0.95
"""The variant keeps at least this share of the baseline's rate: baseline/variant instructions."""


def arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--compare", choices=sorted(COMPARISONS), default="metrics",
                        help="which two configurations (default: metrics off against on)")
    parser.add_argument("--requests", type=int, default=2000, help="requests counted per endpoint (2000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds, each with a new famd of each configuration; the median is kept (3)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections (8)")
    parser.add_argument("--accounts", type=int, default=1000, help="accounts in the database (1000)")
    parser.add_argument("--only", action="append", choices=ENDPOINTS,
                        help="count only this endpoint (repeatable; default all)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder, with callgrind's dumps (callgrind_annotate reads them)")
    return parser.parse_args(argv)


def requests_of(seeded, name, count):
    """C{count} (path, headers) of endpoint C{name}: the same sequence on every call."""
    chosen = random.Random(name)
    domain = seed.DOMAIN
    made = []
    for _ in range(count):
        if name == "ping":
            made.append(("/api/ping", {}))
        elif name == "info":
            made.append(("/api/accounts/user%d@%s/info" % (chosen.randint(2, seeded.accounts), domain), {}))
        elif name == "me":
            account = seeded.first_keyed + seeded.key_step * chosen.randint(0, seeded.keyed - 1)
            made.append(("/api/accounts/me", {"From": "sip:user%d@%s" % (account, domain),
                                              "x-api-key": seed.api_key(account)}))
        else:
            made.append(("/api/accounts?page=2", {"From": "sip:admin@%s" % (domain,),
                                                  "x-api-key": seeded.admin_key}))
    return made


def send_all(port, made, connections):
    """Send C{made} on C{connections} keep-alive connections; raise unless every answer is 200."""
    failures = []

    def one_connection(share):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            for path, headers in share:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append((path, response.status))
        except Exception as error:  # noqa: BLE001 -- reported below
            failures.append(("connection", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=one_connection, args=(made[index::connections],))
               for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError("%d requests failed, the first: %r" % (len(failures), failures[0]))


class CountedFamd:
    """A famd under callgrind (no start-up counted), counting only during L{count}."""

    def __init__(self, python, folder, database, extra):
        self.folder = folder
        self.server = servers.famd(python, folder, database, seed.DOMAIN, extra=extra)
        self.out = os.path.join(folder, "callgrind.out")
        self.server.argv = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no", "--dump-instr=no",
            "--callgrind-out-file=%s" % (self.out,),
        ] + self.server.argv
        self.server.env["PYTHONHASHSEED"] = "0"

    def start(self):
        return self.server.start(timeout=900.0)

    def _control(self, *options):
        subprocess.run(["callgrind_control"] + list(options) + [str(self.server.process.pid)],
                       check=True, capture_output=True, timeout=300)

    def count(self, made, connections):
        """The instructions famd executed to answer C{made}."""
        before = set(glob.glob(self.out + "*"))
        self._control("--zero")
        self._control("--instr=on")
        send_all(self.server.port, made, connections)
        self._control("--dump")
        self._control("--instr=off")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            new = sorted(set(glob.glob(self.out + "*")) - before)
            if new:
                with open(new[-1]) as f:
                    for line in f:
                        found = re.match(r"(?:summary|totals): (\d+)", line)
                        if found:
                            return int(found.group(1))
            time.sleep(0.2)
        raise RuntimeError("callgrind wrote no dump in %s" % (self.folder,))

    def stop(self):
        self.server.stop(timeout=120.0)


def count_variant(args, seeded, database, folder, label, extra, names):
    """Start famd with C{extra} under callgrind; {endpoint: instructions per request}."""
    os.mkdir(folder)
    copy = os.path.join(folder, "famd.sqlite")
    shutil.copy(database, copy)
    famd = CountedFamd(sys.executable, folder, copy, extra(folder, servers.free_port()))
    began = time.monotonic()
    famd.start()
    print("  %s: famd started under callgrind in %.0f s" % (label, time.monotonic() - began), flush=True)
    counted = {}
    try:
        for name in names:  # warm-up: imports, caches, the first connections
            send_all(famd.server.port, requests_of(seeded, name, 200), args.connections)
        for name in names:
            counted[name] = famd.count(requests_of(seeded, name, args.requests), args.connections) / args.requests
            print("  %s %s: %.0f instructions per request" % (label, name, counted[name]), flush=True)
    finally:
        famd.stop()
    return counted


def main(argv=None):
    args = arguments(argv)
    debian.ensure("callgrind_control", "valgrind")
    baseline, variant = COMPARISONS[args.compare]
    names = [name for name in ENDPOINTS if name in (args.only or ENDPOINTS)]
    folder = tempfile.mkdtemp(prefix="famd-instructions-")
    print("famd instructions per request under callgrind: %s %s against %s, %d rounds of %d requests per"
          " endpoint, %d connections" % (args.compare, variant[0], baseline[0], args.rounds, args.requests,
                                         args.connections), flush=True)
    try:
        database = os.path.join(folder, "seed.sqlite")
        seeded = seed.seed(database, args.accounts)
        counts = {baseline[0]: [], variant[0]: []}
        for round_number in range(args.rounds):
            # A new process of each variant every round (which one goes first alternates):
            # two processes of the same code differ by up to a per cent or two.
            order = (baseline, variant) if round_number % 2 == 0 else (variant, baseline)
            for label, extra in order:
                sub = os.path.join(folder, "%s-%d" % (label, round_number + 1))
                counts[label].append(count_variant(args, seeded, database, sub, label, extra, names))
        print()
        print("| endpoint | %s instructions/request | %s instructions/request | %s/%s (rounds) |"
              % (baseline[0], variant[0], baseline[0], variant[0]))
        print("|---|---|---|---|")
        verdicts = []
        for name in names:
            ratios = [base[name] / other[name] for base, other in zip(counts[baseline[0]], counts[variant[0]])]
            ratio = statistics.median(ratios)
            verdicts.append((name, ratio))
            print("| %s | %s | %s | %.4f (%s) |" % (
                name, format(round(statistics.median(c[name] for c in counts[baseline[0]])), ","),
                format(round(statistics.median(c[name] for c in counts[variant[0]])), ","), ratio,
                " ".join("%.4f" % r for r in ratios)))
        print()
        for name, ratio in verdicts:
            print("budget: %-5s %s %s keeps >= %.2f of %s's rate: %.4f %s" % (
                name, args.compare, variant[0], BUDGET, baseline[0], ratio,
                "held" if ratio >= BUDGET else "NOT MET"))
    finally:
        if args.keep:
            print("kept %s" % (folder,))
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
