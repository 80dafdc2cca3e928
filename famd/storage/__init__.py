"""
Storage: the shared account database behind famd.

``sql`` holds the SQL, written once; ``dialect`` the few differences between
engines; ``migrations`` the versioned schema; ``sqlite``, and ``mysql`` and
``postgresql`` on their shared connection pool (``pooled``), run it off the
reactor thread.
"""
