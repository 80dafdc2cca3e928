-- Nonces are looked up by nonce and account together: one index on both, so
-- that the planner never walks all of a busy account's nonces through the
-- account_id index.  It also serves lookups by nonce alone.
CREATE INDEX IF NOT EXISTS "famd_nonces_nonce_account_id_index" ON "nonces" ("nonce", "account_id");
DROP INDEX IF EXISTS "famd_nonces_nonce_index";
