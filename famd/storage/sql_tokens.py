"""
The SQL of account-creation tokens (``tokens`` rows).

A token is stored only after the push that carries it was sent, so the
device rules (no second unused token, a bounded number of tokens) are
checked once before sending and again in the transaction that stores it.
Storing one is serialized (L{famd.storage.transaction.Transaction.lock}),
so that the count and the insert of one transaction are not interleaved
with another's.  Consuming a token is part of account creation (see
L{famd.storage.sql_accounts.create_account_txn}), of the one row whose
text is exactly the token given (L{famd.credentials.exact}).
"""


from famd.credentials import first_exact

_DEVICE = '"pn_provider" = ? AND "pn_param" = ? AND "pn_prid" = ?'


def token_refusal_txn(txn, pn_provider, pn_param, pn_prid, limit):
    """None when the device may get a token, else 'pending' or 'limit'."""
    device = (pn_provider, pn_param, pn_prid)
    unused = txn.scalar(
        'SELECT count(*) FROM "tokens" WHERE %s AND "used" = ?' % (_DEVICE,),
        device + (False,),
    )
    if unused:
        return "pending"
    total = txn.scalar('SELECT count(*) FROM "tokens" WHERE %s' % (_DEVICE,), device)
    if total >= limit:
        return "limit"
    return None


def insert_device_token_txn(txn, table, token, device, ip, user_agent, now):
    """
    Insert an unused token row of C{table} (``tokens`` or
    ``account_recovery_tokens``: the same columns) for C{device}
    ((pn_provider, pn_param, pn_prid)); return its id.  The caller holds
    the table's lock and checked the device's rules first.
    """
    return txn.insert(
        table,
        {
            "token": token,
            "pn_provider": device[0],
            "pn_param": device[1],
            "pn_prid": device[2],
            "used": False,
            "ip": ip,
            "user_agent": user_agent,
            "created_at": now,
            "updated_at": now,
        },
    )


def add_token_txn(txn, token, pn_provider, pn_param, pn_prid, limit, now):
    """Store a sent token unless the device rules now refuse it."""
    txn.lock("tokens")
    refusal = token_refusal_txn(txn, pn_provider, pn_param, pn_prid, limit)
    if refusal is not None:
        return refusal
    insert_device_token_txn(txn, "tokens", token, (pn_provider, pn_param, pn_prid), None, None, now)
    return None


def _unused_rows(txn, token):
    """(id, token) of the unused tokens a query by C{token} finds (case folded on MariaDB)."""
    return txn.all(
        'SELECT "id", "token" FROM "tokens" WHERE "token" = ? AND "used" = ? ORDER BY "id"',
        (token, False),
    )


def unused_token_txn(txn, token):
    """The stored text of the unused token whose text is exactly C{token}, or None."""
    row = first_exact(_unused_rows(txn, token), token, 1)
    return None if row is None else row[1]


def consume_token_txn(txn, token, now):
    """
    Mark the unused token whose text is exactly C{token} used; its id, or
    None when there is none (unknown, used, or used meanwhile).
    """
    row = first_exact(_unused_rows(txn, token), token, 1)
    if row is None:
        return None
    changed = txn.execute(
        'UPDATE "tokens" SET "used" = ?, "updated_at" = ? WHERE "id" = ? AND "used" = ?',
        (True, now, row[0], False),
    )
    return row[0] if changed == 1 else None
