"""
The SQL of FAM 2.x sign-up and recovery: account-creation tokens of either
API generation (``tokens`` rows, now with ``account_id``, ``ip`` and
``user_agent``), desktop request tokens (``account_creation_request_tokens``)
and recovery tokens pushed to a device (``account_recovery_tokens``).

Tokens are found by their exact text: a query by token may return several
rows on an engine whose collation folds case (MySQL), so the row whose text
is equal, compared in constant time, is the one used.  Every single use is a
conditional update of that row (``used`` still false), so of concurrent
requests with one token exactly one wins.  Checks that guard an insert (the
device rules) run again in the inserting transaction, under a lock.
"""


from famd.credentials import first_exact
from famd.model import CreationToken, RecoveryToken, RequestToken
from famd.storage.sql_tokens import insert_device_token_txn
from famd.storage.times import from_db

_DEVICE = '"pn_provider" = ? AND "pn_param" = ? AND "pn_prid" = ?'
_TOKEN_COLUMNS = (
    '"id", "token", "pn_provider", "pn_param", "pn_prid", "used", "account_id", "ip", '
    '"user_agent", "created_at"'
)
_REQUEST_COLUMNS = '"id", "token", "used", "validated_at", "acc_creation_token_id", "created_at"'
_RECOVERY_COLUMNS = (
    '"id", "token", "pn_provider", "pn_param", "pn_prid", "used", "account_id", "created_at"'
)


def _creation_token(row):
    return CreationToken(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6], row[7],
                         row[8], from_db(row[9]))


def _request_token(row):
    return RequestToken(row[0], row[1], bool(row[2]), from_db(row[3]) if row[3] else None, row[4],
                        from_db(row[5]))


def _recovery_token(row):
    return RecoveryToken(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6],
                         from_db(row[7]))


def _exact(rows, token):
    """The first of C{rows} (token text second) whose text is exactly C{token}, or None."""
    return first_exact(rows, token, 1)


# ---------------------------------------------------------------- creation tokens


def device_tokens_txn(txn, pn_provider, pn_param, pn_prid, since):
    """(created_at, used) of the device's tokens created after C{since}, oldest first."""
    rows = txn.all(
        'SELECT "created_at", "used" FROM "tokens" WHERE %s AND "created_at" > ? ORDER BY "id"'
        % (_DEVICE,),
        (pn_provider, pn_param, pn_prid, since),
    )
    return [(from_db(created), bool(used)) for created, used in rows]


def add_device_token_txn(txn, token, pn_provider, pn_param, pn_prid, ip, user_agent, now, since):
    """
    Store a token just pushed to the device, replacing the device's unused,
    unattached ones, unless a token of the device created after C{since}
    was used: then return the latest such one's creation time and store
    nothing.
    """
    txn.lock("tokens")
    device = (pn_provider, pn_param, pn_prid)
    used = [created for created, was_used in device_tokens_txn(txn, *device, since) if was_used]
    if used:
        return max(used)
    txn.execute(
        'DELETE FROM "tokens" WHERE %s AND "used" = ? AND "account_id" IS NULL' % (_DEVICE,),
        device + (False,),
    )
    insert_device_token_txn(txn, "tokens", token, device, ip, user_agent, now)
    return None


def _token_by_id(txn, token_id):
    row = txn.one('SELECT %s FROM "tokens" WHERE "id" = ?' % (_TOKEN_COLUMNS,), (token_id,))
    return None if row is None else _creation_token(row)


def add_plain_token_txn(txn, token, ip, user_agent, now):
    """Store a token made without a device (empty ``pn_*``); return it."""
    return _token_by_id(
        txn, insert_device_token_txn(txn, "tokens", token, ("", "", ""), ip, user_agent, now))


def creation_token_txn(txn, token):
    """The L{CreationToken} whose text is C{token}, or None."""
    rows = txn.all('SELECT %s FROM "tokens" WHERE "token" = ? ORDER BY "id"' % (_TOKEN_COLUMNS,),
                   (token,))
    row = _exact(rows, token)
    return None if row is None else _creation_token(row)


def consume_creation_token_txn(txn, token, account_id, ip, user_agent, now):
    """
    Mark the unused, unattached token C{token} used by C{account_id} (with
    this request's address and agent); return it re-read, or None.
    """
    rows = txn.all(
        'SELECT %s FROM "tokens" WHERE "token" = ? AND "used" = ? AND "account_id" IS NULL '
        'ORDER BY "id"' % (_TOKEN_COLUMNS,),
        (token, False),
    )
    row = _exact(rows, token)
    if row is None:
        return None
    changed = txn.execute(
        'UPDATE "tokens" SET "used" = ?, "account_id" = ?, "ip" = ?, "user_agent" = ?, '
        '"updated_at" = ? WHERE "id" = ? AND "used" = ? AND "account_id" IS NULL',
        (True, account_id, ip, user_agent, now, row[0], False),
    )
    return _token_by_id(txn, row[0]) if changed == 1 else None


def attach_token_txn(txn, token_id, account_id):
    """Record which account the token C{token_id}, consumed at account creation, made."""
    txn.execute(
        'UPDATE "tokens" SET "account_id" = ? WHERE "id" = ? AND "used" = ? '
        'AND "account_id" IS NULL',
        (account_id, token_id, True),
    )


# ---------------------------------------------------------------- request tokens


def add_request_token_txn(txn, token, now):
    """Store a new, unused, not validated request token."""
    txn.insert(
        "account_creation_request_tokens",
        {"token": token, "used": False, "created_at": now, "updated_at": now},
    )


def request_token_txn(txn, token):
    """The L{RequestToken} whose text is C{token}, or None."""
    rows = txn.all(
        'SELECT %s FROM "account_creation_request_tokens" WHERE "token" = ? ORDER BY "id"'
        % (_REQUEST_COLUMNS,),
        (token,),
    )
    row = _exact(rows, token)
    return None if row is None else _request_token(row)


def validate_request_token_txn(txn, token, ip, user_agent, now):
    """Set C{validated_at} of the unused, not validated request token; True when it changed."""
    found = request_token_txn(txn, token)
    if found is None:
        return False
    return txn.execute(
        'UPDATE "account_creation_request_tokens" SET "validated_at" = ?, "ip" = ?, '
        '"user_agent" = ?, "updated_at" = ? WHERE "id" = ? AND "used" = ? '
        'AND "validated_at" IS NULL',
        (now, ip, user_agent, now, found.id, False),
    ) == 1


def trade_request_token_txn(txn, token, creation_token, ip, user_agent, now):
    """
    Mark the validated, unused request token C{token} used and store the
    creation token traded for it; return that L{CreationToken}, or None.
    """
    found = request_token_txn(txn, token)
    if found is None:
        return None
    changed = txn.execute(
        'UPDATE "account_creation_request_tokens" SET "used" = ?, "updated_at" = ? '
        'WHERE "id" = ? AND "used" = ? AND "validated_at" IS NOT NULL',
        (True, now, found.id, False),
    )
    if changed != 1:
        return None
    made = add_plain_token_txn(txn, creation_token, ip, user_agent, now)
    txn.execute(
        'UPDATE "account_creation_request_tokens" SET "acc_creation_token_id" = ? WHERE "id" = ?',
        (made.id, found.id),
    )
    return made


# ---------------------------------------------------------------- recovery tokens


def recovery_used_since_txn(txn, pn_provider, pn_param, pn_prid, since):
    """When the device's latest used recovery token created after C{since} was created, or None."""
    rows = txn.all(
        'SELECT "created_at" FROM "account_recovery_tokens" WHERE %s AND "used" = ? '
        'AND "created_at" > ? ORDER BY "id"' % (_DEVICE,),
        (pn_provider, pn_param, pn_prid, True, since),
    )
    return from_db(rows[-1][0]) if rows else None


def add_recovery_token_txn(txn, token, pn_provider, pn_param, pn_prid, ip, user_agent, now,
                           since):
    """
    Store a recovery token just pushed to the device, unless a used one of
    the device was created after C{since}: then return that one's creation
    time and store nothing.
    """
    txn.lock("account_recovery_tokens")
    device = (pn_provider, pn_param, pn_prid)
    recent = recovery_used_since_txn(txn, *device, since)
    if recent is not None:
        return recent
    insert_device_token_txn(txn, "account_recovery_tokens", token, device, ip, user_agent, now)
    return None


def _usable_recovery(txn, token, not_before):
    rows = txn.all(
        'SELECT %s FROM "account_recovery_tokens" WHERE "token" = ? AND "used" = ? '
        'AND "created_at" >= ? ORDER BY "id"' % (_RECOVERY_COLUMNS,),
        (token, False, not_before),
    )
    return _exact(rows, token)


def recovery_token_txn(txn, token, not_before):
    """The unused L{RecoveryToken} C{token} created at or after C{not_before}, or None."""
    row = _usable_recovery(txn, token, not_before)
    return None if row is None else _recovery_token(row)


def use_recovery_token_txn(txn, token, account_id, not_before, now):
    """
    Mark the usable recovery token C{token} used, for C{account_id} (the
    recovered account, or None); return it as it was, or None.
    """
    row = _usable_recovery(txn, token, not_before)
    if row is None:
        return None
    changed = txn.execute(
        'UPDATE "account_recovery_tokens" SET "used" = ?, "account_id" = ?, "updated_at" = ? '
        'WHERE "id" = ? AND "used" = ?',
        (True, account_id, now, row[0], False),
    )
    return _recovery_token(row) if changed == 1 else None
