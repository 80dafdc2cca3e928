"""
The SQL of single-use provisioning: by the 2021 confirmation key, and by
FAM 2.x's provisioning tokens (``provisioning_tokens``).
"""

from famd.credentials import exact
from famd.model import IssuedToken
from famd.storage.sql_accounts import account_exists_txn, get_account_txn, replace_passwords_txn
from famd.storage.times import from_db

_NOT_EXPIRED = (
    'NOT EXISTS (SELECT 1 FROM "activation_expirations" e '
    'WHERE e."account_id" = a."id" AND e."expires" < ?)'
)


def _holder_txn(txn, key, now):
    rows = txn.all(
        'SELECT a."id", a."confirmation_key" FROM "accounts" a WHERE a."confirmation_key" = ? AND %s '
        'ORDER BY a."id"' % (_NOT_EXPIRED,),
        (key, now),
    )
    return next((account_id for account_id, _ in exact(rows, key, 1)), None)


def consume_confirmation_key_txn(txn, key, now, unless_blocked=False):
    account_id = _holder_txn(txn, key, now)
    if account_id is None:
        return None
    account = get_account_txn(txn, account_id)
    if unless_blocked and account.blocked:
        return account
    cleared = txn.execute(
        'UPDATE "accounts" SET "confirmation_key" = NULL WHERE "id" = ? AND "confirmation_key" = ?',
        (account_id, key),
    )
    return account if cleared == 1 else None


def confirmation_key_valid_txn(txn, key, now):
    return _holder_txn(txn, key, now) is not None


# ---------------------------------------------------------------- FAM 2.x provisioning tokens
#
# An account's current token is its newest unused ``provisioning_tokens``
# row; issuing a token marks the older unused ones used, so that consuming
# the current one never makes an older one current again.

_CURRENT = (
    'SELECT "id", "token", "created_at" FROM "provisioning_tokens" '
    'WHERE "account_id" = ? AND "used" = ? ORDER BY "id" DESC LIMIT 1'
)


def issue_provisioning_token_txn(txn, account_id, token, now, ip, user_agent):
    """Make C{token} the account's current token; False when no such account."""
    if not account_exists_txn(txn, account_id):
        return False
    txn.execute(
        'UPDATE "provisioning_tokens" SET "used" = ?, "updated_at" = ? '
        'WHERE "account_id" = ? AND "used" = ?',
        (True, now, account_id, False),
    )
    txn.insert(
        "provisioning_tokens",
        {"account_id": account_id, "token": token, "used": False, "created_at": now,
         "updated_at": now, "ip": ip, "user_agent": user_agent},
    )
    return True


def current_provisioning_token_txn(txn, account_id):
    row = txn.one(_CURRENT, (account_id, False))
    return None if row is None else IssuedToken(row[1], from_db(row[2]))


def consume_provisioning_token_txn(txn, token, expired_before, now, new_passwords=None):
    """
    ('ok', the activated account), or (refusal, None) with refusal
    'unknown' (no row has this exact text), 'stale' (used, or not its
    account's current token), 'expired' (current, issued before
    C{expired_before}, which None disables; left unused) or 'blocked' (its
    account is blocked; nothing written).  C{new_passwords(account)}, when
    given, makes the rows replacing the account's passwords here.
    """
    rows = exact(txn.all(
        'SELECT "id", "account_id", "token" FROM "provisioning_tokens" '
        'WHERE "token" = ? ORDER BY "id"', (token,)), token, 2)
    if not rows:
        return "unknown", None
    token_id, account_id, _ = rows[-1]
    current = txn.one(_CURRENT, (account_id, False))
    if current is None or current[0] != token_id:
        return "stale", None
    if expired_before is not None and txn.one(
        'SELECT 1 FROM "provisioning_tokens" WHERE "id" = ? AND "created_at" >= ?',
        (token_id, expired_before),
    ) is None:
        return "expired", None
    account = get_account_txn(txn, account_id)
    if account is None or account.blocked:
        return ("blocked" if account is not None else "stale"), None
    consumed = txn.execute(
        'UPDATE "provisioning_tokens" SET "used" = ?, "updated_at" = ? WHERE "id" = ? AND "used" = ?',
        (True, now, token_id, False),
    )
    if consumed != 1:
        return "stale", None
    txn.execute('UPDATE "accounts" SET "activated" = ? WHERE "id" = ?', (True, account_id))
    if new_passwords is not None:
        replace_passwords_txn(txn, account_id, new_passwords(account))
    return "ok", get_account_txn(txn, account_id)


def provisioning_token_unused_txn(txn, token):
    rows = txn.all(
        'SELECT "token" FROM "provisioning_tokens" WHERE "token" = ? AND "used" = ?', (token, False)
    )
    return bool(exact(rows, token, 0))
