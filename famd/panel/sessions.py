"""
The account panel's sessions: a klein C{ISessionStore} kept in famd's
database (L{famd.interfaces.IWebSessionStore}), and the procurer that reads
and sets the session cookie.

A browser's cookie holds a random session id (32 bytes, URL-safe base64).
A visitor who has not logged in has an *anonymous* session: its id lives
only in the cookie and nothing is stored, so crawlers fill no table.
Logging in gives the browser a *new* id, stored as its SHA-256 with the
account (a planted id never becomes a logged-in one), and logging out,
any replacement of the account's passwords (in the panel, the API, by an
administrator or a reset) or the session's expiry removes the row.  Sessions
expire after ``panel.session_idle`` seconds unused and
``panel.session_lifetime`` seconds after login, checked by the query
itself (L{famd.interfaces.IWebSessionStore.web_session}), so every famd
process sharing the database agrees.

klein's C{ISession.identifier} is what its forms put in their hidden CSRF
field and compare with the posted one.  Here it is not the session id but
a value derived from it (SHA-256 of a label and the id): a page's HTML
never holds the cookie's secret.

Why not klein's own C{SessionProcurer}: it names the cookie, and sets
C{Secure}, from C{request.isSecure()}, which is false behind a TLS proxy
(the usual deployment: famd listens on plain HTTP), sets no C{SameSite},
and uses the session id itself as the CSRF token.  L{PanelProcurer} is the
same procedure with those three changed (README, "Account panel").
"""

import base64
import hashlib
import re
import secrets
from datetime import timedelta

import attr
from klein.interfaces import ISession, ISessionProcurer, ISessionStore, NoSuchSession, SessionMechanism
from twisted.internet.defer import inlineCallbacks, succeed
from zope.interface import implementer

from famd.clock import ago
from famd.interfaces import IPanelAccount, IPanelAdmin

ID_BYTES = 32
ID_FORM = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")
"""The form of a session id (URL-safe base64 of L{ID_BYTES} bytes, unpadded)."""
TOUCH_AFTER = 60
"""Seconds a session is used without its ``last_seen_at`` being written again."""
COOKIE = "famd_session"
SECURE_COOKIE = "__Host-famd_session"
"""The cookie's name when public_url is https: the ``__Host-`` prefix makes
browsers refuse it unless Secure, for path /, and set by this very host."""


def new_session_id():
    """A new random session id."""
    return base64.urlsafe_b64encode(secrets.token_bytes(ID_BYTES)).rstrip(b"=").decode("ascii")


def id_hash(session_id):
    """The stored name of a session: the hex SHA-256 of its id."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def csrf_token(session_id):
    """The CSRF token of a session's forms, derived from its id (and not revealing it)."""
    return hashlib.sha256(b"famd-panel-csrf:" + session_id.encode("ascii")).hexdigest()


@implementer(ISession)
@attr.s(auto_attribs=True, frozen=True)
class PanelSession:
    """
    One browser's session.  C{identifier} is its CSRF token; C{secret}, the
    id its cookie holds; C{account_id}, the logged-in account or None.
    """

    secret: str = attr.ib(repr=False)
    isConfidential: bool
    account_id: object = None
    authenticatedBy: object = SessionMechanism.Cookie
    store: object = attr.ib(default=None, repr=False, eq=False)

    @property
    def identifier(self):
        return csrf_token(self.secret)

    @property
    def hash(self):
        """The stored name of this session."""
        return id_hash(self.secret)

    def authorize(self, interfaces):
        return self.store.authorize(self, interfaces)


@implementer(ISessionStore)
class PanelSessionStore:
    """
    klein's session store over famd's storage.

    @param storage: an L{famd.interfaces.IStorage}.
    @param now: a callable returning the current aware UTC datetime.
    @param idle: seconds a session may stay unused.
    @param lifetime: seconds a session lasts after login, however used.
    @param everyone_is_admin: famd.yaml's key: every account is an administrator.
    """

    def __init__(self, storage, now, idle, lifetime, everyone_is_admin=False):
        self.storage = storage
        self.now = now
        self.idle = idle
        self.lifetime = lifetime
        self.everyone_is_admin = everyone_is_admin

    # ISessionStore

    def newSession(self, isConfidential, authenticatedBy):
        return succeed(PanelSession(new_session_id(), isConfidential, None, authenticatedBy, self))

    @inlineCallbacks
    def loadSession(self, identifier, isConfidential, authenticatedBy):
        if not isinstance(identifier, str) or not ID_FORM.match(identifier):
            raise NoSuchSession("not a session id")
        now = self.now()
        row = yield self.storage.web_session(
            id_hash(identifier), ago(now, self.idle), ago(now, self.lifetime))
        if row is None:
            return PanelSession(identifier, isConfidential, None, authenticatedBy, self)
        if now - row.last_seen_at >= timedelta(seconds=TOUCH_AFTER):
            yield self.storage.touch_web_session(id_hash(identifier), now)
        return PanelSession(identifier, isConfidential, row.account_id, authenticatedBy, self)

    def sentInsecurely(self, identifiers):
        """Nothing to do: the procurer never sends a secure cookie's id in the clear."""

    # What the panel does with sessions

    @inlineCallbacks
    def authorize(self, session, interfaces):
        """
        The logged-in account as L{IPanelAccount} (activated, not blocked)
        and, for an administrator, as L{IPanelAdmin}; nothing otherwise.
        """
        if session.account_id is None:
            return {}
        account = yield self.storage.get_account(session.account_id)
        if account is None or account.blocked or not account.activated:
            return {}
        found = {IPanelAccount: account}
        if account.admin is not None or self.everyone_is_admin:
            found[IPanelAdmin] = account
        return {interface: found[interface] for interface in interfaces if interface in found}

    @inlineCallbacks
    def log_in(self, session, account_id):
        """
        A new session of the account, stored, replacing C{session} (whose
        row, if any, is removed): the caller sets its cookie.
        """
        if session.account_id is not None:
            yield self.storage.delete_web_session(session.hash)
        fresh = PanelSession(new_session_id(), session.isConfidential, account_id,
                             session.authenticatedBy, self)
        yield self.storage.add_web_session(fresh.hash, account_id, self.now())
        return fresh

    def log_out(self, session):
        """Revoke C{session}; a Deferred firing with True when it was logged in."""
        if session.account_id is None:
            return succeed(False)
        return self.storage.delete_web_session(session.hash)

    def purge(self):
        """Delete the expired sessions; a Deferred of how many."""
        now = self.now()
        return self.storage.delete_expired_web_sessions(ago(now, self.idle), ago(now, self.lifetime))


@implementer(ISessionProcurer)
class PanelProcurer:
    """
    Reads the session cookie into a L{PanelSession}, or gives a GET a new
    anonymous one and its cookie (HttpOnly, SameSite=Lax, path /, Secure
    and ``__Host-`` named when C{secure}: public_url is https).  A request
    that is not a GET or HEAD and has no session fails with
    C{NoSuchSession} (no form can have been served to it).
    """

    def __init__(self, store, secure):
        self.store = store
        self.secure = secure
        self.cookie = SECURE_COOKIE if secure else COOKIE

    @inlineCallbacks
    def procureSession(self, request, forceInsecure=False):
        procured = request.getComponent(ISession)
        if procured is not None:
            return procured
        sent = request.getCookie(self.cookie.encode("ascii"))
        session = None
        if sent:
            try:
                session = yield self.store.loadSession(
                    sent.decode("ascii", "replace"), self.secure, SessionMechanism.Cookie)
            except NoSuchSession:
                session = None
        if session is None:
            if request.method not in (b"GET", b"HEAD"):
                raise NoSuchSession("no session on a %s request" % (request.method.decode("ascii", "replace"),))
            session = yield self.store.newSession(self.secure, SessionMechanism.Cookie)
            self.set_cookie(request, session)
        request.setComponent(ISession, session)
        return session

    def set_cookie(self, request, session):
        """Send C{session}'s cookie (and make it the request's session)."""
        request.addCookie(
            self.cookie, session.secret, path="/", secure=self.secure or None,
            httpOnly=True, sameSite="lax",
        )
        request.setComponent(ISession, session)
