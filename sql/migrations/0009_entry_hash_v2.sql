-- 0009_entry_hash_v2: the entry hash covers the entry's time and its
-- transaction's fixed fields from now on (hash version 2; the functions are
-- in sql/functions/00_common.sql). Entries written before keep
-- hash_version 1 and verify as before: adding a column with a constant
-- default rewrites nothing, and every entry point writes version 2.
ALTER TABLE ledger_entries ADD COLUMN hash_version smallint NOT NULL DEFAULT 1;

-- wallet_apply_entry hashes its transaction's fields now: it takes the
-- transaction's row instead of its id (sql/functions/30_movement.sql).
DROP FUNCTION wallet_apply_entry(wallets, bigint, bigint);
