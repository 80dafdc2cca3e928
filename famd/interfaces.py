"""
The contracts between famd's core and its backends.

Every backend (storage, e-mail, SMS, push, registrar, provisioning hooks) is a
provider of one of these interfaces, chosen by name in ``famd.yaml`` and found
as a ``twisted.plugin`` plugin (see ``famd.backends``).  Methods are declared
without ``self``; each docstring says what the returned Deferred fires with and
how it fails.  The storage contract is split by concern; ``IStorage`` is their
union and is what a storage backend provides.
"""

from zope.interface import Attribute, Interface


# ---------------------------------------------------------------- plugins


class IBackend(Interface):
    """
    A named, configurable backend, declared in ``famd/plugins/`` (or in any
    third-party ``famd.plugins`` drop-in) and built from its ``famd.yaml``
    section.
    """

    kind = Attribute(
        "What the backend provides: 'storage', 'email', 'sms', 'push', "
        "'registrar' or 'provisioning'."
    )
    name = Attribute("The name an operator writes in famd.yaml, e.g. 'sqlite'.")
    description = Attribute("One line shown in error messages and listings.")
    options = Attribute(
        "A sequence of famd.options.Option: the keys allowed beside 'backend'."
    )

    def build(options, context):
        """
        Create the provider.

        @param options: the validated options, a mapping of key to value
            with every default filled in.
        @param context: a L{famd.backends.BackendContext} (reactor, config).
        @return: the provider of the interface matching C{kind}.
        """


# ---------------------------------------------------------------- notifiers


class DeliveryFailed(Exception):
    """
    A message could not be handed to its transport.  The message (str) says
    why, without any secret: it is logged as it is.
    """


class DeliveryTimedOut(DeliveryFailed):
    """The transport gave no answer within the notifier's timeout (a L{DeliveryFailed})."""


class IEmailSender(Interface):
    """Sends e-mails."""

    def send(to, subject, text, html=None):
        """
        Send one message to one address.

        @param to: the recipient address.
        @param subject: the subject line (str).
        @param text: the plain-text body (str).
        @param html: an optional HTML alternative body (str or None).
        @return: a Deferred firing with None once the message was accepted by
            the next hop, or failing with L{DeliveryFailed}.
        """


class ISMSSender(Interface):
    """Sends SMS text messages."""

    def send(phone, text):
        """
        Send C{text} to the E.164 number C{phone}.

        @return: a Deferred firing with None once the provider accepted the
            message, or failing with L{DeliveryFailed}.
        """


class IPushSender(Interface):
    """Sends push notifications to a mobile device."""

    def send(pn_provider, pn_param, pn_prid, payload):
        """
        Push C{payload} (a JSON-serialisable dict) to one device.

        @return: a Deferred firing with None once the notification was
            delivered to the provider, or failing with L{DeliveryFailed}.
        """


# ---------------------------------------------------------------- registrar


class RegistrarUnavailable(Exception):
    """
    The registrar (Flexisip, its Redis) could not be reached or answered
    something unusable.  The message says why, without secrets.
    """


class IRegistrar(Interface):
    """Reads and removes the devices (bindings) Flexisip holds for a user."""

    def list_devices(username, domain):
        """
        @return: a Deferred firing with a list of L{famd.registrar.Device},
            or failing with L{RegistrarUnavailable}.
        """

    def remove_device(username, domain, uuid):
        """
        Remove the binding whose public id (``urn:uuid:...``, no quotes or
        angle brackets) is C{uuid}.

        @return: a Deferred firing with True when a binding was removed,
            False when the user has no such device, or failing with
            L{RegistrarUnavailable}.
        """


# ---------------------------------------------------------------- provisioning


class IProvisioningHook(Interface):
    """
    Extends the provisioning document (the counterpart of the 2021 account
    manager's provisioning hooks).  Each method returns plain data; the
    document builder escapes it.
    """

    def proxy_entries(request, account):
        """
        Extra entries for the account's ``proxy_N`` section.

        @param request: a L{famd.provisioning.ProvisioningRequest} (query
            arguments, headers).
        @param account: the provisioned L{famd.model.Account}.
        @return: a list of (key, value) str pairs.
        """

    def auth_entries(request, account, password):
        """
        Extra entries for one ``auth_info_N`` section.

        @param password: the L{famd.model.Password} the section is for.
        @return: a list of (key, value) str pairs.
        """

    def extra_sections(request, account):
        """
        Whole extra sections, appended after the account's sections.

        @param account: the provisioned account, or None when the document
            carries only the defaults.
        @return: a list of (section name, [(key, value), ...]).
        """


# ---------------------------------------------------------------- storage


class StorageUnavailable(Exception):
    """The database cannot be reached right now (the API answers 503)."""


class SchemaTooNew(Exception):
    """The database was migrated by a newer famd than this one."""


class IStorageLifecycle(Interface):
    """Opening and closing a storage backend."""

    def open():
        """
        Create or upgrade the schema, then accept calls.

        @return: a Deferred firing with the schema version (int), or failing
            with L{SchemaTooNew} or L{StorageUnavailable}.
        """

    def migrate_blocking():
        """
        Blocking: create or upgrade the schema now and return its version.
        Only for start-up and the ``famd`` command, before the reactor runs.

        @raise SchemaTooNew: the database is ahead of this famd.
        """

    def close():
        """
        Stop accepting calls, finish the running ones, release connections.

        @return: a Deferred firing with None.
        """

    def ready(timeout):
        """
        Whether the database answers: run a trivial query (readiness).

        @param timeout: seconds the database has to answer.
        @return: a Deferred firing with None once it answered, or failing
            with L{StorageUnavailable} when it did not (an error, or no
            answer within C{timeout}).
        """


class IAccountStore(Interface):
    """
    Accounts and the rows that hang off them (passwords, admin, key, alias).

    Storage answers with L{famd.model} values, never database text: every
    time is an aware UTC datetime at whole seconds, or None when absent or
    when the stored value is not a time.  Times given to it are aware
    datetimes.  Any int is a valid account id to ask about: one no row can
    have (wider than the id column, negative) is an unknown account, None
    or False like any other, on every engine.
    """

    def create_account(new_account):
        """
        Insert a L{famd.model.NewAccount}: the account, its passwords, its
        admin row, alias, activation expiration and API key, in one
        transaction.  When C{new_account.token} is set, that token is
        consumed in the same transaction.

        @return: a Deferred firing with the new account's id, or failing
            with L{famd.errors.Conflict} (naming the field that clashed:
            'username', 'phone' or 'token').
        """

    def create_and_load_account(new_account):
        """
        Like L{create_account}, in the same single transaction, but fire
        with the new L{famd.model.Account} as L{get_account} loads it.
        """

    def account_conflicts(username, domain, phone):
        """
        Which of C{username} (within C{domain}) and C{phone} (an alias or a
        username of any account) are already used; None skips a check.

        @return: a Deferred firing with a list among 'username', 'phone'.
        """

    def get_account(account_id):
        """
        @return: a Deferred firing with the L{famd.model.Account} (passwords,
            admin, alias, expiration and pending e-mail change loaded), or
            None (no such account, whatever the int C{account_id}).
        """

    def find_account(username, domain):
        """
        @return: a Deferred firing with the L{famd.model.Account} whose
            username and domain are these, or None.
        """

    def list_accounts(offset, limit):
        """
        One page of accounts ordered by id (an C{offset} past the end, however
        large, gives an empty page).

        @return: a Deferred firing with (list of L{famd.model.Account}
            without passwords, total number of accounts).
        """

    def delete_account(account_id):
        """
        Delete the account and everything that references it.

        @return: a Deferred firing with True, or False when no such account
            (whatever the int C{account_id}).
        """

    def set_activated(account_id, activated):
        """
        @return: a Deferred firing with the updated L{famd.model.Account},
            or None when no such account (whatever the int C{account_id}).
        """

    def set_admin(account_id, admin, now):
        """
        Give or take administrator rights (C{now}: an aware datetime).

        @return: a Deferred firing with True, or False when no such account.
        """

    def set_api_key(account_id, key, now):
        """
        Create or replace the account's API key (C{now}: an aware datetime).

        @return: a Deferred firing with True, or False when no such account.
        """

    def replace_passwords(account_id, passwords):
        """
        Replace all the account's passwords by C{passwords}, a list of
        L{famd.model.Password}, in one transaction, which also ends the
        account's panel sessions (L{IWebSessionStore}), as every
        replacement of an account's passwords does.

        @return: a Deferred firing with True, or False when no such account.
        """

    def list_unconfirmed(created_before):
        """
        @return: a Deferred firing with the list of L{famd.model.Account}
            (without passwords) not activated and created before that UTC
            datetime.
        """

    def delete_accounts(account_ids):
        """
        Delete several accounts in one transaction.

        @return: a Deferred firing with the number deleted.
        """

    def phone_in_use(phone):
        """
        @return: a Deferred firing with True when C{phone} is an alias or a
            username of any account.
        """


class INonceStore(Interface):
    """DIGEST nonces, shared by every famd process on the database."""

    def create_nonce(account_id, nonce, now):
        """
        Record a nonce as issued (count 0): famd itself no longer does (a
        challenge writes nothing, see L{use_nonce}); imports and tests do.

        @return: a Deferred firing with None.
        """

    def use_nonce(account_id, nonce, nc, not_before, now, issued=None, blocking=()):
        """
        Atomically raise the nonce's count to C{nc} if it is lower, so that
        of concurrent requests with the same (nonce, nc) exactly one wins.

        A nonce has a row only once used.  Without one, the use is accepted
        only when C{issued} is given (famd vouches for the nonce, issued at
        that aware UTC datetime, recently enough for a first use) and C{nc}
        is 1: the row is then created, issued at C{issued}, in the same
        transaction (a unique index keeps it one row).  A nonce whose row
        was deleted is therefore invalid for any count but a fresh first
        use.  A replayed nonce is burnt: its row stays and refuses every
        later count.

        @param nc: the count, an int; one wider than the ``nc`` column
            (2**31 or more, which 8 hex digits allow) is 'invalid'.
        @param not_before: nonces created before this UTC datetime are
            expired and treated as unknown.
        @param blocking: (scope, limit, since) triples of
            L{IRateLimitStore} buckets: when one holds C{limit} events
            after C{since}, nothing changes and the answer is 'limited'.
        @return: a Deferred firing with 'ok', 'replayed' (known nonce, count
            not greater), 'invalid' (unknown, expired or burnt nonce) or
            'limited'.
        """

    def delete_nonces(not_used_since):
        """
        Delete nonces whose last use (or creation) is before that datetime,
        in transactions of at most C{nonce_batch} rows each (an attribute of
        the provider, 1,000 on the SQL engines) until none is left, so that
        purging a flood of expired rows never holds the database's locks
        for long.

        @return: a Deferred firing with the number deleted.
        """

    def get_setting(name, default):
        """
        A deployment-wide value (e.g. the digest opaque): return the stored
        value, storing C{default} first if there is none.  Every process
        sharing the database gets the same answer.

        @return: a Deferred firing with the str value.
        """


class IProvisioningStore(Interface):
    """Single-use provisioning of an account by its confirmation key."""

    def consume_confirmation_key(key, now, unless_blocked=False):
        """
        Atomically clear the confirmation key C{key} (matched exactly) of
        the account holding it, if the account's activation has not expired
        at C{now}, so that two simultaneous requests cannot both receive the
        credentials.

        @param unless_blocked: when true, a blocked account's key is left as
            it is (nothing is written) and the Deferred fires with that
            blocked account, which the caller must refuse.
        @return: a Deferred firing with the L{famd.model.Account} (passwords
            loaded) that held the key, or None (unknown, expired or already
            consumed).
        """

    def confirmation_key_valid(key, now):
        """
        @return: a Deferred firing with True when an account holds C{key}
            and its activation has not expired at C{now}.
        """


class ITokenStore(Interface):
    """Account-creation tokens pushed to devices (``tokens`` rows)."""

    def token_refusal(pn_provider, pn_param, pn_prid, limit):
        """
        Whether the device may be sent a new token.

        @param limit: how many tokens one device may ever receive.
        @return: a Deferred firing with None (it may), 'pending' (an unused
            token exists for the device) or 'limit' (it already received
            C{limit} tokens).
        """

    def add_token(token, pn_provider, pn_param, pn_prid, limit, now):
        """
        Store a token that was just sent, unused, unless the rules of
        L{token_refusal} now refuse it (checked again in the same
        transaction, so concurrent requests cannot store two).

        @return: a Deferred firing with None when stored, else the refusal
            ('pending' or 'limit') and nothing is stored.
        """

    def unused_token(token):
        """
        @return: a Deferred firing with the stored text of the unused token
            equal to C{token} (compare it in constant time: some engines
            compare text case-insensitively), or None.
        """


class ICodeStore(Interface):
    """
    Single-use secrets: activation codes (``accounts.confirmation_key``),
    pending phone changes (``phone_change_codes``) and pending e-mail changes
    (``email_changed``).  Every "apply" is a conditional write on the code
    read before, so of concurrent requests with one code exactly one wins.
    """

    def activate_with_code(account_id, code):
        """
        Activate the account and clear its confirmation key, if that key is
        still C{code}.

        @return: a Deferred firing with the updated L{famd.model.Account},
            or None (the key changed or the account is gone).
        """

    def phone_taken(phone, account_id):
        """
        @return: a Deferred firing with True when C{phone} is an alias or a
            username of an account other than C{account_id}.
        """

    def set_phone_change(account_id, phone, code, now, ip=None, user_agent=None):
        """
        Record a pending phone change, replacing the account's previous one,
        asked for at C{now} from the client address C{ip} with the
        ``User-Agent`` C{user_agent} (str or None).

        @return: a Deferred firing with None.
        """

    def phone_change(account_id):
        """
        @return: a Deferred firing with the account's pending
            L{famd.model.PhoneChange} (its C{code} to be compared in
            constant time, its C{created_at}), or None.
        """

    def apply_phone_change(account_id, code):
        """
        If the pending change still has C{code}: remove it, make its phone
        the account's only alias and activate the account, in one
        transaction.

        @return: a Deferred firing with the updated L{famd.model.Account},
            or None (no such pending change), or failing with
            L{famd.errors.Conflict}('phone') when another account took the
            number meanwhile (then nothing changes).
        """

    def drop_phone_change(account_id, code):
        """
        Remove the pending change if it still has C{code}.

        @return: a Deferred firing with True when a row was removed.
        """

    def set_email_change(account_id, new_email, secret, now):
        """
        Record a pending e-mail change confirmed by the link secret
        C{secret}, replacing the account's previous one.

        @return: a Deferred firing with None.
        """

    def email_change(secret):
        """
        @return: a Deferred firing with the pending L{famd.model.EmailChange}
            whose secret is C{secret} (C{account_id}, C{new_email},
            C{created_at} datetime or None, and the stored C{secret}: compare
            it in constant time, some engines compare text
            case-insensitively), or None.
        """

    def apply_email_change(account_id, secret):
        """
        If the pending change still has C{secret}: remove it (and the
        account's pending 2.x codes, L{ILinkingStore}), set the account's
        e-mail to its new address and activate the account, in one
        transaction.

        @return: a Deferred firing with the new address, or None.
        """

    def drop_email_change(account_id, secret):
        """
        Remove the pending change if it still has C{secret}.

        @return: a Deferred firing with True when a row was removed.
        """


class ILinkingStore(Interface):
    """
    FAM 2.x's linking of an e-mail address to an account by a 4-digit code
    (``email_change_codes``), beside the 2021 link (``email_changed``):
    one request records both, either confirms the change and removes both.
    """

    def request_email_change(account_id, new_email, secret, code, now, ip=None, user_agent=None):
        """
        Make C{new_email} the account's one pending e-mail change, confirmed
        by the 2021 link secret C{secret} or by the 2.x C{code}, replacing
        the previous one, in one transaction (C{ip}, C{user_agent}: who
        asked, str or None).

        @return: a Deferred firing with None.
        """

    def email_code(account_id):
        """
        @return: a Deferred firing with the account's pending
            L{famd.model.EmailCode} (its C{code} to be compared in constant
            time), or None.
        """

    def apply_email_code(account_id, code):
        """
        If the pending code is still C{code}: remove it and the pending
        2021 link, set the account's e-mail to its address and activate the
        account, in one transaction.  Of concurrent calls with one code,
        exactly one applies it.

        @return: a Deferred firing with the updated L{famd.model.Account},
            or None (no such pending code).
        """

    def drop_email_code(account_id, code):
        """
        Remove the pending code if it is still C{code} (the 2021 link
        stays).

        @return: a Deferred firing with True when a row was removed.
        """

    def creation_token_consumed(account_id):
        """
        @return: a Deferred firing with True when a used account-creation
            token (``tokens``) names the account (``tokens.account_id``):
            FAM 2.x's "validated" account.
        """


class IRateLimitStore(Interface):
    """
    Counted events (``famd_code_failures``: wrong secrets, anonymous writes,
    messages sent) by scope, counted in the database so that a limit holds
    across every famd process (see L{famd.throttle}).
    """

    def reserve_attempt(scopes, limit, since, now):
        """
        In one transaction: forget the events of C{scopes} not after
        C{since}; if any of C{scopes} (str, at most 191 characters) has
        C{limit} or more events after C{since}, refuse; otherwise record one
        event at C{now} for each scope (to be forgotten if the attempt
        succeeds).  Transactions doing this are serialized, so the limit
        holds for simultaneous attempts in any number of processes.

        @return: a Deferred firing with (ids, None) when the attempt may go
            on, ids being the recorded rows, or ((), oldest) when refused:
            C{oldest} is the time (aware UTC datetime) of the event whose
            expiry lets the busiest scope try again.
        """

    def forget_attempts(ids):
        """
        Delete the event rows C{ids} (an attempt that did not fail).

        @return: a Deferred firing with the number deleted.
        """

    def count_attempts(scope, since):
        """
        @return: a Deferred firing with the number of events of C{scope}
            after C{since}.
        """

    def forget_expired_attempts(before):
        """
        Delete every event not after C{before}, whatever its scope.

        @return: a Deferred firing with the number deleted.
        """


class IProvisioningTokenStore(Interface):
    """
    FAM 2.x's provisioning tokens (``provisioning_tokens``): an account's
    current token is its newest unused one; issuing a token retires the
    account's older unused ones.  Tokens match exactly (case counts).
    """

    def issue_provisioning_token(account_id, token, now, ip=None, user_agent=None):
        """
        Make C{token} the account's current provisioning token, issued at
        C{now} (an aware datetime) by a client at C{ip} with C{user_agent};
        the account's other unused tokens become used, in one transaction.

        @return: a Deferred firing with True, or False when no such account.
        """

    def current_provisioning_token(account_id):
        """
        @return: a Deferred firing with the account's current
            L{famd.model.IssuedToken}, or None.
        """

    def consume_provisioning_token(token, expired_before, now, new_passwords=None):
        """
        Atomically mark the current token C{token} used and activate its
        account, so that of concurrent requests exactly one gets the account.
        A blocked account's token is refused in that transaction, before
        anything is written.

        @param expired_before: a token issued before this aware datetime
            is expired (and left unused); None: tokens never expire.
        @param new_passwords: None, or a function of the account (a
            L{famd.model.Account}) returning the L{famd.model.Password}
            rows that replace all its passwords, in the same transaction.
        @return: a Deferred firing with ('ok', the activated
            L{famd.model.Account}, passwords loaded), or (refusal, None):
            'unknown' (no token has this text), 'stale' (used, or no longer
            its account's current token), 'expired' or 'blocked' (the
            account is blocked: the token stays unused, the account as it
            was).
        """

    def provisioning_token_unused(token):
        """
        @return: a Deferred firing with True when an unused row holds
            C{token} (current or not, expired or not).
        """


class IAuthTokenStore(Interface):
    """
    FAM 2.x's auth tokens (``auth_tokens``), the QR login: made anonymously,
    attached to an account by that account, then traded once.  Tokens match
    exactly (case counts).
    """

    def add_auth_token(token, now, ip=None, user_agent=None):
        """
        Store a new, unattached token made at C{now} (an aware datetime).

        @return: a Deferred firing with its id.
        """

    def attach_auth_token(token, account_id, not_before, now):
        """
        Attach the unattached C{token}, made at C{not_before} or later, to
        the account; of concurrent attaches exactly one wins.

        @return: a Deferred firing with True, or False (unknown, too old or
            already attached).
        """

    def take_auth_token(token, not_before, new_passwords=None):
        """
        Delete the attached C{token}, made at C{not_before} or later; of
        concurrent takes exactly one gets the account.  A blocked account
        is refused in that transaction, before anything is written.

        @param new_passwords: None, or a function of the account (a
            L{famd.model.Account}) returning the L{famd.model.Password}
            rows that replace all its passwords, in the same transaction.
        @return: a Deferred firing with the attached L{famd.model.Account}
            (passwords loaded), or None (unknown, too old or unattached).
            A blocked account is given as it is, its token kept and its
            passwords untouched: the caller must refuse it.
        """

    def delete_auth_tokens(created_before):
        """
        Delete the tokens made before that aware datetime.

        @return: a Deferred firing with the number deleted.
        """


class ISignUpStore(Interface):
    """
    FAM 2.x sign-up: account-creation tokens of either API generation
    (``tokens`` rows) and desktop request tokens
    (``account_creation_request_tokens``).  Tokens are matched by their
    exact text; every single use is atomic (of concurrent uses exactly one
    wins).  Times are aware datetimes; tokens come back as
    L{famd.model.CreationToken} and L{famd.model.RequestToken}.
    """

    def device_tokens(pn_provider, pn_param, pn_prid, since):
        """
        @return: a Deferred firing with the (created_at, used) pairs of the
            device's tokens created after C{since}, oldest first.
        """

    def add_device_token(token, pn_provider, pn_param, pn_prid, ip, user_agent, now, since):
        """
        Store a token just pushed to the device, unused, replacing the
        device's unused tokens that no account holds, unless (checked again
        in the same serialized transaction) a token of the device created
        after C{since} was used.

        @return: a Deferred firing with None when stored, else the creation
            time of the device's latest used token created after C{since}
            (nothing stored).
        """

    def add_plain_token(token, ip, user_agent, now):
        """
        Store an unused token made without a device (empty ``pn_*``).

        @return: a Deferred firing with its L{famd.model.CreationToken}.
        """

    def creation_token(token):
        """
        @return: a Deferred firing with the L{famd.model.CreationToken}
            whose text is C{token}, used or not, or None.
        """

    def consume_creation_token(token, account_id, ip, user_agent, now):
        """
        Mark the unused token C{token} that no account holds used by
        C{account_id}, recording C{ip} and C{user_agent}.

        @return: a Deferred firing with the token as now stored, or None.
        """

    def add_request_token(token, now):
        """
        Store a new request token, unused and not validated.

        @return: a Deferred firing with None.
        """

    def request_token(token):
        """
        @return: a Deferred firing with the L{famd.model.RequestToken} whose
            text is C{token}, or None.
        """

    def validate_request_token(token, ip, user_agent, now):
        """
        Mark the unused, not yet validated request token C{token} validated
        at C{now} (a person passed the check, from C{ip} with C{user_agent}).

        @return: a Deferred firing with True, or False (unknown, used or
            already validated).
        """

    def trade_request_token(token, creation_token, ip, user_agent, now):
        """
        In one transaction: mark the validated, unused request token
        C{token} used, store the creation token C{creation_token} (no
        device, C{ip}, C{user_agent}) and link it from the request token.

        @return: a Deferred firing with the new L{famd.model.CreationToken},
            or None (unknown, not validated or already used: nothing changes).
        """


class IRecoveryTokenStore(Interface):
    """
    Recovery tokens pushed to a device (``account_recovery_tokens``), as
    L{famd.model.RecoveryToken}; used once, atomically, before they expire.
    """

    def recovery_used_since(pn_provider, pn_param, pn_prid, since):
        """
        @return: a Deferred firing with the creation time of the device's
            latest used recovery token created after C{since}, or None.
        """

    def add_recovery_token(token, pn_provider, pn_param, pn_prid, ip, user_agent, now, since):
        """
        Store a recovery token just pushed to the device, unused, unless
        (checked again in the same serialized transaction)
        L{recovery_used_since}(C{since}) finds one.

        @return: a Deferred firing with None when stored, else that time.
        """

    def recovery_token(token, not_before):
        """
        @return: a Deferred firing with the unused L{famd.model.RecoveryToken}
            whose text is C{token}, created at or after C{not_before} (older
            ones have expired), or None.
        """

    def use_recovery_token(token, account_id, not_before, now):
        """
        Mark the token L{recovery_token} would find used, for C{account_id}
        (the recovered account, or None).

        @return: a Deferred firing with the token as it was before, or None.
        """


class IAdminStore(Interface):
    """
    What FAM 2.x's administrator routes write beside the 2021 account
    operations: a whole account rewritten at once, blocking, the lookup
    by e-mail, and single-use reset-password links
    (``reset_password_email_tokens``).
    """

    def update_account(account_id, changes, now):
        """
        Apply a L{famd.model.AccountChanges} in one transaction (C{now}: an
        aware datetime, for an admin row it creates): the columns, the
        phone (the account's only alias, or none), the passwords, admin
        rights, activation and blocking.

        @return: a Deferred firing with the updated L{famd.model.Account},
            or None when no such account (whatever the int C{account_id}),
            or failing with L{famd.errors.Conflict} ('username': another
            account of the account's domain has it; 'phone': another
            account has it as alias or username), and then nothing changes.
        """

    def set_blocked(account_id, blocked):
        """
        @return: a Deferred firing with the updated L{famd.model.Account},
            or None when no such account (whatever the int C{account_id}).
        """

    def find_account_by_email(email):
        """
        @return: a Deferred firing with the L{famd.model.Account} of lowest
            id whose e-mail is C{email}, or None.
        """

    def find_account_by_phone(phone):
        """
        @return: a Deferred firing with the L{famd.model.Account} whose
            phone number (alias) is C{phone}, else the one of lowest id
            whose username is C{phone} (in any domain), or None.
        """

    def add_reset_password_token(account_id, token, email, ip, user_agent, now):
        """
        Store an unused reset-password link token for the account, mailed
        to C{email}, asked for from C{ip} with C{user_agent} (both may be
        None) at C{now} (an aware datetime).

        @return: a Deferred firing with True, or False when no such account.
        """

    def reset_password_token(token):
        """
        @return: a Deferred firing with the L{famd.model.ResetPasswordToken}
            whose token is exactly C{token} (used or not), or None.
        """

    def use_reset_password_token(token, not_before, now):
        """
        Atomically mark the token used if it is unused and was created at
        or after C{not_before} (an aware datetime), so that of concurrent
        uses exactly one wins.

        @return: a Deferred firing with the account id of the token, or
            None (unknown, already used or expired).
        """


class IWebSessionStore(Interface):
    """
    The account panel's sessions (``famd_sessions``), shared by every famd
    process.  A session is stored once it is bound to an account (at
    login); it is named by C{id_hash}, the hex SHA-256 of the session id
    its cookie holds (the id itself is never stored).  Times are aware
    datetimes.  Whatever replaces an account's passwords (a password
    change, a reset, an administrator's edit, a provisioning token that
    resets them) ends its sessions in the same transaction.
    """

    def add_web_session(id_hash, account_id, now):
        """
        Store a session of the account, made and last seen at C{now}.

        @return: a Deferred firing with None; it fails with the engine's
            integrity error when the account does not exist.
        """

    def web_session(id_hash, idle_since, created_since):
        """
        The session named C{id_hash} if it was last seen at C{idle_since}
        or later and made at C{created_since} or later.

        @return: a Deferred firing with a L{famd.model.WebSession}, or None.
        """

    def touch_web_session(id_hash, now):
        """
        Record that the session was seen at C{now}.

        @return: a Deferred firing with True, or False when no row has it.
        """

    def delete_web_session(id_hash):
        """
        Revoke one session (logout).

        @return: a Deferred firing with True, or False when no row had it.
        """

    def delete_account_web_sessions(account_id, keep=None):
        """
        Revoke every session of the account, except the one named C{keep}
        (an C{id_hash}) when given.

        @return: a Deferred firing with the number revoked.
        """

    def delete_expired_web_sessions(idle_before, created_before):
        """
        Delete the sessions last seen before C{idle_before} or made before
        C{created_before}.

        @return: a Deferred firing with the number deleted.
        """


class IAccountAdminStore(Interface):
    """
    What the account panel's administrator pages read and write beyond
    L{IAccountStore} and L{IAdminStore}: a filtered search of the accounts,
    and an account's API key looked at (when it was made) and revoked.
    """

    def search_accounts(text, activated, admin, blocked, offset, limit):
        """
        One page of the accounts ordered by id that match every filter:
        C{text} (None or empty: any) found, ignoring case, within the
        username, the SIP address (C{username@domain}, a leading C{sip:}
        ignored), the e-mail or the phone alias; C{activated}, C{admin}
        (an admins row) and C{blocked} each True, False or None (any).

        @return: a Deferred firing with (list of L{famd.model.Account}
            without passwords, number of matching accounts).
        """

    def api_key_made(account_id):
        """
        @return: a Deferred firing with the aware datetime the account's
            API key was made at, or None when it has none (or no such
            account).
        """

    def delete_api_key(account_id):
        """
        Revoke the account's API key.

        @return: a Deferred firing with True, or False when it had none.
        """


class IStorage(
    IStorageLifecycle,
    IAccountStore,
    INonceStore,
    IProvisioningStore,
    ITokenStore,
    ICodeStore,
    IRateLimitStore,
    IProvisioningTokenStore,
    IAuthTokenStore,
    ISignUpStore,
    IRecoveryTokenStore,
    IAdminStore,
    ILinkingStore,
    IWebSessionStore,
    IAccountAdminStore,
):
    """Everything a storage backend provides."""


class IPanelAccount(Interface):
    """
    The account logged in to the account panel (a L{famd.model.Account}),
    as a C{klein.Authorization} of the session finds it (L{famd.panel}).
    """


class IPanelAdmin(Interface):
    """The logged-in account of the account panel when it is an administrator."""
