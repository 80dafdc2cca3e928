"""
An executable standing in for Flexisip's ``flexisip_pusher``: it records the
argv of every run, so a test can read back what famd asked to push.
"""

import json
import os
import stat
import sys

_PUSHER = """#!{python}
import json, os, sys, time
with open({record!r}, "a") as f:
    f.write(json.dumps(sys.argv) + "\\n")
with open({pid!r}, "w") as f:
    f.write(str(os.getpid()))
sys.stdout.write({output!r})
sys.stdout.flush()
if {sleep!r}:
    time.sleep({sleep!r})
sys.exit({status!r})
"""


class FakePusher:
    """
    An executable standing in for ``flexisip_pusher``, written in C{directory}.

    Each run appends its argv to C{record} (one JSON list a line), writes its
    pid to C{pid_file}, prints C{output}, sleeps C{sleep} seconds if set and
    exits with C{status}.
    """

    def __init__(self, directory, status=0, output="", sleep=0):
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "flexisip_pusher")
        self.record = os.path.join(directory, "argv.jsonl")
        self.pid_file = os.path.join(directory, "pid")
        with open(self.path, "w") as f:
            f.write(
                _PUSHER.format(
                    python=sys.executable,
                    record=self.record,
                    pid=self.pid_file,
                    output=output,
                    sleep=sleep,
                    status=status,
                )
            )
        os.chmod(self.path, os.stat(self.path).st_mode | stat.S_IXUSR)

    def runs(self):
        """The argv of every run so far."""
        if not os.path.exists(self.record):
            return []
        with open(self.record) as f:
            return [json.loads(line) for line in f]

    def pushed(self):
        """The (provider, param, prid, payload) of every run so far."""
        result = []
        for argv in self.runs():
            options = dict(zip(argv[1::2], argv[2::2]))
            result.append(
                (
                    options["--pn-provider"],
                    options["--pn-param"],
                    options["--pn-prid"],
                    json.loads(options["--customPayload"]),
                )
            )
        return result
