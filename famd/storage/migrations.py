"""
The versioned schema.

Each engine has a folder ``schema/<dialect>/`` of numbered SQL files; file N
takes the schema from version N-1 to N.  They are append-only: a released
file never changes, a new need is a new file.  The version reached is
recorded in famd's own table ``famd_schema``; a database whose version is
higher than the last file here was migrated by a newer famd, and is refused.
"""

import os
import re

from famd.clock import utcnow
from famd.storage.times import to_db
from famd.interfaces import SchemaTooNew

_SCHEMA_DIR = os.path.join(os.path.dirname(__file__), "schema")
_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

VERSION_TABLE = (
    'CREATE TABLE IF NOT EXISTS "famd_schema" '
    '("version" integer not null primary key, "applied_at" varchar(19) not null)'
)


def steps(dialect_name):
    """The (version, list of SQL statements) pairs for an engine, in order."""
    folder = os.path.join(_SCHEMA_DIR, dialect_name)
    found = []
    for filename in sorted(os.listdir(folder)):
        match = _FILE.match(filename)
        if match:
            with open(os.path.join(folder, filename), encoding="utf-8") as f:
                found.append((int(match.group(1)), split(f.read())))
    expected = list(range(1, len(found) + 1))
    if [version for version, _ in found] != expected:
        raise RuntimeError("schema files of %s are not numbered 1..N" % (dialect_name,))
    return found


def split(script):
    """The statements of an SQL file: comments dropped, split on ';' at line ends."""
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def latest(dialect_name):
    """The schema version this famd brings an engine to."""
    return len(steps(dialect_name))


def current_version_txn(txn):
    """The version recorded in the database (0 when famd never ran on it)."""
    txn.execute(VERSION_TABLE)
    return txn.scalar('SELECT max("version") FROM "famd_schema"') or 0


def migrate_txn(txn):
    """
    Bring the schema to the latest version inside the caller's transaction.

    @return: the version reached.
    @raise SchemaTooNew: the database is ahead of this famd.
    """
    name = txn.dialect.name
    txn.lock("migrate")  # several famd processes may start at once
    current = current_version_txn(txn)
    newest = latest(name)
    if current > newest:
        raise SchemaTooNew(
            "the database schema is at version %d, newer than this famd "
            "understands (%d): upgrade famd before starting it on this database"
            % (current, newest)
        )
    for version, statements in steps(name):
        if version <= current:
            continue
        for statement in statements:
            txn.execute(statement)
        txn.execute(
            'INSERT INTO "famd_schema" ("version", "applied_at") VALUES (?, ?)',
            (version, to_db(utcnow())),
        )
    return newest
