"""
The schemas the 2021 account manager created, dumped from each engine it ran
on, shipped with famd (in ``famd/testing/data``) so that the storage tests
can build a 2021 database and compare famd's tables with it anywhere.
"""

import os

REFERENCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
"""The folder holding the DDL files."""


def reference_schema(filename):
    """
    The text of one DDL file of L{REFERENCE_DIR}: ``fam-2021-schema.sql``
    (SQLite), ``fam-2021-schema.mysql.sql`` or ``fam-2021-schema.pgsql.sql``.
    """
    with open(os.path.join(REFERENCE_DIR, filename), encoding="utf-8") as f:
        return f.read()


FAM_2X_TABLES = (
    "account_creation_request_tokens", "account_recovery_tokens", "provisioning_tokens",
    "auth_tokens", "email_change_codes", "reset_password_email_tokens",
)
"""The tables famd adds under FAM 2.x's names (schema version 5)."""

FAM_2X_ADDITIONS = frozenset({
    ("accounts", "blocked"), ("accounts", "display_name"), ("accounts", "dtmf_protocol"),
    ("tokens", "account_id"), ("tokens", "ip"), ("tokens", "user_agent"),
    ("tokens", "account_creation_tokens_account_id_foreign"),
    ("phone_change_codes", "ip"), ("phone_change_codes", "user_agent"),
})
"""(table, column or constraint) that famd adds to the 2021 tables for FAM
2.x's concepts: nullable columns or columns with a default, and the foreign
key of ``tokens.account_id``.  Everything else of a 2021 table stays as the
2021 application made it."""


def without_2x_additions(schema):
    """A schema snapshot ({kind: rows of (table, name, ...)}) without L{FAM_2X_ADDITIONS}."""
    return {
        kind: [row for row in rows if tuple(row[:2]) not in FAM_2X_ADDITIONS]
        for kind, rows in schema.items()
    }
