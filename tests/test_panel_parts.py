"""
The account panel's parts that need no server: the message catalogue (a
translation is a file), the ``panel:`` keys, the klein interfaces of the
session store, and the password check of the login.
"""

import json
import os
import re
import tempfile

from klein.interfaces import (
    ISession, ISessionProcurer, ISessionStore, NoSuchSession, SessionMechanism)
from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from famd.accounts import new_account
from famd.config import ConfigError, from_mapping
from famd.panel import login
from famd.panel.catalogue import ENGLISH, Catalogue, CatalogueError
from famd.panel.sessions import PanelProcurer, PanelSessionStore, csrf_token, id_hash
from famd.testing.memory import MemoryStorage
from famd.testing.storage_contract import NOW


def write(texts):
    """A JSON file holding C{texts}; its path."""
    folder = tempfile.mkdtemp(prefix="famd-catalogue-")
    path = os.path.join(folder, "fr.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(texts if isinstance(texts, str) else json.dumps(texts))
    return path


class CatalogueTests(unittest.TestCase):
    """One catalogue of texts; a translation is a file of the same keys."""

    def test_english(self):
        """The built-in catalogue formats its texts."""
        text = Catalogue.load()
        self.assertEqual(text("login.title"), "Log in")
        self.assertEqual(text("error.429.text", seconds=7), "Too many attempts: try again in 7 seconds.")

    def test_translation_over_english(self):
        """A translation's texts replace English; the keys it lacks stay English."""
        text = Catalogue.load(write({"login.title": "Connexion"}))
        self.assertEqual(text("login.title"), "Connexion")
        self.assertEqual(text("nav.logout"), "Log out")

    def test_unknown_key_refused(self):
        """A translation with a key English lacks is refused, naming it."""
        with self.assertRaises(CatalogueError) as caught:
            Catalogue.load(write({"login.titel": "Connexion"}))
        self.assertIn("login.titel", str(caught.exception))

    def test_unusable_files_refused(self):
        """A file that is not JSON, not an object of texts, or missing is refused."""
        for content in ("{", "[1]", json.dumps({"login.title": 3})):
            with self.assertRaises(CatalogueError):
                Catalogue.load(write(content))
        with self.assertRaises(CatalogueError):
            Catalogue.load("/nonexistent/fr.json")

    def test_every_key_used_is_in_english(self):
        """Every catalogue key named in the panel's code exists in en.json."""
        folder = os.path.dirname(os.path.dirname(ENGLISH))
        keys = Catalogue.load().keys()
        used = set()
        for name in os.listdir(folder):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    used |= set(re.findall(r'"((?:login|logout|account|password|email|phone|code|'
                                           r'devices|provisioning|delete|nav|error|app)\.[a-z_.]+)"',
                                           f.read()))
        self.assertGreater(len(used), 40)
        self.assertEqual({key for key in used if key not in keys and "%" not in key}, set())


class PanelConfigTests(unittest.TestCase):
    """famd.yaml's panel: keys."""

    def test_defaults(self):
        """Without a panel section the panel is on, with e-mail sign-up and half-hour sessions."""
        config = from_mapping({"sip_domain": "sip.example.org"}, tempfile.mkdtemp())
        self.assertEqual(dict(config.panel), {
            "enabled": True, "signup": "email", "terms_url": None, "session_idle": 1800,
            "session_lifetime": 43200, "catalogue": None})

    def test_errors_named(self):
        """Wrong panel values are reported by their dotted keys, all at once."""
        with self.assertRaises(ConfigError) as caught:
            from_mapping({"sip_domain": "s", "panel": {
                "signup": "fax", "terms_url": "ftp://x", "session_idle": 0, "enabled": "yes",
                "other": 1}}, tempfile.mkdtemp())
        errors = "\n".join(caught.exception.errors)
        for key in ("panel.signup", "panel.terms_url", "panel.session_idle", "panel.enabled",
                    "panel.other"):
            self.assertIn(key, errors)

    def test_catalogue_path_relative(self):
        """panel.catalogue is relative to the config file's folder."""
        config = from_mapping({"sip_domain": "s", "panel": {"catalogue": "fr.json"}}, "/etc/famd")
        self.assertEqual(config.panel["catalogue"], "/etc/famd/fr.json")


class SessionStoreTests(unittest.TestCase):
    """The session store and procurer provide klein's interfaces; ids are never stored."""

    def setUp(self):
        self.storage = MemoryStorage()
        self.store = PanelSessionStore(self.storage, lambda: NOW, 1800, 43200)

    def test_interfaces(self):
        """Store, session and procurer verify against klein's interfaces."""
        self.assertTrue(verifyObject(ISessionStore, self.store))
        self.assertTrue(verifyObject(ISessionProcurer, PanelProcurer(self.store, False)))
        session = self.successResultOf(self.store.newSession(False, SessionMechanism.Cookie))
        self.assertTrue(verifyObject(ISession, session))

    def test_csrf_token_is_not_the_id(self):
        """A session's klein identifier (its CSRF token) differs from its id and stored hash."""
        session = self.successResultOf(self.store.newSession(True, SessionMechanism.Cookie))
        self.assertEqual(session.identifier, csrf_token(session.secret))
        self.assertNotIn(session.secret, (session.identifier, session.hash))
        self.assertEqual(len(session.secret), 43)

    @defer.inlineCallbacks
    def test_login_stores_only_the_hash(self):
        """Logging in makes a new id and stores its hash, never the id."""
        account_id = yield self.storage.create_account(new_account(
            from_mapping({"sip_domain": "s"}, "/tmp"), NOW, "alice", "secret", "MD5", activated=True))
        anonymous = yield self.store.newSession(False, SessionMechanism.Cookie)
        fresh = yield self.store.log_in(anonymous, account_id)
        self.assertNotEqual(fresh.secret, anonymous.secret)
        rows = self.storage._tables["famd_sessions"].values()
        self.assertEqual([row["id_hash"] for row in rows], [id_hash(fresh.secret)])
        loaded = yield self.store.loadSession(fresh.secret, False, SessionMechanism.Cookie)
        self.assertEqual(loaded.account_id, account_id)

    @defer.inlineCallbacks
    def test_odd_ids_refused(self):
        """A cookie that is not a session id's form loads no session."""
        for odd in ("", "short", "x" * 43 + "y", "é" * 43, "a/b" + "c" * 40):
            with self.assertRaises(NoSuchSession):
                yield self.store.loadSession(odd, False, SessionMechanism.Cookie)


class LoginCheckTests(unittest.TestCase):
    """The login's password check against stored HA1s."""

    @defer.inlineCallbacks
    def test_realm_and_algorithm_of_the_row(self):
        """A SHA-256 row under a configured realm is checked with that algorithm and realm."""
        config = from_mapping({"sip_domain": "sip.example.org", "realm": "famd-realm"}, "/tmp")
        storage = MemoryStorage()
        yield storage.create_account(new_account(config, NOW, "alice", "secret", "SHA-256",
                                                 activated=True))
        account, problem = yield login.check_login(config, storage, "alice", "secret")
        self.assertEqual((account.username, problem), ("alice", None))
        account, problem = yield login.check_login(config, storage, "alice", "Secret")
        self.assertEqual((account, problem), (None, login.WRONG))
        plain = from_mapping({"sip_domain": "sip.example.org"}, "/tmp")
        account, problem = yield login.check_login(plain, storage, "alice", "secret")
        self.assertEqual(problem, login.WRONG)

    @defer.inlineCallbacks
    def test_long_input(self):
        """An identifier or password past 255 characters matches nothing and raises nothing."""
        config = from_mapping({"sip_domain": "sip.example.org"}, "/tmp")
        storage = MemoryStorage()
        yield storage.create_account(new_account(config, NOW, "alice", "secret", "MD5", activated=True))
        self.assertEqual((yield login.check_login(config, storage, "a" * 300, "secret"))[1], login.WRONG)
        self.assertEqual((yield login.check_login(config, storage, "alice", "s" * 300))[1], login.WRONG)

    @defer.inlineCallbacks
    def test_sip_address_before_email(self):
        """An e-mail address spelling another account's SIP address does not hide that account."""
        config = from_mapping({"sip_domain": "sip.example.org"}, "/tmp")
        storage = MemoryStorage()
        yield storage.create_account(new_account(config, NOW, "alice", "secret", "MD5", activated=True))
        yield storage.create_account(new_account(config, NOW, "mallory", "other", "MD5", activated=True,
                                                 email="alice@sip.example.org"))
        account = yield login.find_account(storage, "sip.example.org", "alice@sip.example.org")
        self.assertEqual(account.username, "alice")
        account = yield login.find_account(storage, "sip.example.org", "sip:alice@sip.example.org")
        self.assertEqual(account.username, "alice")
