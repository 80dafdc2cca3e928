-- The concepts FAM 2.x added, under FAM 2.x's table and column names and
-- types, beside the 2021 tables (which keep their names and meaning:
-- Flexisip and 2021 tools read them).  Only additions: new tables, and new
-- columns that are nullable or have a default.  Account-creation tokens stay
-- in "tokens" for both API generations; a token made without a device (by
-- an administrator, or traded for a validated request token) has empty pn_*
-- values, since the 2021 columns are NOT NULL.
ALTER TABLE "accounts" ADD COLUMN IF NOT EXISTS "blocked" boolean DEFAULT false NOT NULL;
ALTER TABLE "accounts" ADD COLUMN IF NOT EXISTS "display_name" character varying(255);
ALTER TABLE "accounts" ADD COLUMN IF NOT EXISTS "dtmf_protocol" character varying(255);
ALTER TABLE "tokens" ADD COLUMN IF NOT EXISTS "account_id" integer CONSTRAINT "account_creation_tokens_account_id_foreign" REFERENCES "accounts" ("id") ON DELETE CASCADE;
ALTER TABLE "tokens" ADD COLUMN IF NOT EXISTS "ip" character varying(255);
ALTER TABLE "tokens" ADD COLUMN IF NOT EXISTS "user_agent" character varying(255);
ALTER TABLE "phone_change_codes" ADD COLUMN IF NOT EXISTS "ip" character varying(255);
ALTER TABLE "phone_change_codes" ADD COLUMN IF NOT EXISTS "user_agent" character varying(255);
CREATE TABLE IF NOT EXISTS "account_creation_request_tokens" (
    "id" bigserial NOT NULL,
    "token" character varying(16) NOT NULL,
    "used" boolean DEFAULT false NOT NULL,
    "validated_at" timestamp(0) without time zone,
    "acc_creation_token_id" bigint,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    "ip" character varying(255),
    "user_agent" character varying(255),
    CONSTRAINT "account_creation_request_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "account_creation_request_tokens_acc_creation_token_id_foreign" FOREIGN KEY ("acc_creation_token_id") REFERENCES "tokens" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "account_creation_request_tokens_token_index" ON "account_creation_request_tokens" USING btree ("token");
CREATE TABLE IF NOT EXISTS "account_recovery_tokens" (
    "id" bigserial NOT NULL,
    "token" character varying(255) NOT NULL,
    "pn_provider" character varying(255) NOT NULL,
    "pn_param" character varying(255) NOT NULL,
    "pn_prid" character varying(255) NOT NULL,
    "used" boolean DEFAULT false NOT NULL,
    "ip" character varying(255),
    "user_agent" character varying(255),
    "account_id" integer,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "account_recovery_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "account_recovery_tokens_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "account_recovery_tokens_token_index" ON "account_recovery_tokens" USING btree ("token");
CREATE INDEX IF NOT EXISTS "account_recovery_tokens_pn_provider_pn_param_pn_prid_index" ON "account_recovery_tokens" USING btree ("pn_provider", "pn_param", "pn_prid");
CREATE TABLE IF NOT EXISTS "provisioning_tokens" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "token" character varying(255),
    "used" boolean DEFAULT false NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    "ip" character varying(255),
    "user_agent" character varying(255),
    CONSTRAINT "provisioning_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "provisioning_tokens_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "famd_provisioning_tokens_token_index" ON "provisioning_tokens" USING btree ("token");
CREATE INDEX IF NOT EXISTS "famd_provisioning_tokens_account_id_index" ON "provisioning_tokens" USING btree ("account_id");
CREATE TABLE IF NOT EXISTS "auth_tokens" (
    "id" bigserial NOT NULL,
    "account_id" integer,
    "token" character varying(32) NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    "ip" character varying(255),
    "user_agent" character varying(255),
    CONSTRAINT "auth_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "auth_tokens_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "famd_auth_tokens_token_index" ON "auth_tokens" USING btree ("token");
CREATE TABLE IF NOT EXISTS "email_change_codes" (
    "id" serial NOT NULL,
    "account_id" integer NOT NULL,
    "code" character varying(255),
    "email" character varying(255) NOT NULL,
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    "ip" character varying(255),
    "user_agent" character varying(255),
    CONSTRAINT "email_change_codes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "email_change_codes_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "famd_email_change_codes_account_id_index" ON "email_change_codes" USING btree ("account_id");
CREATE TABLE IF NOT EXISTS "reset_password_email_tokens" (
    "id" bigserial NOT NULL,
    "token" character varying(16) NOT NULL,
    "used" boolean DEFAULT false NOT NULL,
    "email" character varying(255) NOT NULL,
    "account_id" integer NOT NULL,
    "ip" character varying(255),
    "user_agent" character varying(255),
    "created_at" timestamp(0) without time zone,
    "updated_at" timestamp(0) without time zone,
    CONSTRAINT "reset_password_email_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "reset_password_email_tokens_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "famd_reset_password_email_tokens_token_index" ON "reset_password_email_tokens" USING btree ("token");
