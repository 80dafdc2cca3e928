"""
The built-in storage backends, declared like any third-party plugin.

Implementations (and their database drivers) are imported only when chosen.
"""

from famd.backends import Backend
from famd.options import Option, positive
from famd.storage.url import check as url_check

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


def _server_options(engine, port):
    # The URL check never echoes the URL: it holds a password.
    return [
        Option(
            "url",
            str,
            check=url_check(engine),
            doc="%s://user:password@host:%d/database" % (engine, port),
        ),
        Option("pool_min", int, 1, check=positive, doc="connections kept open"),
        Option("pool_max", int, 8, check=positive, doc="most connections open at once"),
        Option(
            "connect_timeout",
            float,
            5.0,
            check=positive,
            doc="seconds to wait for the server before answering 503",
        ),
        Option(
            "statement_timeout",
            float,
            10.0,
            check=positive,
            doc="seconds a transaction may run before famd gives up on it and answers 503",
        ),
        Option(
            "pool_timeout",
            float,
            5.0,
            check=positive,
            doc="seconds to wait for a free pool connection before answering 503",
        ),
    ]


mysql = Backend(
    "storage",
    "mysql",
    "famd.storage.mysql:build",
    options=_server_options("mysql", 3306),
    description="a MySQL or MariaDB database (PyMySQL: pip install 'famd[mysql]')",
)

postgresql = Backend(
    "storage",
    "postgresql",
    "famd.storage.postgresql:build",
    options=_server_options("postgresql", 5432),
    description="a PostgreSQL database (psycopg 3: pip install 'famd[postgresql]')",
)
