"""
The two servers under test, as child processes on 127.0.0.1: famd (the
checkout's code, through ``twistd -n famd``) and the floor (``floor.py``).

Each is started, waited for until ``/api/ping`` answers, measured (resident
memory from ``/proc``) and stopped by its own process id: SIGTERM, then
SIGKILL if it lingers.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from checkout import CHECKOUT, HERE

CONFIG = """\
listen: "tcp:{port}:interface=127.0.0.1"
public_url: "http://127.0.0.1:{port}"
sip_domain: "{domain}"
storage: {{backend: sqlite, path: "{database}"}}
email: {{backend: log}}
sms: {{backend: log}}
{extra}"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One child process serving HTTP on C{port}."""

    def __init__(self, name, argv, port, folder, env=None):
        self.name = name
        self.argv = argv
        self.port = port
        self.folder = folder
        self.env = env
        self.process = None
        self.startup = None
        self.log_path = os.path.join(folder, "%s.out" % (name,))

    @property
    def url(self):
        return "http://127.0.0.1:%d" % (self.port,)

    def start(self, timeout=30.0):
        """Start the process; return the seconds until /api/ping answered."""
        began = time.monotonic()
        with open(self.log_path, "wb") as output:
            self.process = subprocess.Popen(
                self.argv, cwd=self.folder, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("%s exited early:\n%s" % (self.name, self.output()))
            try:
                with urllib.request.urlopen(self.url + "/api/ping", timeout=1) as answer:
                    if answer.read() == b"pong":
                        self.startup = time.monotonic() - began
                        return self.startup
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("%s did not answer within %s s:\n%s" % (self.name, timeout, self.output()))

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def memory(self):
        """(current, peak) resident memory in bytes, from /proc/PID/status."""
        values = {}
        with open("/proc/%d/status" % (self.process.pid,)) as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    values[name] = int(rest.split()[0]) * 1024
        return values.get("VmRSS", 0), values.get("VmHWM", 0)

    def cpu_seconds(self):
        """User + system CPU time the process has used so far, from /proc."""
        with open("/proc/%d/stat" % (self.process.pid,)) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout=10.0):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def famd(python, folder, database, domain, extra=""):
    """A L{Server} running the checkout's famd on C{database}."""
    port = free_port()
    config = os.path.join(folder, "famd.yaml")
    with open(config, "w") as f:
        f.write(CONFIG.format(port=port, domain=domain, database=database, extra=extra))
    env = dict(os.environ)
    env["PYTHONPATH"] = CHECKOUT + os.pathsep + env.get("PYTHONPATH", "")
    argv = [
        python, "-c", "from twisted.scripts.twistd import run; run()",
        "-n", "--pidfile=", "--logfile", os.path.join(folder, "famd.log"),
        "famd", "--config", config,
    ]
    return Server("famd", argv, port, folder, env)


def floor(python, folder):
    """A L{Server} running the bare Klein floor application."""
    port = free_port()
    return Server("floor", [python, os.path.join(HERE, "floor.py"), str(port)], port, folder)


def current_python():
    return sys.executable
