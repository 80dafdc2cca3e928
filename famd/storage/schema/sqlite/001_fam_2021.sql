-- The 2021 account manager's tables, exactly as its migrations created them.
-- IF NOT EXISTS everywhere: on a database FAM already made, nothing is touched.
-- FAM's Laravel housekeeping tables (migrations, users, password_resets, failed_jobs) are not famd's and are not created.
CREATE TABLE IF NOT EXISTS "accounts" ("id" integer not null primary key autoincrement, "username" varchar not null, "domain" varchar not null, "email" varchar, "activated" tinyint(1) not null default '0', "confirmation_key" varchar, "ip_address" varchar not null, "user_agent" varchar not null, "creation_time" datetime not null, "expire_time" datetime);
CREATE TABLE IF NOT EXISTS "passwords" ("id" integer not null primary key autoincrement, "account_id" integer not null, "password" varchar not null, "algorithm" varchar not null default 'MD5', foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE TABLE IF NOT EXISTS "nonces" ("id" integer not null primary key autoincrement, "account_id" integer not null, "nonce" varchar not null, "nc" integer not null default '0', "created_at" datetime, "updated_at" datetime, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE TABLE IF NOT EXISTS "admins" ("id" integer not null primary key autoincrement, "account_id" integer not null, "created_at" datetime, "updated_at" datetime, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE TABLE IF NOT EXISTS "email_changed" ("id" integer not null primary key autoincrement, "account_id" integer not null, "new_email" varchar not null, "hash" varchar not null, "created_at" datetime, "updated_at" datetime, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE UNIQUE INDEX IF NOT EXISTS "email_changed_account_id_unique" on "email_changed" ("account_id");
CREATE TABLE IF NOT EXISTS "api_keys" ("id" integer not null primary key autoincrement, "account_id" integer not null, "key" varchar not null, "created_at" datetime, "updated_at" datetime, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE UNIQUE INDEX IF NOT EXISTS "api_keys_account_id_unique" on "api_keys" ("account_id");
CREATE UNIQUE INDEX IF NOT EXISTS "api_keys_key_unique" on "api_keys" ("key");
CREATE TABLE IF NOT EXISTS "aliases" ("id" integer not null primary key autoincrement, "account_id" integer not null, "alias" varchar not null, "domain" varchar not null, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE TABLE IF NOT EXISTS "phone_change_codes" ("id" integer not null primary key autoincrement, "account_id" integer not null, "code" varchar not null, "phone" varchar not null, "created_at" datetime, "updated_at" datetime, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE TABLE IF NOT EXISTS "tokens" ("id" integer not null primary key autoincrement, "token" varchar not null, "pn_provider" varchar not null, "pn_param" varchar not null, "pn_prid" varchar not null, "used" tinyint(1) not null default '0', "created_at" datetime, "updated_at" datetime);
CREATE INDEX IF NOT EXISTS "tokens_token_index" on "tokens" ("token");
CREATE INDEX IF NOT EXISTS "tokens_pn_provider_pn_param_pn_prid_index" on "tokens" ("pn_provider", "pn_param", "pn_prid");
CREATE TABLE IF NOT EXISTS "activation_expirations" ("id" integer not null primary key autoincrement, "account_id" integer not null, "expires" datetime not null, "created_at" datetime, "updated_at" datetime, foreign key("account_id") references "accounts"("id") on delete cascade);
