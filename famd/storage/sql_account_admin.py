"""
The SQL of the account panel's administrator pages: the accounts searched
by text (username, SIP address, e-mail, phone) and filtered by state, one
page at a time, and an account's API key looked at and revoked.
"""

from famd.storage.sql_accounts import _listing_txn
from famd.storage.times import from_db
from famd.storage.transaction import one_statement

ESCAPE = "!"
"""The LIKE escape character (the same literal on every engine, unlike a backslash)."""


def like_escaped(text):
    """C{text} with LIKE's wildcards and the escape character taken literally."""
    return (text.replace(ESCAPE, ESCAPE + ESCAPE)
            .replace("%", ESCAPE + "%").replace("_", ESCAPE + "_"))


def search_terms(text):
    """The lower-cased search text without a leading ``sip:``, or None for any."""
    if text is None:
        return None
    text = text.strip().lower()
    if text.startswith("sip:"):
        text = text[4:]
    return text or None


def _where(text, activated, admin, blocked):
    """The WHERE clause and its parameters of a search."""
    clauses, params = [], []
    text = search_terms(text)
    if text is not None:
        like = "%" + like_escaped(text) + "%"
        found = [
            "lower(a.\"username\") LIKE ? ESCAPE '!'",
            "lower(a.\"email\") LIKE ? ESCAPE '!'",
            "EXISTS (SELECT 1 FROM \"aliases\" WHERE \"account_id\" = a.\"id\""
            " AND lower(\"alias\") LIKE ? ESCAPE '!')",
        ]
        params += [like, like, like]
        if "@" in text:
            # A piece of "username@domain": the username ends with what
            # comes before the @, the domain starts with what comes after.
            user, domain = text.rsplit("@", 1)
            found.append("(lower(a.\"username\") LIKE ? ESCAPE '!'"
                         " AND lower(a.\"domain\") LIKE ? ESCAPE '!')")
            params += ["%" + like_escaped(user), like_escaped(domain) + "%"]
        clauses.append("(" + " OR ".join(found) + ")")
    if activated is not None:
        clauses.append('a."activated" = ?')
        params.append(bool(activated))
    if blocked is not None:
        clauses.append('a."blocked" = ?')
        params.append(bool(blocked))
    if admin is not None:
        clauses.append(('' if admin else 'NOT ')
                       + 'EXISTS (SELECT 1 FROM "admins" WHERE "account_id" = a."id")')
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def search_accounts_txn(txn, text, activated, admin, blocked, offset, limit):
    """One page of the matching accounts by id, and how many match."""
    where, params = _where(text, activated, admin, blocked)
    total = txn.scalar('SELECT count(*) FROM "accounts" a %s' % (where,), params)
    if offset >= total or limit <= 0:
        return [], total
    page = _listing_txn(txn, where, params, "LIMIT ? OFFSET ?", (limit, offset))
    return page, total


@one_statement
def api_key_made_txn(txn, account_id):
    return from_db(txn.scalar(
        'SELECT "created_at" FROM "api_keys" WHERE "account_id" = ? LIMIT 1', (account_id,)))


def delete_api_key_txn(txn, account_id):
    return txn.execute('DELETE FROM "api_keys" WHERE "account_id" = ?', (account_id,)) > 0
