"""
The SQL of DIGEST nonces and deployment-wide settings.

The nonce count is checked and raised in one conditional UPDATE, so that of
concurrent requests carrying the same (nonce, nc), in any process, exactly
one is accepted.  A nonce has a row only once it was used: its first use
(count 1, within a short time of its challenge, which famd vouches for by
its HMAC) creates it.
"""

from famd.storage.sql_codes import full_txn

BURNT = 2**31 - 1
"""The count of a replayed nonce: no further count passes it."""


def create_nonce_txn(txn, account_id, nonce, now):
    txn.insert(
        "nonces",
        {"account_id": account_id, "nonce": nonce, "nc": 0, "created_at": now, "updated_at": now},
    )


def use_nonce_txn(txn, account_id, nonce, nc, not_before, now, issued=None, blocking=()):
    if blocking and full_txn(txn, blocking):
        return "limited"
    if issued is not None and nc == 1:
        # A first use of a nonce famd vouches for: its row, at count 0, is
        # created now (once: the index on nonce and account is unique), and
        # the conditional update below lets exactly one use win.
        txn.insert_ignore(
            "nonces",
            {"account_id": account_id, "nonce": nonce, "nc": 0, "created_at": issued,
             "updated_at": issued},
        )
    raised = txn.execute(
        'UPDATE "nonces" SET "nc" = ?, "updated_at" = ? '
        'WHERE "nonce" = ? AND "account_id" = ? AND "nc" < ? AND "created_at" >= ?',
        (nc, now, nonce, account_id, nc, not_before),
    )
    if raised:
        return "ok"
    known = txn.scalar(
        'SELECT "nc" FROM "nonces" WHERE "nonce" = ? AND "account_id" = ? AND "created_at" >= ?',
        (nonce, account_id, not_before),
    )
    if known is None or known >= BURNT:
        return "invalid"
    # Like the 2021 account manager: a replayed nonce is burnt.  Its row
    # stays (at a count no answer can pass), so that it cannot be used
    # again as a first use.
    txn.execute(
        'UPDATE "nonces" SET "nc" = ? WHERE "nonce" = ? AND "account_id" = ?',
        (BURNT, nonce, account_id),
    )
    return "replayed"


_UNUSED = (
    '("updated_at" < ? OR ("updated_at" IS NULL AND ("created_at" IS NULL OR "created_at" < ?)))'
)
"""Nonces whose last use (or creation) is before the parameter (given twice)."""


def delete_nonces_txn(txn, not_used_since, most):
    """
    Delete at most C{most} of the nonces unused since C{not_used_since}, the
    oldest ids first; return how many.  The batch is bounded by the id of
    its last row, so the same two statements serve every engine (MySQL
    allows no LIMIT in an IN subquery).
    """
    last = txn.scalar(
        'SELECT max("id") FROM (SELECT "id" FROM "nonces" WHERE ' + _UNUSED
        + ' ORDER BY "id" LIMIT ?) AS "batch"',
        (not_used_since, not_used_since, most),
    )
    if last is None:
        return 0
    return txn.execute(
        'DELETE FROM "nonces" WHERE "id" <= ? AND ' + _UNUSED,
        (last, not_used_since, not_used_since),
    )


def get_setting_txn(txn, name, default):
    value = txn.scalar('SELECT "value" FROM "famd_settings" WHERE "name" = ?', (name,))
    if value is not None:
        return value
    txn.insert_ignore("famd_settings", {"name": name, "value": default})
    return txn.scalar('SELECT "value" FROM "famd_settings" WHERE "name" = ?', (name,))
