-- The concepts FAM 2.x added, under FAM 2.x's table and column names, beside
-- the 2021 tables (which keep their names and meaning: Flexisip and 2021
-- tools read them).  Only additions: new tables, and new columns that are
-- nullable or have a default.  Account-creation tokens stay in "tokens" for
-- both API generations; a token made without a device (by an administrator,
-- or traded for a validated request token) has empty pn_* values, since the
-- 2021 columns are NOT NULL.
ALTER TABLE "accounts" ADD COLUMN "blocked" tinyint(1) not null default '0';
ALTER TABLE "accounts" ADD COLUMN "display_name" varchar;
ALTER TABLE "accounts" ADD COLUMN "dtmf_protocol" varchar;
ALTER TABLE "tokens" ADD COLUMN "account_id" integer references "accounts"("id") on delete cascade;
ALTER TABLE "tokens" ADD COLUMN "ip" varchar;
ALTER TABLE "tokens" ADD COLUMN "user_agent" varchar;
ALTER TABLE "phone_change_codes" ADD COLUMN "ip" varchar;
ALTER TABLE "phone_change_codes" ADD COLUMN "user_agent" varchar;
CREATE TABLE IF NOT EXISTS "account_creation_request_tokens" ("id" integer not null primary key autoincrement, "token" varchar not null, "used" tinyint(1) not null default '0', "validated_at" datetime, "acc_creation_token_id" integer references "tokens"("id") on delete cascade, "created_at" datetime, "updated_at" datetime, "ip" varchar, "user_agent" varchar);
CREATE INDEX IF NOT EXISTS "account_creation_request_tokens_token_index" on "account_creation_request_tokens" ("token");
CREATE TABLE IF NOT EXISTS "account_recovery_tokens" ("id" integer not null primary key autoincrement, "token" varchar not null, "pn_provider" varchar not null, "pn_param" varchar not null, "pn_prid" varchar not null, "used" tinyint(1) not null default '0', "ip" varchar, "user_agent" varchar, "account_id" integer references "accounts"("id") on delete cascade, "created_at" datetime, "updated_at" datetime);
CREATE INDEX IF NOT EXISTS "account_recovery_tokens_token_index" on "account_recovery_tokens" ("token");
CREATE INDEX IF NOT EXISTS "account_recovery_tokens_pn_provider_pn_param_pn_prid_index" on "account_recovery_tokens" ("pn_provider", "pn_param", "pn_prid");
CREATE TABLE IF NOT EXISTS "provisioning_tokens" ("id" integer not null primary key autoincrement, "account_id" integer not null, "token" varchar, "used" tinyint(1) not null default '0', "created_at" datetime, "updated_at" datetime, "ip" varchar, "user_agent" varchar, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE INDEX IF NOT EXISTS "famd_provisioning_tokens_token_index" on "provisioning_tokens" ("token");
CREATE INDEX IF NOT EXISTS "famd_provisioning_tokens_account_id_index" on "provisioning_tokens" ("account_id");
CREATE TABLE IF NOT EXISTS "auth_tokens" ("id" integer not null primary key autoincrement, "account_id" integer references "accounts"("id") on delete cascade, "token" varchar not null, "created_at" datetime, "updated_at" datetime, "ip" varchar, "user_agent" varchar);
CREATE INDEX IF NOT EXISTS "famd_auth_tokens_token_index" on "auth_tokens" ("token");
CREATE TABLE IF NOT EXISTS "email_change_codes" ("id" integer not null primary key autoincrement, "account_id" integer not null, "code" varchar, "email" varchar not null, "created_at" datetime, "updated_at" datetime, "ip" varchar, "user_agent" varchar, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE INDEX IF NOT EXISTS "famd_email_change_codes_account_id_index" on "email_change_codes" ("account_id");
CREATE TABLE IF NOT EXISTS "reset_password_email_tokens" ("id" integer not null primary key autoincrement, "token" varchar not null, "used" tinyint(1) not null default '0', "email" varchar not null, "account_id" integer not null, "ip" varchar, "user_agent" varchar, "created_at" datetime, "updated_at" datetime, foreign key("account_id") references "accounts"("id") on delete cascade);
CREATE INDEX IF NOT EXISTS "famd_reset_password_email_tokens_token_index" on "reset_password_email_tokens" ("token");
