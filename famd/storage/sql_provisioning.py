"""
The SQL of single-use provisioning by confirmation key.
"""

from famd.storage.sql_accounts import get_account_txn

_NOT_EXPIRED = (
    'NOT EXISTS (SELECT 1 FROM "activation_expirations" e '
    'WHERE e."account_id" = a."id" AND e."expires" < ?)'
)


def _holder_txn(txn, key, now):
    # MariaDB's utf8mb4_unicode_ci compares case-insensitively: keep only an exact match.
    rows = txn.all(
        'SELECT a."id", a."confirmation_key" FROM "accounts" a WHERE a."confirmation_key" = ? AND %s '
        'ORDER BY a."id"' % (_NOT_EXPIRED,),
        (key, now),
    )
    return next((account_id for account_id, stored in rows if stored == key), None)


def consume_confirmation_key_txn(txn, key, now):
    account_id = _holder_txn(txn, key, now)
    if account_id is None:
        return None
    account = get_account_txn(txn, account_id)
    cleared = txn.execute(
        'UPDATE "accounts" SET "confirmation_key" = NULL WHERE "id" = ? AND "confirmation_key" = ?',
        (account_id, key),
    )
    return account if cleared == 1 else None


def confirmation_key_valid_txn(txn, key, now):
    return _holder_txn(txn, key, now) is not None
