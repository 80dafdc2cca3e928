"""
The storage operations, once for every SQL engine.

L{SQLStorage} implements L{famd.interfaces.IStorage} by sending one ``*_txn``
function per operation to its engine's pool: a subclass only says how to run
a function in a transaction off the reactor thread (C{_run}) and how to open
and close.  Times given as datetimes are turned into the database's text form
here, once.
"""

from famd.storage.times import to_db
from famd.storage import sql_accounts as accounts
from famd.storage import sql_codes as codes
from famd.storage import sql_nonces as nonces
from famd.storage import sql_provisioning as provisioning
from famd.storage import sql_tokens as tokens


class SQLStorage:
    """
    The shared operations.  Subclasses implement C{_run(write, function,
    *args)}: call C{function(txn, *args)} in a transaction on a storage
    thread and return a Deferred of its result; C{write} says whether the
    transaction may write (engines use it to take the write lock early).
    """

    def read(self, function, *args):
        return self._run(False, function, *args)

    def write(self, function, *args):
        return self._run(True, function, *args)

    # IAccountStore

    def create_account(self, new_account):
        return self.write(accounts.create_account_txn, new_account)

    def create_and_load_account(self, new_account):
        return self.write(accounts.create_and_load_account_txn, new_account)

    def account_conflicts(self, username, domain, phone):
        return self.read(accounts.account_conflicts_txn, username, domain, phone)

    def get_account(self, account_id):
        return self.read(accounts.get_account_txn, account_id)

    def find_account(self, username, domain):
        return self.read(accounts.find_account_txn, username, domain)

    def list_accounts(self, offset, limit):
        return self.read(accounts.list_accounts_txn, offset, limit)

    def delete_account(self, account_id):
        return self.write(accounts.delete_account_txn, account_id)

    def set_activated(self, account_id, activated):
        return self.write(accounts.set_activated_txn, account_id, activated)

    def set_admin(self, account_id, admin, now):
        return self.write(accounts.set_admin_txn, account_id, admin, to_db(now))

    def set_api_key(self, account_id, key, now):
        return self.write(accounts.set_api_key_txn, account_id, key, to_db(now))

    def replace_passwords(self, account_id, passwords):
        return self.write(accounts.replace_passwords_txn, account_id, tuple(passwords))

    def list_unconfirmed(self, created_before):
        return self.read(accounts.list_unconfirmed_txn, to_db(created_before))

    def delete_accounts(self, account_ids):
        return self.write(accounts.delete_accounts_txn, tuple(account_ids))

    def phone_in_use(self, phone):
        return self.read(accounts.phone_in_use_txn, phone)

    # INonceStore

    def create_nonce(self, account_id, nonce, now):
        return self.write(nonces.create_nonce_txn, account_id, nonce, to_db(now))

    def use_nonce(self, account_id, nonce, nc, not_before, now):
        return self.write(
            nonces.use_nonce_txn, account_id, nonce, nc, to_db(not_before), to_db(now)
        )

    def delete_nonces(self, not_used_since):
        return self.write(nonces.delete_nonces_txn, to_db(not_used_since))

    def get_setting(self, name, default):
        return self.write(nonces.get_setting_txn, name, default)

    # IProvisioningStore

    def consume_confirmation_key(self, key, now):
        return self.write(provisioning.consume_confirmation_key_txn, key, to_db(now))

    def confirmation_key_valid(self, key, now):
        return self.read(provisioning.confirmation_key_valid_txn, key, to_db(now))

    # ITokenStore

    def token_refusal(self, pn_provider, pn_param, pn_prid, limit):
        return self.read(tokens.token_refusal_txn, pn_provider, pn_param, pn_prid, limit)

    def add_token(self, token, pn_provider, pn_param, pn_prid, limit, now):
        return self.write(
            tokens.add_token_txn, token, pn_provider, pn_param, pn_prid, limit, to_db(now)
        )

    def unused_token(self, token):
        return self.read(tokens.unused_token_txn, token)

    # ICodeStore

    def activate_with_code(self, account_id, code):
        return self.write(codes.activate_with_code_txn, account_id, code)

    def phone_taken(self, phone, account_id):
        return self.read(codes.phone_taken_txn, phone, account_id)

    def set_phone_change(self, account_id, phone, code, now):
        return self.write(codes.set_phone_change_txn, account_id, phone, code, to_db(now))

    def phone_change(self, account_id):
        return self.read(codes.phone_change_txn, account_id)

    def apply_phone_change(self, account_id, code):
        return self.write(codes.apply_phone_change_txn, account_id, code)

    def drop_phone_change(self, account_id, code):
        return self.write(codes.drop_phone_change_txn, account_id, code)

    def set_email_change(self, account_id, new_email, secret, now):
        return self.write(codes.set_email_change_txn, account_id, new_email, secret, to_db(now))

    def email_change(self, secret):
        return self.read(codes.email_change_txn, secret)

    def apply_email_change(self, account_id, secret):
        return self.write(codes.apply_email_change_txn, account_id, secret)

    def drop_email_change(self, account_id, secret):
        return self.write(codes.drop_email_change_txn, account_id, secret)

    # IRateLimitStore

    def reserve_attempt(self, scopes, limit, since, now):
        return self.write(
            codes.reserve_attempt_txn, tuple(scopes), limit, to_db(since), to_db(now)
        )

    def forget_attempts(self, ids):
        return self.write(codes.forget_attempts_txn, tuple(ids))
