"""
A database transaction as the ``*_txn`` functions see it.

It wraps a DB-API cursor and a L{famd.storage.dialect.Dialect}: SQL goes in
written once, rows come out as tuples, inserts give back the new id on every
engine.  Only code running on a storage thread ever holds one.
"""


def one_statement(function):
    """
    Mark a reading ``*_txn`` function that runs exactly one statement: an
    engine may run it without BEGIN and COMMIT around it, since a single
    statement already reads one consistent snapshot.
    """
    function.one_statement = True
    return function


class Transaction:
    """One open transaction on one connection."""

    def __init__(self, cursor, dialect):
        self.cursor = cursor
        self.dialect = dialect
        self.ending = []

    def lock(self, name):
        """
        Wait for, then hold until the transaction ends, the lock C{name}:
        transactions taking the same lock run one after the other, in every
        famd process on the database (a check-then-insert stays correct).
        This is famd's one way of serializing transactions: take it first,
        before the transaction reads or writes anything (see
        L{famd.storage.dialect.Dialect.lock} for each engine's lock).
        """
        self.dialect.lock(self, name)

    def on_end(self, sql, params=()):
        """
        Have the engine's runner execute C{sql} once this transaction has
        committed or rolled back (releasing a connection-wide lock).
        """
        self.ending.append((sql, tuple(params)))

    def execute(self, sql, params=()):
        """Run one statement; return the cursor's rowcount."""
        self.cursor.execute(self.dialect.sql(sql), tuple(params))
        return self.cursor.rowcount

    def one(self, sql, params=()):
        """The first row of a query, or None."""
        self.cursor.execute(self.dialect.sql(sql), tuple(params))
        return self.cursor.fetchone()

    def all(self, sql, params=()):
        """Every row of a query, as a list."""
        self.cursor.execute(self.dialect.sql(sql), tuple(params))
        return list(self.cursor.fetchall())

    def scalar(self, sql, params=()):
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else row[0]

    def insert_ignore(self, table, values):
        """Insert one row unless it would break a unique constraint."""
        columns = ", ".join('"%s"' % (column,) for column in values)
        marks = ", ".join("?" for _ in values)
        sql = self.dialect.insert_ignore('"%s" (%s) VALUES (%s)' % (table, columns, marks))
        self.cursor.execute(self.dialect.sql(sql), tuple(values.values()))

    def insert(self, table, values):
        """
        Insert one row from a dict of column -> value; return its id.
        """
        columns = ", ".join('"%s"' % (column,) for column in values)
        marks = ", ".join("?" for _ in values)
        sql = 'INSERT INTO "%s" (%s) VALUES (%s)' % (table, columns, marks)
        if self.dialect.returning_ids:
            return self.scalar(sql + ' RETURNING "id"', values.values())
        self.cursor.execute(self.dialect.sql(sql), tuple(values.values()))
        return self.cursor.lastrowid
