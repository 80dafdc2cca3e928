-- The 2021 account manager's tables, exactly as its migrations created them on PostgreSQL 15:
-- serial/bigserial ids (sequences <table>_id_seq), boolean flags, timestamp(0) without time zone,
-- and the constraint and index names Laravel gave them.
-- IF NOT EXISTS everywhere: on a database FAM already made, nothing is touched.
-- FAM's Laravel housekeeping tables (migrations, users, password_resets, failed_jobs) are not famd's and are not created.
CREATE TABLE IF NOT EXISTS "accounts" (
    "id" serial NOT NULL,
    "username" character varying(64) NOT NULL,
    "domain" character varying(64) NOT NULL,
    "email" character varying(64),
    "activated" boolean DEFAULT false NOT NULL,
    "confirmation_key" character varying(14),
    "ip_address" character varying(39) NOT NULL,
    "user_agent" character varying(256) NOT NULL,
    "creation_time" timestamp(0) without time zone NOT NULL,
    "expire_time" timestamp(0) without time zone,
    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);
CREATE TABLE IF NOT EXISTS "passwords" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "password" character varying(255) NOT NULL,
    "algorithm" character varying(10) DEFAULT 'MD5'::character varying NOT NULL,
    CONSTRAINT "passwords_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "passwords_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "nonces" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "nonce" character varying(255) NOT NULL,
    "nc" integer DEFAULT 0 NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "nonces_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "nonces_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "admins" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "admins_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "admins_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "email_changed" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "new_email" character varying(255) NOT NULL,
    "hash" character varying(255) NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "email_changed_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "email_changed_account_id_unique" UNIQUE ("account_id"),
    CONSTRAINT "email_changed_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "api_keys" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "key" character varying(160) NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_keys_account_id_unique" UNIQUE ("account_id"),
    CONSTRAINT "api_keys_key_unique" UNIQUE ("key"),
    CONSTRAINT "api_keys_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "aliases" (
    "id" bigserial NOT NULL,
    "account_id" integer NOT NULL,
    "alias" character varying(64) NOT NULL,
    "domain" character varying(64) NOT NULL,
    CONSTRAINT "aliases_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "aliases_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "phone_change_codes" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "code" character varying(255) NOT NULL,
    "phone" character varying(255) NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "phone_change_codes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "phone_change_codes_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "tokens" (
    "id" bigserial NOT NULL,
    "token" character varying(255) NOT NULL,
    "pn_provider" character varying(255) NOT NULL,
    "pn_param" character varying(255) NOT NULL,
    "pn_prid" character varying(255) NOT NULL,
    "used" boolean DEFAULT false NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "tokens_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "tokens_token_index" ON "tokens" USING btree ("token");
CREATE INDEX IF NOT EXISTS "tokens_pn_provider_pn_param_pn_prid_index" ON "tokens" USING btree ("pn_provider", "pn_param", "pn_prid");
CREATE TABLE IF NOT EXISTS "activation_expirations" (
    "id" bigserial NOT NULL,
    "account_id" integer NOT NULL,
    "expires" timestamp(0) without time zone NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "activation_expirations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "activation_expirations_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
