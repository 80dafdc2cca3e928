"""
The SQL of the account panel's sessions (``famd_sessions``, famd's own
table): a row per session bound to an account, named by the SHA-256 of its
id, dropped when it idles or ages past its limits (L{famd.panel.sessions}),
and in the transaction that replaces the account's passwords, however
they are replaced (L{delete_account_web_sessions_txn}).
"""

from famd.model import WebSession
from famd.storage.times import from_db


def add_web_session_txn(txn, id_hash, account_id, now):
    txn.insert("famd_sessions", {
        "id_hash": id_hash, "account_id": account_id, "created_at": now, "last_seen_at": now,
    })


def web_session_txn(txn, id_hash, idle_since, created_since):
    row = txn.one(
        'SELECT "account_id", "created_at", "last_seen_at" FROM "famd_sessions" '
        'WHERE "id_hash" = ? AND "last_seen_at" >= ? AND "created_at" >= ?',
        (id_hash, idle_since, created_since),
    )
    if row is None:
        return None
    return WebSession(row[0], from_db(row[1]), from_db(row[2]))


def touch_web_session_txn(txn, id_hash, now):
    return txn.execute(
        'UPDATE "famd_sessions" SET "last_seen_at" = ? WHERE "id_hash" = ?', (now, id_hash)
    ) == 1


def delete_web_session_txn(txn, id_hash):
    return txn.execute('DELETE FROM "famd_sessions" WHERE "id_hash" = ?', (id_hash,)) == 1


def delete_account_web_sessions_txn(txn, account_id, keep=None):
    """Delete the account's panel sessions (but C{keep}, an id hash): logout elsewhere, blocking, new passwords."""
    if keep is None:
        return txn.execute('DELETE FROM "famd_sessions" WHERE "account_id" = ?', (account_id,))
    return txn.execute(
        'DELETE FROM "famd_sessions" WHERE "account_id" = ? AND "id_hash" <> ?', (account_id, keep)
    )


def delete_expired_web_sessions_txn(txn, idle_before, created_before):
    return txn.execute(
        'DELETE FROM "famd_sessions" WHERE "last_seen_at" < ? OR "created_at" < ?',
        (idle_before, created_before),
    )
