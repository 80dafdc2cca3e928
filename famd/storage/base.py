"""
The storage operations, once for every SQL engine.

L{SQLStorage} implements L{famd.interfaces.IStorage} by sending one ``*_txn``
function per operation to its engine's pool, as a transaction with a short
name (the operation's, e.g. ``find_account``): a subclass only says how to
run a function in a transaction off the reactor thread (C{_run}) and how to
open and close.  Times given as datetimes are turned into the database's
form here, once; integers no column can hold never reach a driver.
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from famd.interfaces import SchemaTooNew, StorageUnavailable
from famd.errors import Conflict
from famd.storage.times import to_db
from famd.storage import sql_accounts as accounts
from famd.storage import sql_account_admin as account_admin
from famd.storage import sql_admin as admin
from famd.storage import sql_auth_tokens as auth_tokens
from famd.storage import sql_codes as codes
from famd.storage import sql_nonces as nonces
from famd.storage import sql_provisioning as provisioning
from famd.storage import sql_sessions as sessions
from famd.storage import sql_signup as signup
from famd.storage import sql_tokens as tokens

log = Logger(namespace="famd.storage")

ID_LIMIT = 2**63
"""Ids are below this on every engine (SQLite's INTEGER, the widest id
column, is a signed 64-bit integer); a larger one names no row, and SQLite's
driver would refuse it."""

NC_LIMIT = 2**31
"""``nonces.nc`` holds counts below this on MySQL and PostgreSQL."""

NONCE_BATCH = 1000
"""Most nonces one purging transaction deletes: a purge of millions of
expired rows never holds the write lock (SQLite's, or row locks) for long."""

EXPECTED = (Conflict, SchemaTooNew, StorageUnavailable)
"""What a transaction may fail with by design; anything else is logged."""


def ready_txn(txn):
    """The readiness query: the trivial one every engine answers."""
    return txn.scalar("SELECT 1")


def storable_id(account_id):
    """Whether an account id may name a row on any engine."""
    return -ID_LIMIT <= account_id < ID_LIMIT


def name_failure(failure, name):
    """
    A failed transaction's errback: name the transaction in the message of
    L{StorageUnavailable} (which the API logs), and log any failure not
    L{EXPECTED} with the name, its type only (a driver's message may quote
    a secret the statement carried).
    """
    if failure.check(StorageUnavailable):
        raise StorageUnavailable("%s (transaction %s)" % (failure.value, name)) from None
    if not failure.check(*EXPECTED):
        log.warn("storage transaction {txn} failed: {error}", txn=name,
                 error=failure.type.__module__ + "." + failure.type.__qualname__)
    return failure


class SQLStorage:
    """
    The shared operations.  Subclasses implement C{_run(name, write,
    function, args)}: call C{function(txn, *args)} in a transaction on a
    storage thread and return a Deferred of its result.  C{name} is the
    transaction's short name, for the engine's log lines and the metrics
    (L{observe}); C{write} says whether the transaction may write (engines use
    it to take the write lock early).
    """

    observe = None
    """Metrics on: C{observe(name, d)} times the transaction C{name} whose
    outcome C{d} fires with, and returns C{d} (L{famd.metrics.wiring})."""

    def read(self, name, function, *args):
        """Run C{function(txn, *args)} in a read-only transaction called C{name}."""
        d = self._run(name, False, function, args).addErrback(name_failure, name)
        return d if self.observe is None else self.observe(name, d)

    def write(self, name, function, *args):
        """Run C{function(txn, *args)} in a transaction called C{name} that may write."""
        d = self._run(name, True, function, args).addErrback(name_failure, name)
        return d if self.observe is None else self.observe(name, d)

    # IStorageLifecycle (readiness)

    def ready(self, timeout):
        """
        Fire with None once the database answered C{SELECT 1}; fail with
        L{StorageUnavailable} on any error or after C{timeout} seconds (the
        late answer, if any, is dropped).
        """
        outcome = defer.Deferred()

        def late():
            outcome.errback(StorageUnavailable("no answer from the database within %gs" % (timeout,)))

        timer = self._reactor.callLater(timeout, late)

        def settled(result):
            if not timer.active():
                return None
            timer.cancel()
            if isinstance(result, Failure):
                reason = result.value if result.check(StorageUnavailable) else result.type.__name__
                outcome.errback(StorageUnavailable("the database does not answer: %s" % (reason,)))
            else:
                outcome.callback(None)
            return None

        self.read("ready", ready_txn).addBoth(settled)
        return outcome

    # IAccountStore

    def create_account(self, new_account):
        return self.write("create_account", accounts.create_account_txn, new_account)

    def create_and_load_account(self, new_account):
        return self.write(
            "create_and_load_account", accounts.create_and_load_account_txn, new_account
        )

    def account_conflicts(self, username, domain, phone):
        return self.read(
            "account_conflicts", accounts.account_conflicts_txn, username, domain, phone
        )

    def get_account(self, account_id):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.read("get_account", accounts.get_account_txn, account_id)

    def find_account(self, username, domain):
        return self.read("find_account", accounts.find_account_txn, username, domain)

    def list_accounts(self, offset, limit):
        return self.read("list_accounts", accounts.list_accounts_txn, offset, limit)

    def delete_account(self, account_id):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write("delete_account", accounts.delete_account_txn, account_id)

    def set_activated(self, account_id, activated):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.write("set_activated", accounts.set_activated_txn, account_id, activated)

    def set_admin(self, account_id, admin, now):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write("set_admin", accounts.set_admin_txn, account_id, admin, to_db(now))

    def set_api_key(self, account_id, key, now):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write("set_api_key", accounts.set_api_key_txn, account_id, key, to_db(now))

    def replace_passwords(self, account_id, passwords):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write(
            "replace_passwords", accounts.replace_passwords_txn, account_id, tuple(passwords)
        )

    def list_unconfirmed(self, created_before):
        return self.read(
            "list_unconfirmed", accounts.list_unconfirmed_txn, to_db(created_before)
        )

    def delete_accounts(self, account_ids):
        account_ids = tuple(each for each in account_ids if storable_id(each))
        return self.write("delete_accounts", accounts.delete_accounts_txn, account_ids)

    def phone_in_use(self, phone):
        return self.read("phone_in_use", accounts.phone_in_use_txn, phone)

    # INonceStore

    def create_nonce(self, account_id, nonce, now):
        return self.write("create_nonce", nonces.create_nonce_txn, account_id, nonce, to_db(now))

    def use_nonce(self, account_id, nonce, nc, not_before, now, issued=None, blocking=()):
        if not 0 <= nc < NC_LIMIT:
            return defer.succeed("invalid")
        blocking = tuple((scope, limit, to_db(since)) for scope, limit, since in blocking)
        return self.write(
            "use_nonce",
            nonces.use_nonce_txn, account_id, nonce, nc, to_db(not_before), to_db(now),
            None if issued is None else to_db(issued), blocking,
        )

    nonce_batch = NONCE_BATCH

    @defer.inlineCallbacks
    def delete_nonces(self, not_used_since):
        since, total = to_db(not_used_since), 0
        while True:
            count = yield self.write(
                "delete_nonces", nonces.delete_nonces_txn, since, self.nonce_batch)
            total += count
            if count < self.nonce_batch:
                return total

    def get_setting(self, name, default):
        return self.write("get_setting", nonces.get_setting_txn, name, default)

    # IProvisioningStore

    def consume_confirmation_key(self, key, now, unless_blocked=False):
        return self.write(
            "consume_confirmation_key",
            provisioning.consume_confirmation_key_txn, key, to_db(now), unless_blocked,
        )

    def confirmation_key_valid(self, key, now):
        return self.read(
            "confirmation_key_valid", provisioning.confirmation_key_valid_txn, key, to_db(now)
        )

    # ITokenStore

    def token_refusal(self, pn_provider, pn_param, pn_prid, limit):
        return self.read(
            "token_refusal", tokens.token_refusal_txn, pn_provider, pn_param, pn_prid, limit
        )

    def add_token(self, token, pn_provider, pn_param, pn_prid, limit, now):
        return self.write(
            "add_token",
            tokens.add_token_txn, token, pn_provider, pn_param, pn_prid, limit, to_db(now),
        )

    def unused_token(self, token):
        return self.read("unused_token", tokens.unused_token_txn, token)

    # ICodeStore

    def activate_with_code(self, account_id, code):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.write("activate_with_code", codes.activate_with_code_txn, account_id, code)

    def phone_taken(self, phone, account_id):
        return self.read("phone_taken", codes.phone_taken_txn, phone, account_id)

    def set_phone_change(self, account_id, phone, code, now, ip=None, user_agent=None):
        return self.write(
            "set_phone_change",
            codes.set_phone_change_txn, account_id, phone, code, to_db(now), ip, user_agent,
        )

    def phone_change(self, account_id):
        return self.read("phone_change", codes.phone_change_txn, account_id)

    def apply_phone_change(self, account_id, code):
        return self.write("apply_phone_change", codes.apply_phone_change_txn, account_id, code)

    def drop_phone_change(self, account_id, code):
        return self.write("drop_phone_change", codes.drop_phone_change_txn, account_id, code)

    def set_email_change(self, account_id, new_email, secret, now):
        return self.write(
            "set_email_change",
            codes.set_email_change_txn, account_id, new_email, secret, to_db(now),
        )

    def email_change(self, secret):
        return self.read("email_change", codes.email_change_txn, secret)

    def apply_email_change(self, account_id, secret):
        return self.write("apply_email_change", codes.apply_email_change_txn, account_id, secret)

    def drop_email_change(self, account_id, secret):
        return self.write("drop_email_change", codes.drop_email_change_txn, account_id, secret)

    # ILinkingStore

    def request_email_change(self, account_id, new_email, secret, code, now, ip=None,
                             user_agent=None):
        return self.write(
            "request_email_change", codes.request_email_change_txn,
            account_id, new_email, secret, code, to_db(now), ip, user_agent,
        )

    def email_code(self, account_id):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.read("email_code", codes.email_code_txn, account_id)

    def apply_email_code(self, account_id, code):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.write("apply_email_code", codes.apply_email_code_txn, account_id, code)

    def drop_email_code(self, account_id, code):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write("drop_email_code", codes.drop_email_code_txn, account_id, code)

    def creation_token_consumed(self, account_id):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.read(
            "creation_token_consumed", codes.creation_token_consumed_txn, account_id
        )

    # IRateLimitStore

    def reserve_attempt(self, scopes, limit, since, now):
        return self.write(
            "reserve_attempt",
            codes.reserve_attempt_txn, tuple(scopes), limit, to_db(since), to_db(now),
        )

    def forget_attempts(self, ids):
        return self.write("forget_attempts", codes.forget_attempts_txn, tuple(ids))

    def count_attempts(self, scope, since):
        return self.read("count_attempts", codes.count_attempts_txn, scope, to_db(since))

    def forget_expired_attempts(self, before):
        return self.write(
            "forget_expired_attempts", codes.forget_expired_attempts_txn, to_db(before)
        )

    # IProvisioningTokenStore

    def issue_provisioning_token(self, account_id, token, now, ip=None, user_agent=None):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write(
            "issue_provisioning_token",
            provisioning.issue_provisioning_token_txn, account_id, token, to_db(now), ip, user_agent,
        )

    def current_provisioning_token(self, account_id):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.read(
            "current_provisioning_token", provisioning.current_provisioning_token_txn, account_id
        )

    def consume_provisioning_token(self, token, expired_before, now, new_passwords=None):
        return self.write(
            "consume_provisioning_token",
            provisioning.consume_provisioning_token_txn, token,
            None if expired_before is None else to_db(expired_before), to_db(now), new_passwords,
        )

    def provisioning_token_unused(self, token):
        return self.read(
            "provisioning_token_unused", provisioning.provisioning_token_unused_txn, token
        )

    # IAuthTokenStore

    def add_auth_token(self, token, now, ip=None, user_agent=None):
        return self.write(
            "add_auth_token", auth_tokens.add_auth_token_txn, token, to_db(now), ip, user_agent
        )

    def attach_auth_token(self, token, account_id, not_before, now):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write(
            "attach_auth_token",
            auth_tokens.attach_auth_token_txn, token, account_id, to_db(not_before), to_db(now),
        )

    def take_auth_token(self, token, not_before, new_passwords=None):
        return self.write(
            "take_auth_token",
            auth_tokens.take_auth_token_txn, token, to_db(not_before), new_passwords,
        )

    def delete_auth_tokens(self, created_before):
        return self.write(
            "delete_auth_tokens", auth_tokens.delete_auth_tokens_txn, to_db(created_before)
        )

    # ISignUpStore

    def device_tokens(self, pn_provider, pn_param, pn_prid, since):
        return self.read(
            "device_tokens", signup.device_tokens_txn, pn_provider, pn_param, pn_prid, to_db(since)
        )

    def add_device_token(self, token, pn_provider, pn_param, pn_prid, ip, user_agent, now, since):
        return self.write(
            "add_device_token", signup.add_device_token_txn, token, pn_provider, pn_param,
            pn_prid, ip, user_agent, to_db(now), to_db(since),
        )

    def add_plain_token(self, token, ip, user_agent, now):
        return self.write("add_plain_token", signup.add_plain_token_txn, token, ip, user_agent,
                          to_db(now))

    def creation_token(self, token):
        return self.read("creation_token", signup.creation_token_txn, token)

    def consume_creation_token(self, token, account_id, ip, user_agent, now):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.write(
            "consume_creation_token", signup.consume_creation_token_txn, token, account_id, ip,
            user_agent, to_db(now),
        )

    def add_request_token(self, token, now):
        return self.write("add_request_token", signup.add_request_token_txn, token, to_db(now))

    def request_token(self, token):
        return self.read("request_token", signup.request_token_txn, token)

    def validate_request_token(self, token, ip, user_agent, now):
        return self.write(
            "validate_request_token", signup.validate_request_token_txn, token, ip, user_agent,
            to_db(now),
        )

    def trade_request_token(self, token, creation_token, ip, user_agent, now):
        return self.write(
            "trade_request_token", signup.trade_request_token_txn, token, creation_token, ip,
            user_agent, to_db(now),
        )

    # IRecoveryTokenStore

    def recovery_used_since(self, pn_provider, pn_param, pn_prid, since):
        return self.read(
            "recovery_used_since", signup.recovery_used_since_txn, pn_provider, pn_param, pn_prid,
            to_db(since),
        )

    def add_recovery_token(self, token, pn_provider, pn_param, pn_prid, ip, user_agent, now, since):
        return self.write(
            "add_recovery_token", signup.add_recovery_token_txn, token, pn_provider, pn_param,
            pn_prid, ip, user_agent, to_db(now), to_db(since),
        )

    def recovery_token(self, token, not_before):
        return self.read("recovery_token", signup.recovery_token_txn, token, to_db(not_before))

    def use_recovery_token(self, token, account_id, not_before, now):
        if account_id is not None and not storable_id(account_id):
            return defer.succeed(None)
        return self.write(
            "use_recovery_token", signup.use_recovery_token_txn, token, account_id,
            to_db(not_before), to_db(now),
        )

    # IAdminStore

    def update_account(self, account_id, changes, now):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.write("update_account", admin.update_account_txn, account_id, changes, to_db(now))

    def set_blocked(self, account_id, blocked):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.write("set_blocked", admin.set_blocked_txn, account_id, blocked)

    def find_account_by_email(self, email):
        return self.read("find_account_by_email", admin.find_account_by_email_txn, email)

    def find_account_by_phone(self, phone):
        return self.read("find_account_by_phone", admin.find_account_by_phone_txn, phone)

    def add_reset_password_token(self, account_id, token, email, ip, user_agent, now):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write(
            "add_reset_password_token",
            admin.add_reset_password_token_txn, account_id, token, email, ip, user_agent, to_db(now),
        )

    def reset_password_token(self, token):
        return self.read("reset_password_token", admin.reset_password_token_txn, token)

    def use_reset_password_token(self, token, not_before, now):
        return self.write(
            "use_reset_password_token",
            admin.use_reset_password_token_txn, token, to_db(not_before), to_db(now),
        )

    # IWebSessionStore

    def add_web_session(self, id_hash, account_id, now):
        return self.write("add_web_session", sessions.add_web_session_txn,
                          id_hash, account_id, to_db(now))

    def web_session(self, id_hash, idle_since, created_since):
        return self.read("web_session", sessions.web_session_txn,
                         id_hash, to_db(idle_since), to_db(created_since))

    def touch_web_session(self, id_hash, now):
        return self.write("touch_web_session", sessions.touch_web_session_txn, id_hash, to_db(now))

    def delete_web_session(self, id_hash):
        return self.write("delete_web_session", sessions.delete_web_session_txn, id_hash)

    def delete_account_web_sessions(self, account_id, keep=None):
        if not storable_id(account_id):
            return defer.succeed(0)
        return self.write("delete_account_web_sessions", sessions.delete_account_web_sessions_txn,
                          account_id, keep)

    def delete_expired_web_sessions(self, idle_before, created_before):
        return self.write("delete_expired_web_sessions", sessions.delete_expired_web_sessions_txn,
                          to_db(idle_before), to_db(created_before))

    # IAccountAdminStore

    def search_accounts(self, text, activated, admin, blocked, offset, limit):
        return self.read("search_accounts", account_admin.search_accounts_txn,
                         text, activated, admin, blocked, offset, limit)

    def api_key_made(self, account_id):
        if not storable_id(account_id):
            return defer.succeed(None)
        return self.read("api_key_made", account_admin.api_key_made_txn, account_id)

    def delete_api_key(self, account_id):
        if not storable_id(account_id):
            return defer.succeed(False)
        return self.write("delete_api_key", account_admin.delete_api_key_txn, account_id)
