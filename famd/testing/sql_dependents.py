"""
The storage contract's C{count_dependents} hook for famd's SQL providers:
each kind of L{famd.testing.storage_contract.DEPENDENTS} is the name of a
table with an ``account_id`` column, counted through the provider's C{read}.
"""

from famd.testing.storage_contract import DEPENDENTS


def count_dependents_txn(txn, account_id):
    """How many rows of each dependent table reference C{account_id}."""
    return {
        table: txn.scalar(
            'SELECT count(*) FROM "%s" WHERE "account_id" = ?' % (table,), (account_id,)
        )
        for table in DEPENDENTS
    }


class SQLDependents:
    """Mix before L{StorageContract} when the provider under test runs SQL."""

    def count_dependents(self, account_id):
        return self.storage.read("count_dependents", count_dependents_txn, account_id)
