"""
The built-in registrar backends (devices), declared like any third-party
plugin.

Implementations are imported only when chosen.
"""

from famd.backends import Backend
from famd.options import Option, positive


def _redis_url(value):
    """A check: a redis:// or unix:// URL the redis backend can use."""
    from famd.registrar.redis import url_problem

    return url_problem(value)


_TIMEOUT = Option(
    "timeout",
    float,
    5.0,
    check=positive,
    doc="seconds allowed for one registrar operation before answering 503",
)

flexisip_cli = Backend(
    "registrar",
    "flexisip-cli",
    "famd.registrar.flexisip_cli:build",
    options=[
        Option(
            "pid_file",
            str,
            "/var/run/flexisip-proxy.pid",
            path=True,
            doc="Flexisip proxy's pid file; the socket is /tmp/flexisip-proxy-<pid>",
        ),
        Option(
            "socket",
            str,
            None,
            nullable=True,
            path=True,
            doc="the CLI socket path; when set, pid_file is not read",
        ),
        _TIMEOUT,
    ],
    description="devices through the Flexisip proxy's CLI socket",
)

redis = Backend(
    "registrar",
    "redis",
    "famd.registrar.redis:build",
    options=[
        Option(
            "url",
            str,
            "redis://127.0.0.1:6379/0",
            check=_redis_url,
            doc="redis://[[user]:password@]host[:port][/db] or unix:///path?db=N",
        ),
        _TIMEOUT,
    ],
    description="devices in Flexisip's Redis registrar database",
)

none = Backend(
    "registrar",
    "none",
    "famd.registrar.disabled:build",
    description="no devices: listing answers {} and deleting answers 404",
)
