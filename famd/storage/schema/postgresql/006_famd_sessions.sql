-- The account panel's sessions (famd/panel): one row per logged-in browser,
-- shared by every famd process.  The row holds the SHA-256 of the session
-- id (the cookie), never the id itself; it goes with its account.
CREATE TABLE IF NOT EXISTS "famd_sessions" (
    "id" bigserial NOT NULL,
    "id_hash" character varying(64) NOT NULL,
    "account_id" integer NOT NULL,
    "created_at" timestamp(0) without time zone NOT NULL,
    "last_seen_at" timestamp(0) without time zone NOT NULL,
    CONSTRAINT "famd_sessions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "famd_sessions_account_id_foreign" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS "famd_sessions_id_hash_unique" ON "famd_sessions" ("id_hash");
CREATE INDEX IF NOT EXISTS "famd_sessions_account_id_index" ON "famd_sessions" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_sessions_last_seen_at_index" ON "famd_sessions" ("last_seen_at");
CREATE INDEX IF NOT EXISTS "famd_sessions_created_at_index" ON "famd_sessions" ("created_at");
