"""
L{BrowserTestCase}: the base class of browser journeys.  Each test gets its
own famd (L{tests.browser.daemon.start_famd}, on the class's C{engine}) and
the process's shared Chromium pointed at it (L{tests.browser.page.Page}).
"""

from twisted.internet import defer, threads
from twisted.python import log
from twisted.trial import unittest

from tests.browser import chromium
from tests.browser.daemon import start_famd
from tests.browser.page import Page


class BrowserTestCase(unittest.TestCase):
    """
    A famd and a browser tab on it, for each test.

    @cvar engine: the storage engine ('sqlite'; L{tests.engines.on_engines}
        makes the MariaDB and PostgreSQL copies).
    @cvar settings: famd.yaml keys laid over the harness's defaults.
    @ivar famd: the L{tests.browser.daemon.Famd}.
    @ivar page: the L{tests.browser.page.Page}.
    """

    engine = "sqlite"
    settings = {}
    timeout = 180

    @defer.inlineCallbacks
    def setUp(self):
        chromium.require()
        self.famd = yield start_famd(self, self.engine, self.settings)
        # famd's own output, in the test's log (_trial_temp/test.log) when it ends.
        self.addCleanup(lambda: log.msg("famd's output:\n" + self.famd.daemon.log()))
        browser = yield threads.deferToThread(chromium.shared)
        self.page = Page(self, browser, self.famd.url)
