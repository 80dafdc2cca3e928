"""
An in-memory L{IStorage}: what the SQL providers do, without SQL.

L{MemoryStorage} keeps the rows of the 2021 tables (and famd's own settings
and failed attempts) in dicts and answers every call at once, on the calling
thread, with an already fired Deferred.  Each call is therefore a whole
transaction on its own: a check and the write it guards can never be split
by another call, which is how it keeps the promises the SQL providers keep
with locks (single-use codes, tokens and keys, nonce counts raised once,
rate limits).  It passes famd's storage contract
(L{famd.testing.storage_contract}), which shows the interface asks nothing of
SQL; tests and third-party code may use it where a database is beside the
point.  Nothing survives the process.

Its answers are the SQL providers' answers, rule for rule: text matches
exactly (as on SQLite: case counts), lists come in id order, a row that
hangs off an account goes with it, ids are never reused, times are stored
as aware UTC datetimes at whole seconds.  A write the SQL schema would
refuse (a missing NOT NULL value, a second account with the same API key, a
row for an account that does not exist) fails with L{IntegrityError} and
changes nothing, as the database's own error would.
"""

import functools
from datetime import timezone

from twisted.internet import defer
from zope.interface import implementer

from famd.interfaces import IStorage
from famd.errors import Conflict
from famd.credentials import exact, first_exact
from famd.model import (
    Account,
    ActivationExpiration,
    CreationToken,
    RecoveryToken,
    RequestToken,
    EmailChange,
    IssuedToken,
    EmailCode,
    PhoneChange,
    Timestamps,
    ResetPasswordToken,
    WebSession,
)
from famd.storage.migrations import latest
from famd.storage.sql_account_admin import search_terms

TABLES = (
    "accounts", "passwords", "nonces", "admins", "api_keys", "aliases",
    "phone_change_codes", "email_changed", "activation_expirations", "tokens",
    "famd_code_failures",
    # FAM 2.x's concepts (schema version 5).
    "account_creation_request_tokens", "account_recovery_tokens", "provisioning_tokens",
    "auth_tokens", "email_change_codes", "reset_password_email_tokens",
    # The account panel's sessions (schema version 6).
    "famd_sessions",
)
"""The tables kept, by their SQL names."""

DEPENDENT_TABLES = (
    "passwords", "nonces", "admins", "api_keys", "aliases", "phone_change_codes",
    "email_changed", "activation_expirations",
    "tokens", "account_recovery_tokens", "provisioning_tokens", "auth_tokens",
    "email_change_codes", "reset_password_email_tokens", "famd_sessions",
)
"""The tables whose rows belong to an account (``account_id``)."""

MAX_NC = 2**31 - 1
"""The largest nonce count the SQL engines' ``nc`` column holds."""


class IntegrityError(Exception):
    """A write the SQL schema would refuse (the counterpart of the drivers' error)."""


def _utc(moment):
    """An aware UTC datetime at whole seconds (naive means UTC), or None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _answer(method):
    """Run C{method} at once; return a Deferred of its result or its exception."""

    @functools.wraps(method)
    def answered(self, *args, **kwargs):
        try:
            return defer.succeed(method(self, *args, **kwargs))
        except Exception:
            return defer.fail()

    return answered


@implementer(IStorage)
class MemoryStorage:
    """L{IStorage} in this process's memory (see the module docstring)."""

    def __init__(self):
        self._tables = {table: {} for table in TABLES}
        self._last_id = dict.fromkeys(TABLES, 0)
        self._settings = {}

    # ---------------------------------------------------------- rows

    def _insert(self, table, **row):
        self._last_id[table] += 1
        row["id"] = self._last_id[table]
        self._tables[table][row["id"]] = row
        return row["id"]

    def _rows(self, table, **where):
        """The rows of C{table} whose columns equal C{where}, in id order."""
        return [
            row for row in self._tables[table].values()
            if all(row.get(column) == value for column, value in where.items())
        ]

    def _delete(self, table, rows):
        for row in rows:
            del self._tables[table][row["id"]]
        return len(rows)

    def _require_account(self, account_id):
        if self._tables["accounts"].get(account_id) is None:
            raise IntegrityError("no account %r" % (account_id,))

    def count_dependents(self, account_id):
        """How many rows of each dependent table belong to the account (for tests)."""
        return {table: len(self._rows(table, account_id=account_id)) for table in DEPENDENT_TABLES}

    # ---------------------------------------------------------- accounts as values

    def _account(self, row, full=True):
        """
        The L{Account} of an ``accounts`` row; a listing (C{full} false)
        leaves out passwords, admin rights and API key, as SQL listings do.
        """
        account_id = row["id"]
        aliases = self._rows("aliases", account_id=account_id)
        expirations = self._rows("activation_expirations", account_id=account_id)
        changes = self._rows("email_changed", account_id=account_id)
        passwords, admin, api_key = (), None, None
        if full:
            passwords = tuple(
                each["password"] for each in self._rows("passwords", account_id=account_id))
            admins = self._rows("admins", account_id=account_id)
            if admins:
                admin = Timestamps(admins[0]["created_at"], admins[0]["updated_at"])
            keys = self._rows("api_keys", account_id=account_id)
            api_key = keys[0]["key"] if keys else None
        expiration = None
        if expirations:
            last = expirations[-1]
            expiration = ActivationExpiration(
                last["id"], account_id, last["expires"], last["created_at"], last["updated_at"])
        change = None
        if changes:
            change = EmailChange(account_id, changes[-1]["new_email"], changes[-1]["created_at"])
        return Account(
            id=account_id, username=row["username"], domain=row["domain"], email=row["email"],
            activated=row["activated"], confirmation_key=row["confirmation_key"],
            ip_address=row["ip_address"], user_agent=row["user_agent"],
            creation_time=row["creation_time"], expire_time=row["expire_time"],
            passwords=passwords, admin=admin, phone=aliases[0]["alias"] if aliases else None,
            activation_expiration=expiration, email_changed=change, api_key=api_key,
            blocked=bool(row.get("blocked", False)), display_name=row.get("display_name"),
            dtmf_protocol=row.get("dtmf_protocol"),
        )

    def _get(self, account_id):
        row = self._tables["accounts"].get(account_id)
        return None if row is None else self._account(row)

    # ---------------------------------------------------------- IStorageLifecycle

    def migrate_blocking(self):
        """The version of famd's SQL schema whose behaviour this storage reproduces."""
        return latest("sqlite")

    @_answer
    def open(self):
        return self.migrate_blocking()

    def close(self):
        return defer.succeed(None)

    def ready(self, timeout):
        """Memory always answers."""
        return defer.succeed(None)

    # ---------------------------------------------------------- IAccountStore

    def _username_taken(self, username, domain):
        return bool(self._rows("accounts", username=username, domain=domain))

    def _phone_taken(self, phone, account_id=None):
        """Whether C{phone} is an alias or a username of an account other than C{account_id}."""
        return any(
            row["account_id"] != account_id for row in self._rows("aliases", alias=phone)
        ) or any(row["id"] != account_id for row in self._rows("accounts", username=phone))

    def _check_passwords(self, passwords):
        for password in passwords:
            if password.password is None or password.algorithm is None:
                raise IntegrityError("a password and its algorithm may not be None")

    def _check_key(self, key, account_id):
        if key is None:
            raise IntegrityError("an API key may not be None")
        if any(row["account_id"] != account_id for row in self._rows("api_keys", key=key)):
            raise IntegrityError("that API key belongs to another account")

    def _create(self, new):
        if self._username_taken(new.username, new.domain):
            raise Conflict("username")
        if new.phone is not None and self._phone_taken(new.phone):
            raise Conflict("phone")
        consumed = None if new.token is None else self._exact("tokens", new.token, used=False)
        if new.token is not None and consumed is None:
            raise Conflict("token")
        tokens = [] if consumed is None else [consumed]
        required = (new.username, new.domain, new.ip_address, new.user_agent, new.creation_time)
        if any(value is None for value in required):
            raise IntegrityError("an account needs a username, domain, address, agent and time")
        self._check_passwords(new.passwords)
        if new.api_key is not None:
            self._check_key(new.api_key, None)
        now = _utc(new.creation_time)
        for token in tokens:
            token.update(used=True, updated_at=now)
        account_id = self._last_id["accounts"] + 1
        for token in tokens:
            if token.get("account_id") is None:
                token["account_id"] = account_id
        account_id = self._insert(
            "accounts", username=new.username, domain=new.domain, email=new.email,
            activated=bool(new.activated), confirmation_key=new.confirmation_key,
            ip_address=new.ip_address, user_agent=new.user_agent, creation_time=now,
            expire_time=None, blocked=False, display_name=None, dtmf_protocol=new.dtmf_protocol,
        )
        for password in new.passwords:
            self._insert("passwords", account_id=account_id, password=password)
        if new.admin:
            self._insert("admins", account_id=account_id, created_at=now, updated_at=now)
        if new.phone is not None:
            self._insert("aliases", account_id=account_id, alias=new.phone, domain=new.domain)
        if new.activation_expires is not None:
            self._insert(
                "activation_expirations", account_id=account_id,
                expires=_utc(new.activation_expires), created_at=now, updated_at=now,
            )
        if new.api_key is not None:
            self._insert("api_keys", account_id=account_id, key=new.api_key, created_at=now,
                         updated_at=now)
        if new.provisioning_token is not None:
            self._insert("provisioning_tokens", account_id=account_id,
                         token=new.provisioning_token, used=False, created_at=now,
                         updated_at=now, ip=new.ip_address, user_agent=new.user_agent)
        return account_id

    @_answer
    def create_account(self, new_account):
        return self._create(new_account)

    @_answer
    def create_and_load_account(self, new_account):
        return self._get(self._create(new_account))

    @_answer
    def account_conflicts(self, username, domain, phone):
        taken = []
        if username is not None and self._username_taken(username, domain):
            taken.append("username")
        if phone is not None and self._phone_taken(phone):
            taken.append("phone")
        return taken

    @_answer
    def get_account(self, account_id):
        return self._get(account_id)

    @_answer
    def find_account(self, username, domain):
        rows = self._rows("accounts", username=username, domain=domain)
        return self._account(rows[0]) if rows else None

    @_answer
    def list_accounts(self, offset, limit):
        rows = list(self._tables["accounts"].values())
        return [self._account(row, full=False) for row in rows[offset:offset + limit]], len(rows)

    def _delete_account(self, account_id):
        if self._tables["accounts"].get(account_id) is None:
            return False
        for table in DEPENDENT_TABLES:
            self._delete(table, self._rows(table, account_id=account_id))
        del self._tables["accounts"][account_id]
        return True

    @_answer
    def delete_account(self, account_id):
        return self._delete_account(account_id)

    @_answer
    def set_activated(self, account_id, activated):
        row = self._tables["accounts"].get(account_id)
        if row is None:
            return None
        row["activated"] = bool(activated)
        return self._account(row)

    @_answer
    def set_admin(self, account_id, admin, now):
        if self._tables["accounts"].get(account_id) is None:
            return False
        rows = self._rows("admins", account_id=account_id)
        if not admin:
            self._delete("admins", rows)
        elif not rows:
            self._insert("admins", account_id=account_id, created_at=_utc(now),
                         updated_at=_utc(now))
        return True

    @_answer
    def set_api_key(self, account_id, key, now):
        if self._tables["accounts"].get(account_id) is None:
            return False
        self._check_key(key, account_id)
        self._delete("api_keys", self._rows("api_keys", account_id=account_id))
        self._insert("api_keys", account_id=account_id, key=key, created_at=_utc(now),
                     updated_at=_utc(now))
        return True

    @_answer
    def replace_passwords(self, account_id, passwords):
        if self._tables["accounts"].get(account_id) is None:
            return False
        passwords = tuple(passwords)
        self._check_passwords(passwords)
        self._replace_passwords(account_id, passwords)
        return True

    def _replace_passwords(self, account_id, passwords):
        self._delete("passwords", self._rows("passwords", account_id=account_id))
        for password in passwords:
            self._insert("passwords", account_id=account_id, password=password)
        # New passwords end the account's panel sessions, as the SQL providers do.
        self._delete("famd_sessions", self._rows("famd_sessions", account_id=account_id))

    @_answer
    def list_unconfirmed(self, created_before):
        before = _utc(created_before)
        return [
            self._account(row, full=False) for row in self._tables["accounts"].values()
            if not row["activated"] and row["creation_time"] is not None
            and row["creation_time"] < before
        ]

    @_answer
    def delete_accounts(self, account_ids):
        return sum(1 for account_id in tuple(account_ids) if self._delete_account(account_id))

    @_answer
    def phone_in_use(self, phone):
        return self._phone_taken(phone)

    # ---------------------------------------------------------- INonceStore

    @_answer
    def create_nonce(self, account_id, nonce, now):
        self._require_account(account_id)
        self._insert("nonces", account_id=account_id, nonce=nonce, nc=0, created_at=_utc(now),
                     updated_at=_utc(now))

    @_answer
    def use_nonce(self, account_id, nonce, nc, not_before, now, issued=None, blocking=()):
        if nc > MAX_NC or nc < 0:
            return "invalid"
        if any(self._count_attempts(scope, since) >= limit for scope, limit, since in blocking):
            return "limited"
        if issued is not None and nc == 1 and not self._rows("nonces", account_id=account_id, nonce=nonce):
            self._require_account(account_id)
            self._insert("nonces", account_id=account_id, nonce=nonce, nc=0, created_at=_utc(issued),
                         updated_at=_utc(issued))
        not_before = _utc(not_before)
        known = [
            row for row in self._rows("nonces", account_id=account_id, nonce=nonce)
            if row["created_at"] is not None and row["created_at"] >= not_before
        ]
        raised = [row for row in known if row["nc"] < nc]
        for row in raised:
            row.update(nc=nc, updated_at=_utc(now))
        if raised:
            return "ok"
        if not known or any(row["nc"] >= MAX_NC for row in known):
            return "invalid"
        # Like the 2021 account manager: a replayed nonce is burnt (its row
        # stays, at a count no answer passes, so no first use can recreate it).
        for row in self._rows("nonces", account_id=account_id, nonce=nonce):
            row.update(nc=MAX_NC)
        return "replayed"

    nonce_batch = 1000

    @_answer
    def delete_nonces(self, not_used_since):
        since = _utc(not_used_since)

        def unused(row):
            last = row["updated_at"] if row["updated_at"] is not None else row["created_at"]
            return last is None or last < since

        # In batches of at most nonce_batch rows, as the SQL engines do.
        total = 0
        while True:
            batch = sorted(
                (row for row in self._tables["nonces"].values() if unused(row)),
                key=lambda row: row["id"])[:self.nonce_batch]
            count = self._delete("nonces", batch)
            total += count
            if count < self.nonce_batch:
                return total

    @_answer
    def get_setting(self, name, default):
        return self._settings.setdefault(name, default)

    # ---------------------------------------------------------- IProvisioningStore

    def _key_holder(self, key, now):
        """The first account holding C{key} whose activation has not expired at C{now}."""
        if key is None:
            return None
        now = _utc(now)
        for row in exact(self._tables["accounts"].values(), key, "confirmation_key"):
            expirations = self._rows("activation_expirations", account_id=row["id"])
            if not any(each["expires"] < now for each in expirations):
                return row
        return None

    @_answer
    def consume_confirmation_key(self, key, now, unless_blocked=False):
        row = self._key_holder(key, now)
        if row is None:
            return None
        account = self._account(row)
        if unless_blocked and account.blocked:
            return account
        row["confirmation_key"] = None
        return account

    @_answer
    def confirmation_key_valid(self, key, now):
        return self._key_holder(key, now) is not None

    # ---------------------------------------------------------- ITokenStore

    def _refusal(self, pn_provider, pn_param, pn_prid, limit):
        device = self._rows("tokens", pn_provider=pn_provider, pn_param=pn_param, pn_prid=pn_prid)
        if any(not row["used"] for row in device):
            return "pending"
        if len(device) >= limit:
            return "limit"
        return None

    @_answer
    def token_refusal(self, pn_provider, pn_param, pn_prid, limit):
        return self._refusal(pn_provider, pn_param, pn_prid, limit)

    @_answer
    def add_token(self, token, pn_provider, pn_param, pn_prid, limit, now):
        refusal = self._refusal(pn_provider, pn_param, pn_prid, limit)
        if refusal is None:
            self._insert("tokens", token=token, pn_provider=pn_provider, pn_param=pn_param,
                         pn_prid=pn_prid, used=False, created_at=_utc(now), updated_at=_utc(now))
        return refusal

    @_answer
    def unused_token(self, token):
        row = self._exact("tokens", token, used=False)
        return None if row is None else row["token"]

    # ---------------------------------------------------------- ICodeStore

    @_answer
    def activate_with_code(self, account_id, code):
        row = self._tables["accounts"].get(account_id)
        if row is None or code is None or row["confirmation_key"] != code:
            return None
        row.update(activated=True, confirmation_key=None)
        return self._account(row)

    @_answer
    def phone_taken(self, phone, account_id):
        return self._phone_taken(phone, account_id)

    def _replace_pending(self, table, account_id, now, **values):
        self._require_account(account_id)
        self._delete(table, self._rows(table, account_id=account_id))
        self._insert(table, account_id=account_id, created_at=_utc(now), updated_at=_utc(now),
                     **values)

    @_answer
    def set_phone_change(self, account_id, phone, code, now, ip=None, user_agent=None):
        self._replace_pending("phone_change_codes", account_id, now, phone=phone, code=code,
                              ip=ip, user_agent=user_agent)

    @_answer
    def phone_change(self, account_id):
        rows = self._rows("phone_change_codes", account_id=account_id)
        if not rows:
            return None
        return PhoneChange(account_id, rows[-1]["phone"], rows[-1]["code"], rows[-1]["created_at"])

    @_answer
    def apply_phone_change(self, account_id, code):
        rows = self._rows("phone_change_codes", account_id=account_id, code=code)
        if not rows:
            return None
        phone = rows[-1]["phone"]
        if self._phone_taken(phone, account_id):
            raise Conflict("phone")
        self._delete("phone_change_codes", rows)
        self._delete("aliases", self._rows("aliases", account_id=account_id))
        account = self._tables["accounts"][account_id]
        self._insert("aliases", account_id=account_id, alias=phone, domain=account["domain"])
        account["activated"] = True
        return self._account(account)

    @_answer
    def drop_phone_change(self, account_id, code):
        return self._delete(
            "phone_change_codes", self._rows("phone_change_codes", account_id=account_id, code=code)
        ) > 0

    @_answer
    def set_email_change(self, account_id, new_email, secret, now):
        self._replace_pending("email_changed", account_id, now, new_email=new_email, hash=secret)

    @_answer
    def email_change(self, secret):
        rows = self._rows("email_changed", hash=secret)
        if not rows:
            return None
        row = rows[0]
        return EmailChange(row["account_id"], row["new_email"], row["created_at"], secret=row["hash"])

    @_answer
    def apply_email_change(self, account_id, secret):
        rows = self._rows("email_changed", account_id=account_id, hash=secret)
        if not rows:
            return None
        self._delete("email_changed", rows)
        self._delete("email_change_codes", self._rows("email_change_codes", account_id=account_id))
        self._tables["accounts"][account_id].update(email=rows[0]["new_email"], activated=True)
        return rows[0]["new_email"]

    @_answer
    def drop_email_change(self, account_id, secret):
        return self._delete(
            "email_changed", self._rows("email_changed", account_id=account_id, hash=secret)
        ) > 0

    # ---------------------------------------------------------- ILinkingStore

    @_answer
    def request_email_change(self, account_id, new_email, secret, code, now, ip=None,
                             user_agent=None):
        self._replace_pending("email_changed", account_id, now, new_email=new_email, hash=secret)
        self._replace_pending("email_change_codes", account_id, now, email=new_email, code=code,
                              ip=ip, user_agent=user_agent)

    @_answer
    def email_code(self, account_id):
        rows = [row for row in self._rows("email_change_codes", account_id=account_id)
                if row["code"] is not None]
        if not rows:
            return None
        row = rows[-1]
        return EmailCode(account_id, row["email"], row["code"], row["created_at"], row["ip"],
                         row["user_agent"])

    @_answer
    def apply_email_code(self, account_id, code):
        rows = self._rows("email_change_codes", account_id=account_id, code=code)
        if not rows:
            return None
        self._delete("email_change_codes", self._rows("email_change_codes", account_id=account_id))
        self._delete("email_changed", self._rows("email_changed", account_id=account_id))
        account = self._tables["accounts"][account_id]
        account.update(email=rows[-1]["email"], activated=True)
        return self._account(account)

    @_answer
    def drop_email_code(self, account_id, code):
        return self._delete(
            "email_change_codes", self._rows("email_change_codes", account_id=account_id, code=code)
        ) > 0

    @_answer
    def creation_token_consumed(self, account_id):
        return any(row.get("account_id") == account_id and row["used"]
                   for row in self._tables["tokens"].values())

    # ---------------------------------------------------------- IRateLimitStore

    @_answer
    def reserve_attempt(self, scopes, limit, since, now):
        since = _utc(since)
        oldest = None
        for scope in scopes:
            self._delete("famd_code_failures", [
                row for row in self._rows("famd_code_failures", scope=scope) if row["created_at"] <= since
            ])
            times = sorted(row["created_at"] for row in self._rows("famd_code_failures", scope=scope))
            if len(times) >= limit:
                frees = times[len(times) - limit]
                oldest = frees if oldest is None else max(oldest, frees)
        if oldest is not None:
            return (), oldest
        return tuple(
            self._insert("famd_code_failures", scope=scope, created_at=_utc(now)) for scope in scopes
        ), None

    def _count_attempts(self, scope, since):
        since = _utc(since)
        return sum(1 for row in self._rows("famd_code_failures", scope=scope) if row["created_at"] > since)

    @_answer
    def count_attempts(self, scope, since):
        return self._count_attempts(scope, since)

    @_answer
    def forget_expired_attempts(self, before):
        before = _utc(before)
        failures = self._tables["famd_code_failures"]
        return self._delete("famd_code_failures", [row for row in failures.values() if row["created_at"] <= before])

    @_answer
    def forget_attempts(self, ids):
        failures = self._tables["famd_code_failures"]
        return self._delete("famd_code_failures", [failures[i] for i in tuple(ids) if i in failures])

    # ---------------------------------------------------------- IProvisioningTokenStore

    def _current_provisioning(self, account_id):
        rows = self._rows("provisioning_tokens", account_id=account_id, used=False)
        return rows[-1] if rows else None

    @_answer
    def issue_provisioning_token(self, account_id, token, now, ip=None, user_agent=None):
        if self._tables["accounts"].get(account_id) is None:
            return False
        if token is None:
            raise IntegrityError("a provisioning token may not be None")
        now = _utc(now)
        for row in self._rows("provisioning_tokens", account_id=account_id, used=False):
            row.update(used=True, updated_at=now)
        self._insert("provisioning_tokens", account_id=account_id, token=token, used=False,
                     created_at=now, updated_at=now, ip=ip, user_agent=user_agent)
        return True

    @_answer
    def current_provisioning_token(self, account_id):
        row = self._current_provisioning(account_id)
        return None if row is None else IssuedToken(row["token"], row["created_at"])

    @_answer
    def consume_provisioning_token(self, token, expired_before, now, new_passwords=None):
        rows = exact(self._tables["provisioning_tokens"].values(), token, "token")
        if token is None or not rows:
            return "unknown", None
        row = rows[-1]
        if self._current_provisioning(row["account_id"]) is not row:
            return "stale", None
        if expired_before is not None and (
            row["created_at"] is None or row["created_at"] < _utc(expired_before)
        ):
            return "expired", None
        account = self._get(row["account_id"])
        if account.blocked:
            return "blocked", None
        passwords = None if new_passwords is None else tuple(new_passwords(account))
        if passwords is not None:
            self._check_passwords(passwords)
        row.update(used=True, updated_at=_utc(now))
        self._tables["accounts"][row["account_id"]]["activated"] = True
        if passwords is not None:
            self._replace_passwords(row["account_id"], passwords)
        return "ok", self._get(row["account_id"])

    @_answer
    def provisioning_token_unused(self, token):
        return bool(exact(self._rows("provisioning_tokens", used=False), token, "token"))

    # ---------------------------------------------------------- IAuthTokenStore

    def _auth_rows(self, token, not_before):
        not_before = _utc(not_before)
        return [
            row for row in exact(self._tables["auth_tokens"].values(), token, "token")
            if row["created_at"] is not None and row["created_at"] >= not_before
        ]

    @_answer
    def add_auth_token(self, token, now, ip=None, user_agent=None):
        if token is None:
            raise IntegrityError("an auth token may not be None")
        return self._insert("auth_tokens", account_id=None, token=token, created_at=_utc(now),
                            updated_at=_utc(now), ip=ip, user_agent=user_agent)

    @_answer
    def attach_auth_token(self, token, account_id, not_before, now):
        for row in self._auth_rows(token, not_before):
            if row["account_id"] is None:
                self._require_account(account_id)
                row.update(account_id=account_id, updated_at=_utc(now))
                return True
        return False

    @_answer
    def take_auth_token(self, token, not_before, new_passwords=None):
        for row in self._auth_rows(token, not_before):
            if row["account_id"] is None:
                continue
            account = self._get(row["account_id"])
            if account is None or account.blocked:
                return account
            passwords = None if new_passwords is None else tuple(new_passwords(account))
            if passwords is not None:
                self._check_passwords(passwords)
            self._delete("auth_tokens", [row])
            if passwords is not None:
                self._replace_passwords(account.id, passwords)
            return self._get(account.id)
        return None

    @_answer
    def delete_auth_tokens(self, created_before):
        before = _utc(created_before)
        return self._delete("auth_tokens", [
            row for row in self._tables["auth_tokens"].values()
            if row["created_at"] is None or row["created_at"] < before
        ])

    # ---------------------------------------------------------- ISignUpStore

    def _exact(self, table, token, **where):
        """The first row of C{table} whose text is exactly C{token} (and matching C{where})."""
        return first_exact(self._rows(table, **where), token, "token")

    @staticmethod
    def _creation_token(row):
        return CreationToken(
            row["id"], row["token"], row["pn_provider"], row["pn_param"], row["pn_prid"],
            bool(row["used"]), row.get("account_id"), row.get("ip"), row.get("user_agent"),
            row["created_at"])

    def _device_tokens(self, pn_provider, pn_param, pn_prid, since):
        since = _utc(since)
        return [
            (row["created_at"], bool(row["used"]))
            for row in self._rows("tokens", pn_provider=pn_provider, pn_param=pn_param,
                                  pn_prid=pn_prid)
            if row["created_at"] is not None and row["created_at"] > since
        ]

    @_answer
    def device_tokens(self, pn_provider, pn_param, pn_prid, since):
        return self._device_tokens(pn_provider, pn_param, pn_prid, since)

    def _add_token(self, token, device, ip, user_agent, now):
        return self._insert(
            "tokens", token=token, pn_provider=device[0], pn_param=device[1], pn_prid=device[2],
            used=False, account_id=None, ip=ip, user_agent=user_agent, created_at=_utc(now),
            updated_at=_utc(now))

    @_answer
    def add_device_token(self, token, pn_provider, pn_param, pn_prid, ip, user_agent, now, since):
        used = [created for created, was_used
                in self._device_tokens(pn_provider, pn_param, pn_prid, since) if was_used]
        if used:
            return max(used)
        self._delete("tokens", [
            row for row in self._rows("tokens", pn_provider=pn_provider, pn_param=pn_param,
                                      pn_prid=pn_prid, used=False)
            if row.get("account_id") is None
        ])
        self._add_token(token, (pn_provider, pn_param, pn_prid), ip, user_agent, now)
        return None

    @_answer
    def add_plain_token(self, token, ip, user_agent, now):
        token_id = self._add_token(token, ("", "", ""), ip, user_agent, now)
        return self._creation_token(self._tables["tokens"][token_id])

    @_answer
    def creation_token(self, token):
        row = self._exact("tokens", token)
        return None if row is None else self._creation_token(row)

    @_answer
    def consume_creation_token(self, token, account_id, ip, user_agent, now):
        row = self._exact("tokens", token, used=False, account_id=None)
        if row is None:
            return None
        self._require_account(account_id)
        row.update(used=True, account_id=account_id, ip=ip, user_agent=user_agent,
                   updated_at=_utc(now))
        return self._creation_token(row)

    @_answer
    def add_request_token(self, token, now):
        self._insert("account_creation_request_tokens", token=token, used=False,
                     validated_at=None, acc_creation_token_id=None, ip=None, user_agent=None,
                     created_at=_utc(now), updated_at=_utc(now))

    @_answer
    def request_token(self, token):
        row = self._exact("account_creation_request_tokens", token)
        if row is None:
            return None
        return RequestToken(row["id"], row["token"], bool(row["used"]), row["validated_at"],
                            row["acc_creation_token_id"], row["created_at"])

    @_answer
    def validate_request_token(self, token, ip, user_agent, now):
        row = self._exact("account_creation_request_tokens", token, used=False, validated_at=None)
        if row is None:
            return False
        row.update(validated_at=_utc(now), ip=ip, user_agent=user_agent, updated_at=_utc(now))
        return True

    @_answer
    def trade_request_token(self, token, creation_token, ip, user_agent, now):
        row = self._exact("account_creation_request_tokens", token, used=False)
        if row is None or row["validated_at"] is None:
            return None
        token_id = self._add_token(creation_token, ("", "", ""), ip, user_agent, now)
        row.update(used=True, acc_creation_token_id=token_id, updated_at=_utc(now))
        return self._creation_token(self._tables["tokens"][token_id])

    # ---------------------------------------------------------- IRecoveryTokenStore

    def _recovery_used_since(self, pn_provider, pn_param, pn_prid, since):
        since = _utc(since)
        times = [
            row["created_at"]
            for row in self._rows("account_recovery_tokens", pn_provider=pn_provider,
                                  pn_param=pn_param, pn_prid=pn_prid, used=True)
            if row["created_at"] is not None and row["created_at"] > since
        ]
        return times[-1] if times else None

    @_answer
    def recovery_used_since(self, pn_provider, pn_param, pn_prid, since):
        return self._recovery_used_since(pn_provider, pn_param, pn_prid, since)

    @_answer
    def add_recovery_token(self, token, pn_provider, pn_param, pn_prid, ip, user_agent, now, since):
        recent = self._recovery_used_since(pn_provider, pn_param, pn_prid, since)
        if recent is not None:
            return recent
        if None in (token, pn_provider, pn_param, pn_prid):
            raise IntegrityError("a recovery token needs its text and device")
        self._insert("account_recovery_tokens", token=token, pn_provider=pn_provider,
                     pn_param=pn_param, pn_prid=pn_prid, used=False, ip=ip,
                     user_agent=user_agent, account_id=None, created_at=_utc(now),
                     updated_at=_utc(now))
        return None

    def _usable_recovery(self, token, not_before):
        not_before = _utc(not_before)
        fresh = [row for row in self._rows("account_recovery_tokens", used=False)
                 if row["created_at"] is not None and row["created_at"] >= not_before]
        return first_exact(fresh, token, "token")

    @staticmethod
    def _recovery(row):
        return RecoveryToken(row["id"], row["token"], row["pn_provider"], row["pn_param"],
                             row["pn_prid"], bool(row["used"]), row["account_id"],
                             row["created_at"])

    @_answer
    def recovery_token(self, token, not_before):
        row = self._usable_recovery(token, not_before)
        return None if row is None else self._recovery(row)

    @_answer
    def use_recovery_token(self, token, account_id, not_before, now):
        row = self._usable_recovery(token, not_before)
        if row is None:
            return None
        if account_id is not None:
            self._require_account(account_id)
        before = self._recovery(row)
        row.update(used=True, account_id=account_id, updated_at=_utc(now))
        return before

    # ---------------------------------------------------------- IAdminStore

    @_answer
    def update_account(self, account_id, changes, now):
        row = self._tables["accounts"].get(account_id)
        if row is None:
            return None
        if any(other["id"] != account_id
               for other in self._rows("accounts", username=changes.username, domain=row["domain"])):
            raise Conflict("username")
        if changes.phone is not None and self._phone_taken(changes.phone, account_id):
            raise Conflict("phone")
        if changes.username is None:
            raise IntegrityError("an account needs a username")
        if changes.passwords is not None:
            self._check_passwords(changes.passwords)
        row.update(username=changes.username, email=changes.email,
                   display_name=changes.display_name, dtmf_protocol=changes.dtmf_protocol)
        if changes.activated is not None:
            row["activated"] = bool(changes.activated)
        if changes.blocked is not None:
            row["blocked"] = bool(changes.blocked)
        self._delete("aliases", self._rows("aliases", account_id=account_id))
        if changes.phone is not None:
            self._insert("aliases", account_id=account_id, alias=changes.phone, domain=row["domain"])
        if changes.passwords is not None:
            self._replace_passwords(account_id, changes.passwords)
        admins = self._rows("admins", account_id=account_id)
        if changes.admin is False:
            self._delete("admins", admins)
        elif changes.admin and not admins:
            self._insert("admins", account_id=account_id, created_at=_utc(now), updated_at=_utc(now))
        return self._account(row)

    @_answer
    def set_blocked(self, account_id, blocked):
        row = self._tables["accounts"].get(account_id)
        if row is None:
            return None
        row["blocked"] = bool(blocked)
        return self._account(row)

    @_answer
    def find_account_by_email(self, email):
        rows = self._rows("accounts", email=email) if email is not None else []
        return self._account(rows[0]) if rows else None

    @_answer
    def find_account_by_phone(self, phone):
        aliases = self._rows("aliases", alias=phone) if phone is not None else []
        if aliases:
            return self._get(min(row["account_id"] for row in aliases))
        rows = self._rows("accounts", username=phone) if phone is not None else []
        return self._account(min(rows, key=lambda row: row["id"])) if rows else None

    @_answer
    def add_reset_password_token(self, account_id, token, email, ip, user_agent, now):
        if self._tables["accounts"].get(account_id) is None:
            return False
        if token is None or email is None:
            raise IntegrityError("a reset-password token needs its token and e-mail")
        self._insert("reset_password_email_tokens", token=token, used=False, email=email,
                     account_id=account_id, ip=ip, user_agent=user_agent,
                     created_at=_utc(now), updated_at=_utc(now))
        return True

    def _reset_password_row(self, token):
        return self._exact("reset_password_email_tokens", token)

    @_answer
    def reset_password_token(self, token):
        row = self._reset_password_row(token)
        if row is None:
            return None
        return ResetPasswordToken(row["id"], row["account_id"], row["token"], row["email"],
                                  row["used"], row["created_at"], row["ip"], row["user_agent"])

    @_answer
    def use_reset_password_token(self, token, not_before, now):
        row = self._reset_password_row(token)
        if row is None or row["used"] or row["created_at"] is None or row["created_at"] < _utc(not_before):
            return None
        row.update(used=True, updated_at=_utc(now))
        return row["account_id"]

    # ---------------------------------------------------------- IWebSessionStore

    def _web_session_row(self, id_hash):
        rows = self._rows("famd_sessions", id_hash=id_hash)
        return rows[0] if rows else None

    @_answer
    def add_web_session(self, id_hash, account_id, now):
        self._require_account(account_id)
        if id_hash is None or self._web_session_row(id_hash) is not None:
            raise IntegrityError("a session needs a unique id hash")
        self._insert("famd_sessions", id_hash=id_hash, account_id=account_id,
                     created_at=_utc(now), last_seen_at=_utc(now))

    @_answer
    def web_session(self, id_hash, idle_since, created_since):
        row = self._web_session_row(id_hash)
        if row is None or row["last_seen_at"] < _utc(idle_since) or row["created_at"] < _utc(created_since):
            return None
        return WebSession(row["account_id"], row["created_at"], row["last_seen_at"])

    @_answer
    def touch_web_session(self, id_hash, now):
        row = self._web_session_row(id_hash)
        if row is None:
            return False
        row["last_seen_at"] = _utc(now)
        return True

    @_answer
    def delete_web_session(self, id_hash):
        row = self._web_session_row(id_hash)
        return self._delete("famd_sessions", [row] if row is not None else []) == 1

    @_answer
    def delete_account_web_sessions(self, account_id, keep=None):
        rows = [row for row in self._rows("famd_sessions", account_id=account_id)
                if row["id_hash"] != keep]
        return self._delete("famd_sessions", rows)

    @_answer
    def delete_expired_web_sessions(self, idle_before, created_before):
        rows = [row for row in self._rows("famd_sessions")
                if row["last_seen_at"] < _utc(idle_before) or row["created_at"] < _utc(created_before)]
        return self._delete("famd_sessions", rows)

    # ---------------------------------------------------------- IAccountAdminStore

    def _matches(self, row, text):
        """Whether the accounts row holds C{text} (lower case) as the SQL search finds it."""
        values = [row["username"], row["email"]]
        values += [alias["alias"] for alias in self._rows("aliases", account_id=row["id"])]
        if any(value is not None and text in value.lower() for value in values):
            return True
        if "@" in text:
            user, domain = text.rsplit("@", 1)
            return (row["username"].lower().endswith(user)
                    and row["domain"].lower().startswith(domain))
        return False

    @_answer
    def search_accounts(self, text, activated, admin, blocked, offset, limit):
        text = search_terms(text)
        rows = [
            row for row in self._tables["accounts"].values()
            if (text is None or self._matches(row, text))
            and (activated is None or bool(row["activated"]) == bool(activated))
            and (blocked is None or bool(row.get("blocked", False)) == bool(blocked))
            and (admin is None or bool(self._rows("admins", account_id=row["id"])) == bool(admin))
        ]
        page = rows[offset:offset + limit] if limit > 0 else []
        return [self._account(row, full=False) for row in page], len(rows)

    @_answer
    def api_key_made(self, account_id):
        keys = self._rows("api_keys", account_id=account_id)
        return keys[0]["created_at"] if keys else None

    @_answer
    def delete_api_key(self, account_id):
        return self._delete("api_keys", self._rows("api_keys", account_id=account_id)) > 0
