"""
Test helpers that ship with famd, so that third-party backend authors can run
famd's contract suites and fakes against their own providers.
"""
