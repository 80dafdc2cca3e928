"""
The built-in storage backends, declared like any third-party plugin.

Implementations are imported only when chosen.
"""

from famd.backends import Backend
from famd.options import Option, positive

sqlite = Backend(
    "storage",
    "sqlite",
    "famd.storage.sqlite:build",
    options=[
        Option("path", str, "famd.sqlite", path=True, doc="the database file"),
        Option(
            "busy_timeout",
            float,
            5.0,
            check=positive,
            doc="seconds to wait for another writer's lock before answering 503",
        ),
    ],
    description="an SQLite file (embedded, the default)",
)
