-- The account panel's sessions (famd/panel): one row per logged-in browser,
-- shared by every famd process.  The row holds the SHA-256 of the session
-- id (the cookie), never the id itself; it goes with its account.
CREATE TABLE IF NOT EXISTS "famd_sessions" ("id" integer not null primary key autoincrement, "id_hash" varchar(64) not null, "account_id" integer not null references "accounts"("id") on delete cascade, "created_at" datetime not null, "last_seen_at" datetime not null);
CREATE UNIQUE INDEX IF NOT EXISTS "famd_sessions_id_hash_unique" on "famd_sessions" ("id_hash");
CREATE INDEX IF NOT EXISTS "famd_sessions_account_id_index" on "famd_sessions" ("account_id");
CREATE INDEX IF NOT EXISTS "famd_sessions_last_seen_at_index" on "famd_sessions" ("last_seen_at");
CREATE INDEX IF NOT EXISTS "famd_sessions_created_at_index" on "famd_sessions" ("created_at");
