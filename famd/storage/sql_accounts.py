"""
The SQL of accounts and the rows that hang off them.

Blocking ``*_txn`` functions, run only on a storage thread through a
provider's ``run``.  Each public operation is one transaction, so one trip to
the storage thread.
"""

from famd.clock import normalize
from famd.model import (
    Account,
    ActivationExpiration,
    Conflict,
    EmailChange,
    Password,
    Timestamps,
)

_COLUMNS = (
    'a."id", a."username", a."domain", a."email", a."activated", '
    'a."confirmation_key", a."ip_address", a."user_agent", a."creation_time", '
    'a."expire_time"'
)
_PHONE = '(SELECT "alias" FROM "aliases" WHERE "account_id" = a."id" ORDER BY "id" LIMIT 1)'
_DETAIL = (
    _COLUMNS
    + ", "
    + _PHONE
    + ', (SELECT "key" FROM "api_keys" WHERE "account_id" = a."id" LIMIT 1)'
    + ', (SELECT count(*) FROM "admins" WHERE "account_id" = a."id")'
    + ', (SELECT "created_at" FROM "admins" WHERE "account_id" = a."id" ORDER BY "id" LIMIT 1)'
    + ', (SELECT "updated_at" FROM "admins" WHERE "account_id" = a."id" ORDER BY "id" LIMIT 1)'
)
_LISTING = _COLUMNS + ", " + _PHONE


def _expirations_txn(txn, ids):
    if not ids:
        return {}
    rows = txn.all(
        'SELECT "id", "account_id", "expires", "created_at", "updated_at" '
        'FROM "activation_expirations" WHERE "account_id" IN (%s) ORDER BY "id"'
        % (", ".join("?" for _ in ids),),
        ids,
    )
    return {
        row[1]: ActivationExpiration(
            row[0], row[1], normalize(row[2]), normalize(row[3]), normalize(row[4])
        )
        for row in rows
    }


def _email_changes_txn(txn, ids):
    if not ids:
        return {}
    rows = txn.all(
        'SELECT "account_id", "new_email", "created_at" FROM "email_changed" '
        'WHERE "account_id" IN (%s)' % (", ".join("?" for _ in ids),),
        ids,
    )
    return {row[0]: EmailChange(row[1], normalize(row[2])) for row in rows}


def _passwords_txn(txn, account_id):
    rows = txn.all(
        'SELECT "password", "algorithm" FROM "passwords" WHERE "account_id" = ? ORDER BY "id"',
        (account_id,),
    )
    return tuple(Password(row[0], row[1]) for row in rows)


def _base(row):
    return dict(
        id=row[0],
        username=row[1],
        domain=row[2],
        email=row[3],
        activated=bool(row[4]),
        confirmation_key=row[5],
        ip_address=row[6],
        user_agent=row[7],
        creation_time=normalize(row[8]),
        expire_time=normalize(row[9]),
        phone=row[10],
    )


def load_account_txn(txn, where, params):
    """The first account matching the SQL condition C{where} on ``a``, fully loaded."""
    row = txn.one(
        'SELECT %s FROM "accounts" a WHERE %s ORDER BY a."id" LIMIT 1' % (_DETAIL, where),
        params,
    )
    if row is None:
        return None
    account_id = row[0]
    admin = Timestamps(normalize(row[13]), normalize(row[14])) if row[12] else None
    return Account(
        passwords=_passwords_txn(txn, account_id),
        admin=admin,
        api_key=row[11],
        activation_expiration=_expirations_txn(txn, [account_id]).get(account_id),
        email_changed=_email_changes_txn(txn, [account_id]).get(account_id),
        **_base(row),
    )


def get_account_txn(txn, account_id):
    return load_account_txn(txn, 'a."id" = ?', (account_id,))


def find_account_txn(txn, username, domain):
    return load_account_txn(txn, 'a."username" = ? AND a."domain" = ?', (username, domain))


def _listing_txn(txn, where, params, suffix="", suffix_params=()):
    rows = txn.all(
        'SELECT %s FROM "accounts" a %s ORDER BY a."id" %s' % (_LISTING, where, suffix),
        tuple(params) + tuple(suffix_params),
    )
    ids = [row[0] for row in rows]
    expirations = _expirations_txn(txn, ids)
    changes = _email_changes_txn(txn, ids)
    return [
        Account(
            activation_expiration=expirations.get(row[0]),
            email_changed=changes.get(row[0]),
            **_base(row),
        )
        for row in rows
    ]


def list_accounts_txn(txn, offset, limit):
    total = txn.scalar('SELECT count(*) FROM "accounts"')
    if offset >= total:
        return [], total
    page = _listing_txn(txn, "", (), "LIMIT ? OFFSET ?", (limit, offset))
    return page, total


def list_unconfirmed_txn(txn, created_before):
    return _listing_txn(
        txn, 'WHERE a."activated" = ? AND a."creation_time" < ?', (False, created_before)
    )


def username_taken_txn(txn, username, domain):
    return (
        txn.one(
            'SELECT 1 FROM "accounts" WHERE "username" = ? AND "domain" = ? LIMIT 1',
            (username, domain),
        )
        is not None
    )


def phone_in_use_txn(txn, phone):
    return (
        txn.one('SELECT 1 FROM "aliases" WHERE "alias" = ? LIMIT 1', (phone,)) is not None
        or txn.one('SELECT 1 FROM "accounts" WHERE "username" = ? LIMIT 1', (phone,))
        is not None
    )


def consume_token_txn(txn, token, now):
    """Mark an unused token used; False when it does not exist or was used."""
    return (
        txn.execute(
            'UPDATE "tokens" SET "used" = ?, "updated_at" = ? WHERE "token" = ? AND "used" = ?',
            (True, now, token, False),
        )
        == 1
    )


def create_account_txn(txn, new):
    """Insert a L{famd.model.NewAccount} and its rows; return the id."""
    now = new.creation_time
    # Serialize creations: the username and phone checks below stay true
    # until this transaction commits, whatever other processes do.
    txn.lock("create_account")
    if username_taken_txn(txn, new.username, new.domain):
        raise Conflict("username")
    if new.phone is not None and phone_in_use_txn(txn, new.phone):
        raise Conflict("phone")
    if new.token is not None and not consume_token_txn(txn, new.token, now):
        raise Conflict("token")
    account_id = txn.insert(
        "accounts",
        {
            "username": new.username,
            "domain": new.domain,
            "email": new.email,
            "activated": new.activated,
            "confirmation_key": new.confirmation_key,
            "ip_address": new.ip_address,
            "user_agent": new.user_agent,
            "creation_time": now,
        },
    )
    insert_passwords_txn(txn, account_id, new.passwords)
    if new.admin:
        set_admin_txn(txn, account_id, True, now)
    if new.phone is not None:
        txn.insert(
            "aliases", {"account_id": account_id, "alias": new.phone, "domain": new.domain}
        )
    if new.activation_expires is not None:
        txn.insert(
            "activation_expirations",
            {
                "account_id": account_id,
                "expires": new.activation_expires,
                "created_at": now,
                "updated_at": now,
            },
        )
    if new.api_key is not None:
        set_api_key_txn(txn, account_id, new.api_key, now)
    return account_id


def create_and_load_account_txn(txn, new):
    """Insert a L{famd.model.NewAccount}; return the account as stored, fully loaded."""
    return get_account_txn(txn, create_account_txn(txn, new))


def account_conflicts_txn(txn, username, domain, phone):
    """Which of 'username' (in C{domain}) and 'phone' are already used."""
    taken = []
    if username is not None and username_taken_txn(txn, username, domain):
        taken.append("username")
    if phone is not None and phone_in_use_txn(txn, phone):
        taken.append("phone")
    return taken


def insert_passwords_txn(txn, account_id, passwords):
    for password in passwords:
        txn.insert(
            "passwords",
            {
                "account_id": account_id,
                "password": password.password,
                "algorithm": password.algorithm,
            },
        )


def account_exists_txn(txn, account_id):
    """Whether the account exists; its row stays locked until the transaction ends."""
    return txn.one('SELECT 1 FROM "accounts" WHERE "id" = ? FOR UPDATE', (account_id,)) is not None


def replace_passwords_txn(txn, account_id, passwords):
    if not account_exists_txn(txn, account_id):
        return False
    txn.execute('DELETE FROM "passwords" WHERE "account_id" = ?', (account_id,))
    insert_passwords_txn(txn, account_id, passwords)
    return True


DEPENDENT_TABLES = (
    "passwords",
    "nonces",
    "admins",
    "api_keys",
    "aliases",
    "phone_change_codes",
    "email_changed",
    "activation_expirations",
)


def delete_account_txn(txn, account_id):
    """Delete an account and every row that references it."""
    for table in DEPENDENT_TABLES:
        txn.execute('DELETE FROM "%s" WHERE "account_id" = ?' % (table,), (account_id,))
    return txn.execute('DELETE FROM "accounts" WHERE "id" = ?', (account_id,)) == 1


def delete_accounts_txn(txn, account_ids):
    return sum(1 for account_id in account_ids if delete_account_txn(txn, account_id))


def set_activated_txn(txn, account_id, activated):
    txn.execute('UPDATE "accounts" SET "activated" = ? WHERE "id" = ?', (activated, account_id))
    return get_account_txn(txn, account_id)


def set_admin_txn(txn, account_id, admin, now):
    if not account_exists_txn(txn, account_id):
        return False
    if not admin:
        txn.execute('DELETE FROM "admins" WHERE "account_id" = ?', (account_id,))
    elif txn.one('SELECT 1 FROM "admins" WHERE "account_id" = ?', (account_id,)) is None:
        txn.insert("admins", {"account_id": account_id, "created_at": now, "updated_at": now})
    return True


def set_api_key_txn(txn, account_id, key, now):
    if not account_exists_txn(txn, account_id):
        return False
    txn.execute('DELETE FROM "api_keys" WHERE "account_id" = ?', (account_id,))
    txn.insert(
        "api_keys", {"account_id": account_id, "key": key, "created_at": now, "updated_at": now}
    )
    return True
