"""
Storage: the shared account database behind famd.

``base`` holds the operations of L{famd.interfaces.IStorage}, once for every
engine, each a named transaction running one blocking ``*_txn`` function of
``sql_accounts``, ``sql_codes``, ``sql_nonces``, ``sql_provisioning`` or
``sql_tokens``, where the SQL is written once.  Those functions see a
``transaction.Transaction``; ``dialect`` holds the few differences between
engines, ``times`` the conversion of times to and from each engine, and
``migrations`` (with ``schema/<engine>/``) the versioned schema.  ``sqlite``,
and ``mysql`` and ``postgresql`` on their shared connection pool
(``pooled``, with ``url`` for their database URLs), run the transactions
off the reactor thread.  Nothing outside this package sees SQL or database
values: storage answers with L{famd.model} values.
"""
