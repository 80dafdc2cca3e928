-- Nonces are looked up by nonce and account together: one index on both, so
-- that the planner never walks all of a busy account's nonces through the
-- account_id index.  It also serves lookups by nonce alone.
CREATE INDEX IF NOT EXISTS "famd_nonces_nonce_account_id_index" ON "nonces" ("nonce", "account_id");
DROP INDEX IF EXISTS "famd_nonces_nonce_index";
-- A compact index of account ids: a page of the admin listing far from
-- either end, when deleted accounts left gaps in the ids, is found by
-- skipping this index's small entries rather than whole rows.
CREATE INDEX IF NOT EXISTS "famd_accounts_id_index" ON "accounts" ("id");
