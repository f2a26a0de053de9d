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

-- Number of shards each system account gets. Eight rows let eight
-- concurrent deposits of one asset proceed without waiting on each other.
CREATE OR REPLACE FUNCTION wallet_system_shards() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 8';
