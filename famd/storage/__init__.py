"""
Storage: the shared account database behind famd.

``sql`` holds the SQL, written once; ``dialect`` the few differences between
engines; ``migrations`` the versioned schema; ``sqlite`` (and later the SQL
server engines) run it off the reactor thread.
"""
