"""
The benchmark's database: famd's schema on a new SQLite file, then N
accounts written directly, in one transaction, with ``executemany``.

Account 1 is ``admin`` (an ``admins`` row and an API key); every other
account N is ``userN`` with an MD5 HA1 of the shared bench password.  API
keys (``benchkey`` + N zero-padded to 40 characters, as ``wrk.lua`` makes
them) go to C{keyed} accounts spread evenly over the ids, not to all of
them, to keep a million-account seed short.
"""

import hashlib
import sqlite3
from dataclasses import dataclass

from famd.storage.sqlite import SQLiteStorage

DOMAIN = "sip.example.org"
PASSWORD = "bench-password"
CREATED = "2021-06-01 10:00:00"


def api_key(account_id):
    return "benchkey%032d" % (account_id,)


@dataclass(frozen=True)
class Seeded:
    """What the load generator needs to know about the accounts."""

    path: str
    accounts: int
    admin_key: str
    first_keyed: int
    key_step: int
    keyed: int


def _accounts(count):
    yield (1, "admin", DOMAIN, "admin@example.org", 1, "127.0.0.1", "famd-bench", CREATED)
    for account_id in range(2, count + 1):
        yield (account_id, "user%d" % account_id, DOMAIN, None, 1, "127.0.0.1", "famd-bench", CREATED)


def _passwords(count):
    for account_id in range(1, count + 1):
        username = "admin" if account_id == 1 else "user%d" % account_id
        text = "%s:%s:%s" % (username, DOMAIN, PASSWORD)
        yield (account_id, hashlib.md5(text.encode()).hexdigest(), "MD5")


def seed(path, count, keyed=1000):
    """Create C{path} with C{count} accounts (at least 2); return a L{Seeded}."""
    SQLiteStorage(path, reactor=None).migrate_blocking()
    keyed = max(1, min(keyed, count - 1))
    step = max(1, (count - 1) // keyed)
    keyed_ids = [2 + step * k for k in range(keyed)]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # Nobody else has the file yet: no journal, no fsync, a big cache, and
        # the indexes built once at the end (sorting beats a million inserts).
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -262144")
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('accounts', 'passwords', 'api_keys', 'admins')"
        ).fetchall()
        connection.execute("BEGIN IMMEDIATE")
        for name, _ in indexes:
            connection.execute('DROP INDEX "%s"' % (name,))
        connection.executemany(
            'INSERT INTO "accounts" ("id", "username", "domain", "email", "activated", '
            '"ip_address", "user_agent", "creation_time") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
            _accounts(count),
        )
        connection.executemany(
            'INSERT INTO "passwords" ("account_id", "password", "algorithm") VALUES (?, ?, ?)',
            _passwords(count),
        )
        connection.executemany(
            'INSERT INTO "api_keys" ("account_id", "key", "created_at", "updated_at") '
            "VALUES (?, ?, ?, ?)",
            ((i, api_key(i), CREATED, CREATED) for i in [1] + keyed_ids),
        )
        connection.execute(
            'INSERT INTO "admins" ("account_id", "created_at", "updated_at") VALUES (1, ?, ?)',
            (CREATED, CREATED),
        )
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode = WAL")
    finally:
        connection.close()
    return Seeded(path, count, api_key(1), keyed_ids[0], step, keyed)
