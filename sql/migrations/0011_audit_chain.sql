-- 0011_audit_chain: the audit log is hash-chained (issue 12), in striped
-- chains so that concurrent movements do not wait on one chain head.
--
-- Every audit row written from now on belongs to one of the stripes of
-- audit_chains and carries its position (seq, from 1 and gap-free per
-- stripe) and hash (wallet_audit_hash in sql/functions/00_common.sql:
-- sha256 over the stripe's previous hash, the stripe, the seq and every
-- field of the row) under a hash version (1 today). The BEFORE INSERT
-- trigger audit_log_chain (sql/functions/10_triggers.sql) sets them and
-- advances the stripe's head. Rows written before this migration keep NULL
-- stripe, seq and hash and hash version 0: not chained. (A constant
-- default rewrites nothing.) The migration runs in the same transaction
-- as the function files, and adding the columns locks the table, so no row
-- is written between the two: every row after the first chained one is
-- chained (reconcile --full reports any that is not).
ALTER TABLE audit_log ADD COLUMN stripe smallint,
                      ADD COLUMN seq bigint,
                      ADD COLUMN hash bytea,
                      ADD COLUMN hash_version smallint NOT NULL DEFAULT 0;

-- The head of each stripe: its last row's seq and hash (0 and the empty
-- hash for a stripe without rows). Sixteen stripes: a movement holds its
-- stripe from its audit row to its commit, and sixteen let that many
-- commit at once without waiting on each other (the system-account shards
-- give eight; see wallet_audit_stripes()). Only the trigger writes here;
-- the application role may read it (digest) but not write it.
CREATE TABLE audit_chains (
    stripe smallint PRIMARY KEY CHECK (stripe >= 0),
    seq    bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
    hash   bytea NOT NULL DEFAULT '\x'::bytea
);
INSERT INTO audit_chains(stripe) SELECT s FROM generate_series(0, 15) AS s;

-- reconcile --full and digest verify walk each stripe in seq order.
CREATE UNIQUE INDEX audit_log_stripe_seq_idx ON audit_log (stripe, seq) WHERE stripe IS NOT NULL;
