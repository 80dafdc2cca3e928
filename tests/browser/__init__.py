"""
Browser tests: famd's pages driven in Debian's headless Chromium.

 - L{tests.browser.case.BrowserTestCase}: subclass it; each test has
   C{self.famd} (the installed daemon on a real port, its mail, registrar
   and SMS fakes, its database) and C{self.page} (a tab on it).
 - L{tests.browser.page}: the tab (open, submit, click, text, axe,
   screenshot), every method a Deferred.
 - L{tests.browser.daemon}: the daemon and its surroundings.
 - L{tests.browser.chromium}: the shared browser.

axe-core comes from npm (package.json and package-lock.json here,
``npm ci`` by scripts/test).  The README's "Browser tests" says how to
write a journey.
"""
