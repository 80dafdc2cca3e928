"""
The API tests on every storage engine.

A test class runs on SQLite; L{on_engines} makes, for the module defining
it, the same class on MySQL/MariaDB and on PostgreSQL (C{CreateTests} gives
C{MySQLCreateTests} and C{PostgreSQLCreateTests}), each test on its own
fresh database of the server (L{famd.testing.databases}).  A test reaches
its engine's storage through L{open_storage}, which L{tests.serving.serve}
and the storage contracts' test cases use: the one way a test runs on every
engine.
"""

from famd.testing.databases import OPENERS, open_another

SERVER_ENGINES = {"mysql": "MySQL", "postgresql": "PostgreSQL"}
"""The engines a class is copied to, and the prefix of the copies' names."""


def engine_of(test_case):
    """The engine C{test_case} runs on: its class's C{engine}, SQLite by default."""
    return getattr(test_case, "engine", "sqlite")


def open_storage(test_case, beside=None):
    """
    A migrated, empty storage on C{test_case}'s engine, closed at cleanup;
    with C{beside} (a storage), a second one on that storage's database, as
    another famd process has.
    """
    if beside is not None:
        return open_another(test_case, beside)
    return OPENERS[engine_of(test_case)](test_case)


def on_engine(test_class, engine):
    """C{test_class} on C{engine}: a subclass named after both, in the same module."""
    name = SERVER_ENGINES[engine] + test_class.__name__
    return type(name, (test_class,), {
        "engine": engine,
        "__module__": test_class.__module__,
        "__qualname__": name,
        "__doc__": "%s (on %s)" % ((test_class.__doc__ or name).strip(), SERVER_ENGINES[engine]),
    })


def on_engines(*test_classes):
    """
    The MySQL and PostgreSQL copies of C{test_classes}, by name, for the
    module to add to itself: C{globals().update(on_engines(A, B))} (trial
    finds, and its workers load, test classes by their module-level name).
    """
    copies = {}
    for test_class in test_classes:
        for engine in SERVER_ENGINES:
            copy = on_engine(test_class, engine)
            copies[copy.__name__] = copy
    return copies
