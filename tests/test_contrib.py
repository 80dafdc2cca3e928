"""
The service manager files of ``contrib/``: the systemd unit is one that
``systemd-analyze verify`` accepts without a warning once its ExecStart
names a twistd that exists, and it keeps the settings famd relies on.
"""

import os
import shutil
import subprocess
import tempfile

from twisted.trial import unittest

from famd.testing.daemon import installed

CONTRIB = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "contrib")
TWISTD = "/opt/famd/.venv/bin/twistd"


def unit_settings(text):
    """{(section, key): [values]} of a systemd unit file's text."""
    settings, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


class SystemdUnitTests(unittest.TestCase):
    """contrib/famd.service."""

    def setUp(self):
        with open(os.path.join(CONTRIB, "famd.service")) as unit:
            self.text = unit.read()
        self.settings = unit_settings(self.text)

    def test_verified_by_systemd(self):
        """systemd-analyze verify accepts the unit (ExecStart pointed at the installed twistd) without a word."""
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            raise unittest.SkipTest("systemd-analyze is not installed (Debian package systemd)")
        folder = tempfile.mkdtemp(prefix="famd-unit-")
        path = os.path.join(folder, "famd.service")
        with open(path, "w") as unit:
            unit.write(self.text.replace(TWISTD, installed("twistd")))
        done = subprocess.run([analyze, "verify", path], capture_output=True, text=True, timeout=60)
        self.assertEqual((done.returncode, done.stdout + done.stderr), (0, ""))

    def test_settings_famd_relies_on(self):
        """Type=notify, the foreground twistd with no pid file, a restart on failure, no reload, the hardening."""
        get = lambda key: self.settings.get(("Service", key))  # noqa: E731
        self.assertEqual(get("Type"), ["notify"])
        self.assertEqual(get("ExecStart"),
                         [TWISTD + " -n --pidfile= famd --config /etc/famd/famd.yaml"])
        self.assertEqual(get("Restart"), ["on-failure"])
        self.assertIsNone(get("ExecReload"))
        for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                           ("ReadWritePaths", "/var/lib/famd"), ("PrivateTmp", "no")):
            self.assertEqual(get(key), [value], key)
