"""
The SQL of FAM 2.x's auth tokens (``auth_tokens``), the QR login: an
anonymous device makes a token, a logged-in account attaches itself to it,
and the device trades the attached token, once, for its provisioning
document or an API key.
"""

from famd.credentials import exact
from famd.storage.sql_accounts import get_account_txn, replace_passwords_txn


def add_auth_token_txn(txn, token, now, ip, user_agent):
    return txn.insert(
        "auth_tokens",
        {"account_id": None, "token": token, "created_at": now, "updated_at": now, "ip": ip,
         "user_agent": user_agent},
    )


def _rows_txn(txn, token, not_before):
    """(id, account_id) of the rows holding exactly C{token}, issued at C{not_before} or later."""
    rows = txn.all(
        'SELECT "id", "token", "account_id" FROM "auth_tokens" '
        'WHERE "token" = ? AND "created_at" >= ? ORDER BY "id"',
        (token, not_before),
    )
    return [(row[0], row[2]) for row in exact(rows, token, 1)]


def attach_auth_token_txn(txn, token, account_id, not_before, now):
    for token_id, attached in _rows_txn(txn, token, not_before):
        if attached is None and txn.execute(
            'UPDATE "auth_tokens" SET "account_id" = ?, "updated_at" = ? '
            'WHERE "id" = ? AND "account_id" IS NULL',
            (account_id, now, token_id),
        ) == 1:
            return True
    return False


def take_auth_token_txn(txn, token, not_before, new_passwords=None):
    """
    The attached account, once; a blocked account is given back as it is,
    its token kept; C{new_passwords(account)}, when given, makes the rows
    replacing the account's passwords here.
    """
    for token_id, attached in _rows_txn(txn, token, not_before):
        if attached is None:
            continue
        account = get_account_txn(txn, attached)
        if account is None or account.blocked:
            return account
        if txn.execute('DELETE FROM "auth_tokens" WHERE "id" = ?', (token_id,)) == 1:
            if new_passwords is not None:
                replace_passwords_txn(txn, attached, new_passwords(account))
                account = get_account_txn(txn, attached)
            return account
    return None


def delete_auth_tokens_txn(txn, created_before):
    return txn.execute(
        'DELETE FROM "auth_tokens" WHERE "created_at" < ? OR "created_at" IS NULL', (created_before,)
    )
