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
