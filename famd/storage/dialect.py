"""
The differences between SQL engines, in one place.

famd's SQL is written once, in SQLite's spelling: ``?`` parameters and
double-quoted identifiers.  A L{Dialect} rewrites it for its engine and says
how to get an inserted row's id.  Nothing else in famd knows which engine it
talks to.
"""

import re


class Dialect:
    """SQLite: the SQL as written."""

    name = "sqlite"
    returning_ids = False

    def __init__(self):
        self._cache = {}

    def sql(self, text):
        """C{text} rewritten for this engine (cached)."""
        try:
            return self._cache[text]
        except KeyError:
            rewritten = self._cache[text] = self.rewrite(text)
            return rewritten

    def rewrite(self, text):
        return text

    def insert_ignore(self, target):
        """An INSERT of C{target} ('table (cols) VALUES (...)') that skips duplicates."""
        return "INSERT OR IGNORE INTO " + target

    def is_unique_violation(self, error):
        """Whether a driver exception is a unique-constraint failure."""
        return "UNIQUE constraint failed" in str(error)


_QMARK = re.compile(r"\?")


class FormatDialect(Dialect):
    """Engines whose drivers take ``%s`` parameters (PyMySQL, psycopg)."""

    quote = '"'

    def rewrite(self, text):
        text = text.replace("%", "%%")
        text = _QMARK.sub("%s", text)
        if self.quote != '"':
            text = text.replace('"', self.quote)
        return text


class MySQLDialect(FormatDialect):
    """MySQL / MariaDB through PyMySQL: backquoted identifiers."""

    name = "mysql"
    quote = "`"

    def insert_ignore(self, target):
        return "INSERT IGNORE INTO " + target

    def is_unique_violation(self, error):
        return getattr(error, "args", (None,))[0] == 1062


class PostgreSQLDialect(FormatDialect):
    """PostgreSQL through psycopg: ids come back with RETURNING."""

    name = "postgresql"
    returning_ids = True

    def insert_ignore(self, target):
        return "INSERT INTO " + target + " ON CONFLICT DO NOTHING"

    def is_unique_violation(self, error):
        return getattr(error, "sqlstate", None) == "23505"
