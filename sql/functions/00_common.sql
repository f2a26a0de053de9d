-- Common helpers: formatting, the entry hash, system-account shards.
--
-- Every file under sql/functions is the one live definition of the
-- functions it holds. `walletctl migrate` applies the files in name order
-- after the versioned migrations, whenever a file's SHA-256 differs from
-- the one recorded in schema_functions (and all of them after a migration
-- ran), then the privilege map (90_privileges.sql). So each statement here
-- must be safe to run again: CREATE OR REPLACE, never a bare CREATE. A
-- change of signature, return type or parameter name needs a versioned
-- migration that drops the old function first (CREATE OR REPLACE cannot).

-- Exact decimal text of a minor-unit amount (the same rule as
-- core/domain/amount.cpp): 1050 at scale 2 is "10.50".
CREATE OR REPLACE FUNCTION wallet_format_amount(p_amount bigint, p_scale integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    -- Multiplying by the exact numeric 1e-scale keeps every digit (division would round).
    SELECT (p_amount::numeric * ('1e-' || p_scale)::numeric)::text
$$;

-- RFC 3339 UTC text of a timestamp, as every output shows it. STABLE, as
-- to_char() is: declared IMMUTABLE it could not be inlined, and every
-- movement would plan it again.
CREATE OR REPLACE FUNCTION wallet_rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Hash of one ledger entry, chained to the wallet's previous entry:
-- sha256(previous hash || the entry's fields as 8-byte big-endian integers).
-- Not STRICT and built from immutable parts, so the planner inlines it
-- (reconcile recomputes it for every entry it verifies).
CREATE OR REPLACE FUNCTION wallet_entry_hash(p_prev bytea, p_wallet_id bigint, p_version bigint,
                                             p_transaction_id bigint, p_amount bigint,
                                             p_before bigint, p_after bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(p_prev || int8send(p_wallet_id) || int8send(p_version) || int8send(p_transaction_id)
                  || int8send(p_amount) || int8send(p_before) || int8send(p_after))
$$;

-- Version 2 of the entry hash (0009_entry_hash_v2.sql) covers, besides the
-- entry and its predecessor, the entry's time and its transaction's fixed
-- fields, so that changing what a movement was (kind, asset, wallets,
-- amount, key, memo, actor, creation time, what it reverses) breaks the
-- chain of both its wallets, and with it reconcile --full and digest verify.
-- Texts enter as length-prefixed UTF-8, so no two lists of fields share an
-- encoding. STABLE, as convert_to() is; inlined like wallet_entry_hash.
CREATE OR REPLACE FUNCTION wallet_hash_text(p_text text) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT int4send(length(convert_to(p_text, 'UTF8'))) || convert_to(p_text, 'UTF8')
$$;

-- The digest of a transaction's fixed fields (those transactions_rules
-- keeps, and the memo, actor and creation time).
CREATE OR REPLACE FUNCTION wallet_transaction_digest(p_id bigint, p_kind text, p_asset text, p_debit_wallet_id bigint,
                                                     p_credit_wallet_id bigint, p_amount bigint, p_key text,
                                                     p_memo text, p_actor text, p_created_at timestamptz,
                                                     p_reverses_id bigint) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(int8send(p_id) || wallet_hash_text(p_kind) || wallet_hash_text(p_asset)
                  || int8send(p_debit_wallet_id) || int8send(p_credit_wallet_id) || int8send(p_amount)
                  || wallet_hash_text(p_key) || wallet_hash_text(p_memo) || wallet_hash_text(p_actor)
                  || timestamptz_send(p_created_at) || int8send(coalesce(p_reverses_id, 0)))
$$;

-- Hash of one version-2 entry: sha256(previous hash || 0x02 || wallet,
-- version, amount, balance before and after || the entry's time || its
-- transaction's digest).
CREATE OR REPLACE FUNCTION wallet_entry_hash_v2(p_prev bytea, p_wallet_id bigint, p_version bigint, p_amount bigint,
                                                p_before bigint, p_after bigint, p_at timestamptz,
                                                p_transaction bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(p_prev || '\x02'::bytea || int8send(p_wallet_id) || int8send(p_version) || int8send(p_amount)
                  || int8send(p_before) || int8send(p_after) || timestamptz_send(p_at) || p_transaction)
$$;

-- The hash entry e must have after p_prev, by its hash version; t is its
-- transaction (NULL when missing: then no hash of version 2 matches). What
-- reconcile and digest verify recompute.
CREATE OR REPLACE FUNCTION wallet_entry_expected_hash(p_prev bytea, e ledger_entries, t transactions) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN e.hash_version = 1
                THEN wallet_entry_hash(p_prev, e.wallet_id, e.version, e.transaction_id, e.amount,
                                       e.balance_before, e.balance_after)
                ELSE wallet_entry_hash_v2(p_prev, e.wallet_id, e.version, e.amount, e.balance_before,
                                          e.balance_after, e.created_at,
                                          wallet_transaction_digest(t.id, t.kind, t.asset, t.debit_wallet_id,
                                                                    t.credit_wallet_id, t.amount, t.idempotency_key,
                                                                    t.memo, t.actor, t.created_at, t.reverses_id))
           END
$$;

-- Number of shards each system account gets. Eight rows let eight
-- concurrent deposits of one asset proceed without waiting on each other.
CREATE OR REPLACE FUNCTION wallet_system_shards() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 8';

-- Number of audit chain stripes (rows of audit_chains, made by
-- 0011_audit_chain.sql; changing it takes a migration that adds rows).
CREATE OR REPLACE FUNCTION wallet_audit_stripes() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 16';

-- Hash of one audit row of hash version 1 (rows written before
-- 0011_audit_chain.sql have none: version 0), chained to the previous row
-- of its stripe: sha256(previous hash || 0x01 || stripe (2 bytes), seq,
-- id (8 bytes big-endian) || time || actor, action, arguments as jsonb's
-- canonical text, outcome (length-prefixed UTF-8) || transaction id and
-- message, each a presence byte (0x00 NULL, 0x01 set) and its value). No
-- two rows share an encoding. STABLE, as wallet_hash_text is; inlined by
-- reconcile and digest verify, which recompute it for every row.
CREATE OR REPLACE FUNCTION wallet_audit_hash(p_prev bytea, a audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(p_prev || '\x01'::bytea || int2send(a.stripe) || int8send(a.seq) || int8send(a.id)
                  || timestamptz_send(a.at) || wallet_hash_text(a.actor) || wallet_hash_text(a.action)
                  || wallet_hash_text(a.arguments::text) || wallet_hash_text(a.outcome)
                  || CASE WHEN a.transaction_id IS NULL THEN '\x00'::bytea
                          ELSE '\x01'::bytea || int8send(a.transaction_id) END
                  || CASE WHEN a.message IS NULL THEN '\x00'::bytea
                          ELSE '\x01'::bytea || wallet_hash_text(a.message) END)
$$;

-- The hash audit row a must have after p_prev, by its hash version (NULL,
-- so never a match, for a version that has no hash). What reconcile and
-- digest verify recompute.
CREATE OR REPLACE FUNCTION wallet_audit_expected_hash(p_prev bytea, a audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN a.hash_version = 1 THEN wallet_audit_hash(p_prev, a) END
$$;
