"""
The SQL of FAM 2.x's administrator routes: an account rewritten by ``PUT
/api/accounts/{id}`` in one transaction, blocking, the lookup by e-mail,
and the single-use reset-password links (``reset_password_email_tokens``).
"""


from famd.credentials import first_exact
from famd.errors import Conflict
from famd.model import ResetPasswordToken
from famd.storage.sql_accounts import (
    get_account_txn,
    insert_passwords_txn,
    set_admin_txn,
)
from famd.storage.sql_codes import phone_taken_txn
from famd.storage.sql_sessions import delete_account_web_sessions_txn
from famd.storage.times import from_db
from famd.storage.transaction import one_statement


def update_account_txn(txn, account_id, changes, now):
    """
    Apply L{famd.model.AccountChanges}; the updated account, or None when
    there is no such account.  A username another account of the domain
    has, or a phone another account uses, raises L{Conflict} and changes
    nothing.
    """
    # The lock of account creations: no creation or update can take the
    # username or phone between the checks below and the commit.
    txn.lock("create_account")
    row = txn.one('SELECT "domain" FROM "accounts" WHERE "id" = ? FOR UPDATE', (account_id,))
    if row is None:
        return None
    domain = row[0]
    if txn.one(
        'SELECT 1 FROM "accounts" WHERE "username" = ? AND "domain" = ? AND "id" <> ? LIMIT 1',
        (changes.username, domain, account_id),
    ) is not None:
        raise Conflict("username")
    if changes.phone is not None and phone_taken_txn(txn, changes.phone, account_id):
        raise Conflict("phone")
    columns = {
        "username": changes.username,
        "email": changes.email,
        "display_name": changes.display_name,
        "dtmf_protocol": changes.dtmf_protocol,
    }
    if changes.activated is not None:
        columns["activated"] = changes.activated
    if changes.blocked is not None:
        columns["blocked"] = changes.blocked
    txn.execute(
        'UPDATE "accounts" SET %s WHERE "id" = ?'
        % (", ".join('"%s" = ?' % (column,) for column in columns),),
        tuple(columns.values()) + (account_id,),
    )
    txn.execute('DELETE FROM "aliases" WHERE "account_id" = ?', (account_id,))
    if changes.phone is not None:
        txn.insert("aliases", {"account_id": account_id, "alias": changes.phone, "domain": domain})
    if changes.passwords is not None:
        txn.execute('DELETE FROM "passwords" WHERE "account_id" = ?', (account_id,))
        insert_passwords_txn(txn, account_id, changes.passwords)
        delete_account_web_sessions_txn(txn, account_id)
    if changes.admin is not None:
        set_admin_txn(txn, account_id, changes.admin, now)
    return get_account_txn(txn, account_id)


def set_blocked_txn(txn, account_id, blocked):
    txn.execute('UPDATE "accounts" SET "blocked" = ? WHERE "id" = ?', (blocked, account_id))
    return get_account_txn(txn, account_id)


@one_statement
def first_with_email_txn(txn, email):
    """The lowest id of the accounts whose e-mail is C{email}, or None."""
    return txn.scalar('SELECT min("id") FROM "accounts" WHERE "email" = ?', (email,))


def find_account_by_email_txn(txn, email):
    account_id = first_with_email_txn(txn, email)
    return None if account_id is None else get_account_txn(txn, account_id)


def find_account_by_phone_txn(txn, phone):
    """The account whose alias is C{phone}, else the one of lowest id named C{phone}, or None."""
    account_id = txn.scalar('SELECT min("account_id") FROM "aliases" WHERE "alias" = ?', (phone,))
    if account_id is None:
        account_id = txn.scalar('SELECT min("id") FROM "accounts" WHERE "username" = ?', (phone,))
    return None if account_id is None else get_account_txn(txn, account_id)


def add_reset_password_token_txn(txn, account_id, token, email, ip, user_agent, now):
    if txn.one('SELECT 1 FROM "accounts" WHERE "id" = ? FOR UPDATE', (account_id,)) is None:
        return False
    txn.insert(
        "reset_password_email_tokens",
        {
            "token": token,
            "used": False,
            "email": email,
            "account_id": account_id,
            "ip": ip,
            "user_agent": user_agent,
            "created_at": now,
            "updated_at": now,
        },
    )
    return True


_TOKEN_COLUMNS = '"id", "account_id", "token", "email", "used", "created_at", "ip", "user_agent"'


def reset_password_token_txn(txn, token):
    """The row whose token is exactly C{token} (engines may compare text case-insensitively)."""
    rows = txn.all(
        'SELECT %s FROM "reset_password_email_tokens" WHERE "token" = ? ORDER BY "id"'
        % (_TOKEN_COLUMNS,),
        (token,),
    )
    row = first_exact(rows, token, 2)
    if row is None:
        return None
    return ResetPasswordToken(
        row[0], row[1], row[2], row[3], bool(row[4]), from_db(row[5]), row[6], row[7]
    )


def use_reset_password_token_txn(txn, token, not_before, now):
    """
    Mark the unused token C{token} created at or after C{not_before} used;
    its account id, or None (unknown, used or expired).
    """
    found = reset_password_token_txn(txn, token)
    if found is None or found.used:
        return None
    used = txn.execute(
        'UPDATE "reset_password_email_tokens" SET "used" = ?, "updated_at" = ? '
        'WHERE "id" = ? AND "used" = ? AND "created_at" >= ?',
        (True, now, found.id, False, not_before),
    )
    return found.account_id if used == 1 else None
