-- A nonce has a row only once it was used, and its first use inserts it:
-- the index on nonce and account is unique, so that of simultaneous first
-- uses in any process exactly one row exists (and one use wins).
CREATE UNIQUE INDEX IF NOT EXISTS "famd_nonces_nonce_account_id_unique" ON "nonces" ("nonce", "account_id");
DROP INDEX IF EXISTS "famd_nonces_nonce_account_id_index";
