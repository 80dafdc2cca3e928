"""
The benchmark's printout: one table per database size, then every budget
of the performance issue with its verdict.
"""

import os
import platform
import statistics

RATIO_BUDGETS = {"ping": 0.90, "info": 0.50, "me": 0.35, "admin": 0.25}
LABELS = {
    "ping": "GET /api/ping",
    "info": "GET /api/accounts/{sip}/info",
    "me": "GET /api/accounts/me (API key)",
    "admin": "GET /api/accounts?page=2 (admin)",
    "digest": "DIGEST /api/accounts/me (pairs)",
}


def machine():
    """A line naming the machine the figures come from."""
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import klein
    import twisted

    return "%s, %d cores, Linux %s, Python %s, Twisted %s, klein %s" % (
        model, os.cpu_count() or 0, platform.release(), platform.python_version(),
        twisted.__version__, getattr(klein, "__version__", "?"),
    )


class Measured:
    """The rounds of one endpoint at one size."""

    def __init__(self, name):
        self.name = name
        self.famd = []
        self.floor = []

    def add(self, famd, floor=None):
        self.famd.append(famd)
        if floor is not None:
            self.floor.append(floor)

    def rate(self):
        if self.name == "digest":  # a completed challenge + answer is one 200
            return statistics.median(r.ok / r.seconds for r in self.famd)
        return statistics.median(r.rate for r in self.famd)

    def kept(self, smaller):
        """
        This size's requests/s over C{smaller}'s, the median of the rounds'
        ratios (the two were run one after the other in each round).
        """
        return statistics.median(
            large.rate / small.rate for large, small in zip(self.famd, smaller.famd)
        )

    def floor_rate(self):
        return statistics.median(r.rate for r in self.floor) if self.floor else None

    def ratio(self):
        if not self.floor:
            return None
        return statistics.median(f.rate / g.rate for f, g in zip(self.famd, self.floor))

    def p50(self):
        return statistics.median(r.p50_ms for r in self.famd)

    def p99(self):
        return statistics.median(r.p99_ms for r in self.famd)

    def cpu_us(self):
        """famd's CPU time (both threads) per request, or per pair for the digest flow."""
        done = lambda r: r.ok if self.name == "digest" else r.requests  # noqa: E731
        return statistics.median(r.cpu / max(1, done(r)) * 1e6 for r in self.famd)

    def errors(self):
        return sum(r.errors(self.name == "digest") for r in self.famd) + sum(
            r.errors() for r in self.floor
        )


def table(size, measured, extras):
    lines = [
        "",
        "== %s accounts ==" % (format(size, ","),),
        "%-34s %9s %9s %6s %7s %8s %8s %7s %7s"
        % ("endpoint", "famd/s", "floor/s", "ratio", "budget", "p50 ms", "p99 ms", "errors",
           "CPU us"),
    ]
    for name, m in measured.items():
        ratio = m.ratio()
        budget = RATIO_BUDGETS.get(name)
        lines.append(
            "%-34s %9.0f %9s %6s %7s %8.2f %8.2f %7d %7.0f"
            % (
                LABELS[name], m.rate(),
                "%.0f" % m.floor_rate() if m.floor_rate() else "-",
                "%.2f" % ratio if ratio is not None else "-",
                ">=%.2f" % budget if budget and size == 1000 else "-",
                m.p50(), m.p99(), m.errors(), m.cpu_us(),
            )
        )
    for label, value in extras:
        lines.append("%s: %s" % (label, value))
    return "\n".join(lines)


def verdicts(results):
    """(budget, measured, holds) for each budget the sizes run allow judging."""
    out = []
    small = results.get(1000)
    large = results.get(1000000)
    for size, result in sorted(results.items()):
        measured = result["measured"]
        if size == 1000:
            for name, budget in RATIO_BUDGETS.items():
                if name not in measured:
                    continue
                ratio = measured[name].ratio()
                out.append(("%s ratio >= %.2f" % (LABELS[name], budget), "%.2f" % ratio, ratio >= budget))
        errors = sum(m.errors() for m in measured.values())
        out.append(("%s accounts: zero errors" % format(size, ","), str(errors), errors == 0))
        if "digest" not in measured:
            continue
        digest = measured["digest"].rate()
        out.append(("%s accounts: DIGEST pairs/s >= 1000" % format(size, ","), "%.0f" % digest, digest >= 1000))
    if large is not None:
        admin = large["admin_p99_ms"]
        out.append(("1,000,000: admin page p99 < 20 ms (any page, 1 connection)", "%.2f ms" % admin, admin < 20))
        peak = large["peak_rss"] / 2**20
        out.append(("1,000,000: famd resident memory < 150 MB", "%.0f MB" % peak, peak < 150))
        startup = large["startup"]
        out.append(("1,000,000: start-up < 2 s", "%.2f s" % startup, startup < 2))
        if small is not None:
            for name in ("info", "me"):
                if name not in large["measured"] or name not in small["measured"]:
                    continue
                kept = large["measured"][name].kept(small["measured"][name])
                out.append(("1,000,000: %s keeps >= 90%% of 1,000's req/s" % LABELS[name],
                            "%.0f%%" % (100 * kept), kept >= 0.9))
    return out


def print_verdicts(results):
    print("\n== budgets ==")
    for budget, value, holds in verdicts(results):
        print("%-66s %12s  %s" % (budget, value, "ok" if holds else "MISSED"))
