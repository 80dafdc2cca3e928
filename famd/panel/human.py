"""
The human check of the panel's sign-up forms: the ALTCHA proof of work of
the request-token validation page (L{famd.creation_page.human_check}, its
challenges, verification and deployment secret), with the widget that page
vendors, served from its own assets route (``/creation_token/assets/``).

A challenge is made for a random nonce (the form's hidden ``human``
field, signed inside the challenge as ``signup:<nonce>``), and a solution
is accepted once: its nonce is recorded in ``famd_code_failures`` for the
challenge's lifetime (a bucket of one, L{famd.throttle}), so that one
solved challenge never creates two accounts.
"""

import json

from twisted.internet.defer import inlineCallbacks
from twisted.web.template import Tag, tags

from famd.creation_page import human_check
from famd.credentials import random_string
from famd.errors import TooMany
from famd.throttle import Limit, hashed

ASSETS = "/creation_token/assets/"
"""Where the request-token page serves the vendored widget (L{famd.creation_page})."""
CSP = (
    b"default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; "
    b"base-uri 'none'"
)
"""The panel's policy, with the element styles the widget sets (as on the request-token page)."""
NONCE_LENGTH = 24
FIELD = "human"
"""The hidden field holding the challenge's nonce; the widget's answer is ``altcha``."""


class HumanCheck:
    """The proof of work of one panel (L{famd.panel.panel.Panel})."""

    def __init__(self, panel):
        self._panel = panel
        self._secret = None
        self._used = Limit("human-check", 1, human_check.CHALLENGE_LIFETIME)

    @inlineCallbacks
    def secret(self):
        """The deployment's secret, shared with the request-token page (read once)."""
        if self._secret is None:
            self._secret = yield self._panel.storage.get_setting(
                human_check.SECRET_SETTING, human_check.new_secret())
        return self._secret

    @inlineCallbacks
    def widget(self, text):
        """The form's part: the nonce field, the widget with a new challenge, its scripts and notes."""
        secret = yield self.secret()
        nonce = random_string(NONCE_LENGTH)
        challenge = human_check.challenge(
            secret, "signup:" + nonce, self._panel.now(),
            self._panel.config.signup["human_check_max_number"])
        return tags.div(class_="field human")(
            tags.link(rel="stylesheet", href=ASSETS + "altcha.css"),
            tags.input(type="hidden", name=FIELD, value=nonce),
            tags.p(text("human.intro")),
            Tag("altcha-widget")(challenge=json.dumps(challenge), name="altcha", auto="off"),
            tags.p(id="needs-js", class_="note")(text("human.needs_js")),
            tags.noscript(tags.p(text("human.noscript"))),
            tags.script(src=ASSETS + "altcha.min.js", defer="defer"),
            tags.script(src=ASSETS + "init.js", defer="defer"),
        )

    @inlineCallbacks
    def passed(self, nonce, answer):
        """Whether C{answer} solves the unexpired challenge of C{nonce}, never used before."""
        if not isinstance(nonce, str) or len(nonce) != NONCE_LENGTH:
            return False
        secret = yield self.secret()
        if not human_check.verified(secret, "signup:" + nonce, answer, self._panel.now()):
            return False
        try:
            yield self._panel.throttle.take((self._used, hashed(nonce)))
        except TooMany:
            return False
        return True
