-- famd's own additions: indexes for its lookups, and its tables.
-- Nothing existing is changed; every object is named famd_*.
CREATE INDEX IF NOT EXISTS "famd_accounts_username_domain_index" on "accounts" ("username", "domain");
CREATE INDEX IF NOT EXISTS "famd_accounts_confirmation_key_index" on "accounts" ("confirmation_key");
CREATE INDEX IF NOT EXISTS "famd_accounts_activated_creation_time_index" on "accounts" ("activated", "creation_time");
CREATE INDEX IF NOT EXISTS "famd_passwords_account_id_index" on "passwords" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_nonces_nonce_index" on "nonces" ("nonce");
CREATE INDEX IF NOT EXISTS "famd_nonces_account_id_index" on "nonces" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_nonces_updated_at_index" on "nonces" ("updated_at");
CREATE INDEX IF NOT EXISTS "famd_admins_account_id_index" on "admins" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_aliases_alias_index" on "aliases" ("alias");
CREATE INDEX IF NOT EXISTS "famd_aliases_account_id_index" on "aliases" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_phone_change_codes_account_id_index" on "phone_change_codes" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_activation_expirations_account_id_index" on "activation_expirations" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_email_changed_hash_index" on "email_changed" ("hash");
CREATE TABLE IF NOT EXISTS "famd_settings" ("name" varchar(64) not null primary key, "value" varchar(255) not null);
CREATE TABLE IF NOT EXISTS "famd_code_failures" ("id" integer not null primary key autoincrement, "scope" varchar(191) not null, "created_at" datetime not null);
CREATE INDEX IF NOT EXISTS "famd_code_failures_scope_created_at_index" on "famd_code_failures" ("scope", "created_at");
