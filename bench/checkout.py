"""
The checkout under benchmark: its path, and running a benchmark command
again under its ``.venv`` (which has famd's dependencies) when it was
started with another Python.  Standard library only: it runs before
famd's dependencies can be imported.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)


def reexec_in_venv():
    """Run this command again under the checkout's .venv, if there is one and it is not already."""
    venv_python = os.path.join(CHECKOUT, ".venv", "bin", "python")
    if os.environ.get("FAMD_BENCH_PYTHON") or not os.path.exists(venv_python):
        return
    if os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(CHECKOUT, ".venv")):
        return
    os.environ["FAMD_BENCH_PYTHON"] = venv_python
    os.execv(venv_python, [venv_python] + sys.argv)
