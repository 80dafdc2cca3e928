"""
famd.yaml's ``workers`` key: how many processes serve ``listen`` (a
number, or ``auto``: one per core), and the listen strings whose socket
several processes can share (see L{famd.workers}).
"""

import os

SHAREABLE = ("tcp:", "tcp6:", "unix:")
"""Listen strings whose socket worker processes can share."""


def count(value, cpu_count=os.cpu_count):
    """The number of processes for famd.yaml's ``workers`` value (an int or ``auto``)."""
    return max(1, cpu_count() or 1) if value == "auto" else value


def check_setting(value):
    """The ``workers`` option's check: a positive integer or ``auto``."""
    if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 256):
        return None
    return "must be auto or a whole number from 1 to 256, not %r" % (value,)


def check_listen(workers, listen):
    """The cross-key check: several processes need a listen string whose socket they can share."""
    if workers > 1 and not listen.strip().lower().startswith(SHAREABLE):
        return ("workers: more than one process needs listen to be tcp:, tcp6: or unix:, not %r "
                "(put TLS in a reverse proxy, or set workers: 1)" % (listen.split(":", 1)[0] + ":",))
    return None
