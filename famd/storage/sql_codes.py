"""
The SQL of single-use codes and of failed code attempts.

Activation codes live in ``accounts.confirmation_key``, pending phone
changes in ``phone_change_codes``, pending e-mail changes in
``email_changed`` (the 2021 link) and ``email_change_codes`` (FAM 2.x's
4-digit code), both written by one request and both removed by either
confirmation.  Confirming a phone or an e-mail code activates the account
(FAM 2.x's sign-up flows).  The caller reads a code, compares it in constant time,
then applies it here with a write conditional on that same code: of
concurrent requests with one code, exactly one changes a row.  Failed
attempts are rows of famd's own ``famd_code_failures`` table.
"""

from famd.errors import Conflict
from famd.model import EmailChange, EmailCode, PhoneChange
from famd.storage.sql_accounts import get_account_txn
from famd.storage.times import from_db


# ---------------------------------------------------------------- activation


def activate_with_code_txn(txn, account_id, code):
    changed = txn.execute(
        'UPDATE "accounts" SET "activated" = ?, "confirmation_key" = NULL '
        'WHERE "id" = ? AND "confirmation_key" = ?',
        (True, account_id, code),
    )
    return get_account_txn(txn, account_id) if changed == 1 else None


# ---------------------------------------------------------------- phone


def phone_taken_txn(txn, phone, account_id):
    alias = txn.one(
        'SELECT 1 FROM "aliases" WHERE "alias" = ? AND "account_id" <> ? LIMIT 1',
        (phone, account_id),
    )
    if alias is not None:
        return True
    username = txn.one(
        'SELECT 1 FROM "accounts" WHERE "username" = ? AND "id" <> ? LIMIT 1',
        (phone, account_id),
    )
    return username is not None


def replace_pending_txn(txn, table, account_id, values, now):
    """Make C{values} the account's only pending row of C{table}."""
    txn.execute('DELETE FROM "%s" WHERE "account_id" = ?' % (table,), (account_id,))
    row = {"account_id": account_id}
    row.update(values)
    row.update(created_at=now, updated_at=now)
    txn.insert(table, row)


def set_phone_change_txn(txn, account_id, phone, code, now, ip=None, user_agent=None):
    replace_pending_txn(
        txn, "phone_change_codes", account_id,
        {"code": code, "phone": phone, "ip": ip, "user_agent": user_agent}, now,
    )


def phone_change_txn(txn, account_id):
    row = txn.one(
        'SELECT "phone", "code", "created_at" FROM "phone_change_codes" WHERE "account_id" = ? '
        'ORDER BY "id" DESC LIMIT 1',
        (account_id,),
    )
    return None if row is None else PhoneChange(account_id, row[0], row[1], from_db(row[2]))


def drop_pending_txn(txn, table, column, account_id, secret):
    """Delete the account's pending row of C{table} whose C{column} is C{secret}."""
    return (
        txn.execute(
            'DELETE FROM "%s" WHERE "account_id" = ? AND "%s" = ?' % (table, column),
            (account_id, secret),
        )
        > 0
    )


def take_code_txn(txn, table, column, account_id, code):
    """
    The C{column} of the account's latest pending row of C{table} whose code
    is C{code}, once that row is deleted; None when there is none, or a
    concurrent transaction took it first (the first step of every "apply").
    """
    value = txn.scalar(
        'SELECT "%s" FROM "%s" WHERE "account_id" = ? AND "code" = ? ORDER BY "id" DESC LIMIT 1'
        % (column, table),
        (account_id, code),
    )
    if value is None or not drop_pending_txn(txn, table, "code", account_id, code):
        return None
    return value


def drop_phone_change_txn(txn, account_id, code):
    return drop_pending_txn(txn, "phone_change_codes", "code", account_id, code)


def apply_phone_change_txn(txn, account_id, code):
    phone = take_code_txn(txn, "phone_change_codes", "phone", account_id, code)
    if phone is None:
        return None
    if phone_taken_txn(txn, phone, account_id):
        raise Conflict("phone")
    domain = txn.scalar('SELECT "domain" FROM "accounts" WHERE "id" = ?', (account_id,))
    txn.execute('DELETE FROM "aliases" WHERE "account_id" = ?', (account_id,))
    txn.insert("aliases", {"account_id": account_id, "alias": phone, "domain": domain})
    activate_txn(txn, account_id)
    return get_account_txn(txn, account_id)


def activate_txn(txn, account_id):
    """Activate the account (a confirmed phone or e-mail proves its owner; FAM 2.x)."""
    txn.execute(
        'UPDATE "accounts" SET "activated" = ? WHERE "id" = ? AND "activated" = ?',
        (True, account_id, False),
    )


# ---------------------------------------------------------------- e-mail


def set_email_change_txn(txn, account_id, new_email, secret, now):
    replace_pending_txn(txn, "email_changed", account_id, {"new_email": new_email, "hash": secret}, now)


def email_change_txn(txn, secret):
    row = txn.one(
        'SELECT "account_id", "new_email", "hash", "created_at" FROM "email_changed" '
        'WHERE "hash" = ? ORDER BY "id" LIMIT 1',
        (secret,),
    )
    if row is None:
        return None
    return EmailChange(row[0], row[1], from_db(row[3]), secret=row[2])


def drop_email_change_txn(txn, account_id, secret):
    return drop_pending_txn(txn, "email_changed", "hash", account_id, secret)


def apply_email_change_txn(txn, account_id, secret):
    new_email = txn.scalar(
        'SELECT "new_email" FROM "email_changed" WHERE "account_id" = ? AND "hash" = ?',
        (account_id, secret),
    )
    if new_email is None or not drop_email_change_txn(txn, account_id, secret):
        return None
    # The same request's 2.x code is confirmed with it.
    txn.execute('DELETE FROM "email_change_codes" WHERE "account_id" = ?', (account_id,))
    txn.execute('UPDATE "accounts" SET "email" = ? WHERE "id" = ?', (new_email, account_id))
    activate_txn(txn, account_id)
    return new_email


# ---------------------------------------------------------------- e-mail, FAM 2.x code


def request_email_change_txn(txn, account_id, new_email, secret, code, now, ip, user_agent):
    """The account's one pending e-mail change, as a 2021 link and a 2.x code."""
    set_email_change_txn(txn, account_id, new_email, secret, now)
    replace_pending_txn(
        txn, "email_change_codes", account_id,
        {"email": new_email, "code": code, "ip": ip, "user_agent": user_agent}, now,
    )


def email_code_txn(txn, account_id):
    row = txn.one(
        'SELECT "email", "code", "created_at", "ip", "user_agent" FROM "email_change_codes" '
        'WHERE "account_id" = ? AND "code" IS NOT NULL ORDER BY "id" DESC LIMIT 1',
        (account_id,),
    )
    if row is None:
        return None
    return EmailCode(account_id, row[0], row[1], from_db(row[2]), row[3], row[4])


def drop_email_code_txn(txn, account_id, code):
    return drop_pending_txn(txn, "email_change_codes", "code", account_id, code)


def apply_email_code_txn(txn, account_id, code):
    new_email = take_code_txn(txn, "email_change_codes", "email", account_id, code)
    if new_email is None:
        return None
    # The same request's 2021 link is confirmed with it.
    txn.execute('DELETE FROM "email_change_codes" WHERE "account_id" = ?', (account_id,))
    txn.execute('DELETE FROM "email_changed" WHERE "account_id" = ?', (account_id,))
    txn.execute('UPDATE "accounts" SET "email" = ? WHERE "id" = ?', (new_email, account_id))
    activate_txn(txn, account_id)
    return get_account_txn(txn, account_id)


def creation_token_consumed_txn(txn, account_id):
    row = txn.one(
        'SELECT 1 FROM "tokens" WHERE "account_id" = ? AND "used" = ? LIMIT 1', (account_id, True)
    )
    return row is not None


# ---------------------------------------------------------------- failed attempts


def reserve_attempt_txn(txn, scopes, limit, since, now):
    """
    L{famd.interfaces.IRateLimitStore.reserve_attempt}, C{since} and C{now}
    in the database's form: (ids, None) or ((), the datetime of the failure
    whose expiry frees the busiest scope).  Serialized, so that the counts
    and the inserts of one reservation are never interleaved with another's.
    """
    txn.lock("famd_code_failures")
    oldest = None
    for scope in scopes:
        # Each limit has its own window: only this scope's expired rows go.
        txn.execute(
            'DELETE FROM "famd_code_failures" WHERE "scope" = ? AND "created_at" <= ?', (scope, since)
        )
        times = txn.all(
            'SELECT "created_at" FROM "famd_code_failures" WHERE "scope" = ? '
            'AND "created_at" > ? ORDER BY "created_at"',
            (scope, since),
        )
        if len(times) >= limit:
            # A failure whose time is unreadable frees its scope a whole window from now.
            frees = from_db(times[len(times) - limit][0]) or from_db(now)
            oldest = frees if oldest is None else max(oldest, frees)
    if oldest is not None:
        return (), oldest
    ids = tuple(
        txn.insert("famd_code_failures", {"scope": scope, "created_at": now}) for scope in scopes
    )
    return ids, None


def forget_attempts_txn(txn, ids):
    return sum(
        txn.execute('DELETE FROM "famd_code_failures" WHERE "id" = ?', (row_id,)) for row_id in ids
    )


def count_attempts_txn(txn, scope, since):
    return txn.scalar(
        'SELECT COUNT(*) FROM "famd_code_failures" WHERE "scope" = ? AND "created_at" > ?',
        (scope, since),
    )


def full_txn(txn, buckets):
    """Whether any (scope, limit, since) of C{buckets} holds C{limit} events or more."""
    return any(count_attempts_txn(txn, scope, since) >= limit for scope, limit, since in buckets)


def forget_expired_attempts_txn(txn, before):
    return txn.execute('DELETE FROM "famd_code_failures" WHERE "created_at" <= ?', (before,))
