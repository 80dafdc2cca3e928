"""
Debian packages the benchmark runs (wrk, valgrind), installed with
apt-get, as root or through sudo, when their command is missing.
"""

import os
import shutil
import subprocess


def ensure(command, package):
    """The path of C{command}, installing Debian's C{package} first if it is missing."""
    found = shutil.which(command)
    if found:
        return found
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    print("%s is missing: installing Debian's %s package" % (command, package))
    subprocess.run(prefix + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        prefix + ["apt-get", "install", "-y", "-qq", package],
        check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
    )
    found = shutil.which(command)
    if not found:
        raise RuntimeError("%s is still missing after apt-get install %s" % (command, package))
    return found
