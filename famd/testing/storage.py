"""
Opening real storage in tests.

L{open_sqlite} gives a migrated SQLite storage in a fresh temporary folder,
closed at the end of the test; the SQL server engines add their own openers
beside it.
"""

import os
import tempfile

from twisted.internet import defer

from famd.storage.sqlite import SQLiteStorage


@defer.inlineCallbacks
def open_sqlite(test_case, reactor=None, path=None):
    """A migrated L{SQLiteStorage} closed by C{test_case}'s cleanup."""
    if reactor is None:
        from twisted.internet import reactor
    if path is None:
        path = os.path.join(tempfile.mkdtemp(prefix="famd-test-"), "famd.sqlite")
    storage = SQLiteStorage(path, reactor)
    yield storage.open()
    test_case.addCleanup(storage.close)
    return storage
