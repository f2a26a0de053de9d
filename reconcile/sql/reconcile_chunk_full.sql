-- Verifies the entries of wallets [$1, $2): each entry continues the
-- previous one (version, balance before/after) and its hash chains to the
-- previous hash; the stored balance, version and last hash equal the
-- chain's end. Returns the wallets that fail, then one row per asset with
-- the sum and count of the entries verified (fragments/chunk_result.sql).
-- The full run walks every entry in (wallet, version) order.
WITH moved AS MATERIALIZED (
  SELECT w.id, w.user_id, w.asset, w.balance, w.version, w.last_hash, 0::bigint AS v0, 0::bigint AS b0,
         '\x'::bytea AS h0
    FROM wallets w WHERE w.id >= $1 AND w.id < $2),
per_wallet AS (
  SELECT wallet_id, sum(amount) AS moved_sum, count(*) AS n, max(version) AS last_version,
         min(version) FILTER (WHERE NOT linked) AS unlinked, min(version) FILTER (WHERE NOT hashed) AS unhashed
    FROM (SELECT e.wallet_id, e.amount, e.version,
                 (e.version = lag(e.version, 1, 0::bigint) OVER w + 1
                  AND e.balance_before = lag(e.balance_after, 1, 0::bigint) OVER w
                  AND e.balance_after = e.balance_before + e.amount) AS linked,
                 e.hash = wallet_entry_hash(lag(e.hash, 1, '\x'::bytea) OVER w, e.wallet_id, e.version,
                                            e.transaction_id, e.amount, e.balance_before, e.balance_after) AS hashed
            FROM ledger_entries e WHERE e.wallet_id >= $1 AND e.wallet_id < $2
          WINDOW w AS (PARTITION BY e.wallet_id ORDER BY e.version)) c
   GROUP BY wallet_id),
\ir fragments/chunk_result.sql
