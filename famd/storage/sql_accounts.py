"""
The SQL of accounts and the rows that hang off them.

Blocking ``*_txn`` functions, run only on a storage thread through a
provider's ``run``.  Each public operation is one transaction, so one trip to
the storage thread.  Accounts are read into L{famd.model} values here, times
included (L{famd.storage.times}).
"""

from famd.storage.times import from_db, to_db
from famd.storage.transaction import one_statement
from famd.storage import sql_signup, sql_tokens
from famd.storage.sql_sessions import delete_account_web_sessions_txn
from famd.errors import Conflict
from famd.model import (
    Account,
    ActivationExpiration,
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

# The rows hanging off an account at most once (its latest activation
# expiration, its pending e-mail change) come in the same statement.
_RELATED = (
    ', e."id", e."account_id", e."expires", e."created_at", e."updated_at"'
    ', c."id", c."new_email", c."created_at"'
    ', a."blocked", a."display_name", a."dtmf_protocol"'
)
_RELATED_WIDTH = 11
"""How many columns _RELATED adds: the expiration, the e-mail change, then
the columns FAM 2.x added to accounts (blocked, display name, DTMF)."""
_JOINS = (
    ' LEFT JOIN "activation_expirations" e ON e."id" = '
    '(SELECT max("id") FROM "activation_expirations" WHERE "account_id" = a."id")'
    ' LEFT JOIN "email_changed" c ON c."id" = '
    '(SELECT max("id") FROM "email_changed" WHERE "account_id" = a."id")'
)
_DETAIL_RELATED = 15
_LISTING_RELATED = 11


def _related(row, at):
    """(activation expiration, e-mail change) from the _RELATED columns at C{at}."""
    expiration = None
    if row[at] is not None:
        expiration = ActivationExpiration(
            row[at], row[at + 1], from_db(row[at + 2]), from_db(row[at + 3]),
            from_db(row[at + 4]),
        )
    change = None
    if row[at + 5] is not None:
        change = EmailChange(row[0], row[at + 6], from_db(row[at + 7]))
    return expiration, change


def _account(row, passwords, admin, api_key, at):
    """An L{Account} from a row of _COLUMNS, the phone, then _RELATED at C{at}."""
    expiration, change = _related(row, at)
    return Account.loaded(
        row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], row[7],
        from_db(row[8]), from_db(row[9]), passwords, admin, row[10], expiration, change, api_key,
        bool(row[at + 8]), row[at + 9], row[at + 10],
    )


def _full_accounts_sql(accounts, where="", extra_columns="", order=""):
    """
    The one statement that loads accounts fully: the columns of
    L{_loaded}, then C{extra_columns}, one row per password (an account
    without one still gives a row), ordered by C{order} then password.

    @param accounts: the FROM clause: C{"accounts" a}, or a join that
        picks the rows of C{a}.
    """
    return (
        'SELECT %s%s, p."password", p."algorithm"%s FROM %s%s '
        'LEFT JOIN "passwords" p ON p."account_id" = a."id" %sORDER BY %sp."id"'
        % (_DETAIL, _RELATED, extra_columns, accounts, _JOINS, where, order)
    )


def _first_account(condition):
    """The lowest id among the accounts matching C{condition} on ``f``."""
    return '(SELECT min(f."id") FROM "accounts" f WHERE %s)' % (condition,)


def _one_account_sql(condition):
    """The statement loading the first account (lowest id) matching C{condition} on ``f``."""
    return _full_accounts_sql(
        '"accounts" a', where='WHERE a."id" = %s ' % (_first_account(condition),)
    )


_BY_ID = _one_account_sql('f."id" = ?')
_BY_ADDRESS = _one_account_sql('f."username" = ? AND f."domain" = ?')


def _load_account_txn(txn, sql, params):
    """The account C{sql} (L{_BY_ID} or L{_BY_ADDRESS}) finds with C{params}, or None."""
    rows = txn.all(sql, params)
    return _loaded(rows) if rows else None


def _loaded(rows):
    """The account of C{rows}: L{_full_accounts_sql}'s columns, one row per password."""
    row = rows[0]
    password = _DETAIL_RELATED + _RELATED_WIDTH
    return _account(
        row,
        tuple(Password(r[password], r[password + 1]) for r in rows if r[password] is not None),
        Timestamps(from_db(row[13]), from_db(row[14])) if row[12] else None,
        row[11],
        _DETAIL_RELATED,
    )


FIND_MANY_SIZES = (2, 4, 8, 16, 32, 64)
"""How many addresses one L{find_accounts_txn} statement looks up: a run is
padded to the next size, so that a handful of statement texts serve every
run (and stay in the connection's prepared-statement cache)."""


def _find_many_sql(size):
    """The statement of L{find_accounts_txn} for C{size} addresses."""
    return 'WITH "wanted"("i", "username", "domain") AS (VALUES %s) %s' % (
        ", ".join("(%d, ?, ?)" % (i,) for i in range(size)),
        _full_accounts_sql(
            '"wanted" w JOIN "accounts" a ON a."id" = '
            + _first_account('f."username" = w."username" AND f."domain" = w."domain"'),
            extra_columns=', w."i"',
            order='w."i", ',
        ),
    )


_FIND_MANY = {size: _find_many_sql(size) for size in FIND_MANY_SIZES}


@one_statement
def find_accounts_txn(txn, addresses):
    """
    L{find_account_txn} of each C{(username, domain)} of C{addresses} (at
    most the largest of L{FIND_MANY_SIZES}), in one statement: a list of
    accounts or Nones, in the same order.  SQLite runs this for a run of
    lookups asked for together: the rows of all of them come from one
    statement instead of one statement each.
    """
    size = next(size for size in FIND_MANY_SIZES if size >= len(addresses))
    padding = [(None, None)] * (size - len(addresses))
    rows = txn.all(
        _FIND_MANY[size], [value for address in list(addresses) + padding for value in address]
    )
    found = [None] * len(addresses)
    start = 0
    while start < len(rows):
        index = rows[start][-1]
        end = start + 1
        while end < len(rows) and rows[end][-1] == index:
            end += 1
        found[index] = _loaded(rows[start:end])
        start = end
    return found


@one_statement
def get_account_txn(txn, account_id):
    return _load_account_txn(txn, _BY_ID, (account_id,))


@one_statement
def find_account_txn(txn, username, domain):
    return _load_account_txn(txn, _BY_ADDRESS, (username, domain))


def _listing_txn(txn, where, params, suffix="", suffix_params=()):
    rows = txn.all(
        'SELECT %s%s FROM "accounts" a%s %s ORDER BY a."id" %s'
        % (_LISTING, _RELATED, _JOINS, where, suffix),
        tuple(params) + tuple(suffix_params),
    )
    return [_account(row, (), None, None, _LISTING_RELATED) for row in rows]


def list_accounts_txn(txn, offset, limit):
    """
    The accounts ranked C{offset} to C{offset + limit - 1} by id, and how many
    there are.  The page is read from the id of its first account: when the
    ids have no gap (max - min + 1 = count, the usual case: accounts are
    seldom deleted) rank r is id min + r, so every page costs the same;
    otherwise that id is found by skipping ids, not whole rows, from
    whichever end of the table is nearer.
    """
    total, lowest, highest = txn.one(
        'SELECT (SELECT count(*) FROM "accounts"), (SELECT min("id") FROM "accounts"), '
        '(SELECT max("id") FROM "accounts")'
    )
    if offset >= total:
        return [], total
    if highest - lowest + 1 == total:
        first = lowest + offset
    elif offset <= total - 1 - offset:
        first = txn.scalar('SELECT "id" FROM "accounts" ORDER BY "id" LIMIT 1 OFFSET ?', (offset,))
    else:
        first = txn.scalar(
            'SELECT "id" FROM "accounts" ORDER BY "id" DESC LIMIT 1 OFFSET ?', (total - 1 - offset,)
        )
    page = _listing_txn(txn, 'WHERE a."id" >= ?', (first,), "LIMIT ?", (limit,))
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


def create_account_txn(txn, new):
    """Insert a L{famd.model.NewAccount} and its rows; return the id."""
    now = to_db(new.creation_time)
    # Serialize creations: the username and phone checks below stay true
    # until this transaction commits, whatever other processes do.
    txn.lock("create_account")
    if username_taken_txn(txn, new.username, new.domain):
        raise Conflict("username")
    if new.phone is not None and phone_in_use_txn(txn, new.phone):
        raise Conflict("phone")
    token_id = None
    if new.token is not None:
        token_id = sql_tokens.consume_token_txn(txn, new.token, now)
        if token_id is None:
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
            "dtmf_protocol": new.dtmf_protocol,
        },
    )
    if token_id is not None:
        sql_signup.attach_token_txn(txn, token_id, account_id)
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
                "expires": to_db(new.activation_expires),
                "created_at": now,
                "updated_at": now,
            },
        )
    if new.api_key is not None:
        set_api_key_txn(txn, account_id, new.api_key, now)
    if new.provisioning_token is not None:
        txn.insert(
            "provisioning_tokens",
            {"account_id": account_id, "token": new.provisioning_token, "used": False,
             "created_at": now, "updated_at": now, "ip": new.ip_address,
             "user_agent": new.user_agent},
        )
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
    delete_account_web_sessions_txn(txn, account_id)
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
    # FAM 2.x's (schema version 5): SQLite may not enforce their cascades.
    "tokens",
    "account_recovery_tokens",
    "provisioning_tokens",
    "auth_tokens",
    "email_change_codes",
    "reset_password_email_tokens",
    # The account panel's sessions (schema version 6).
    "famd_sessions",
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
