-- The end shared by both reconcile_chunk statements, after their CTEs
-- `moved` (the wallets checked, with the version v0, balance b0 and hash h0
-- their entries start from) and `per_wallet` (their entries' sum, count,
-- last version, and first unlinked and unhashed version): compare each
-- checked wallet with the end of its chain, then sum per asset.
checked AS MATERIALIZED (
  SELECT m.*, coalesce(p.moved_sum, 0) AS moved_sum, coalesce(p.n, 0) AS n,
         coalesce(p.last_version, m.v0) AS last_version, p.unlinked, p.unhashed,
         (m.version = 0 AND m.last_hash = '\x'::bytea) OR m.last_hash =
           (SELECT hash FROM ledger_entries WHERE wallet_id = m.id AND version = m.version) AS head_ok
    FROM moved m LEFT JOIN per_wallet p ON p.wallet_id = m.id)
-- A row per wallet that fails a check ...
SELECT 'wallet' AS row_kind, c.id AS wallet_id, c.user_id, c.asset, c.balance::text AS stored,
       (c.b0 + c.moved_sum)::text AS computed, c.version, c.last_version, c.n AS entries, c.unlinked,
       c.unhashed, coalesce(c.head_ok, false) AS head_ok, c.v0 AS base_version, NULL::bigint AS wallets
  FROM checked c
 WHERE c.balance <> c.b0 + c.moved_sum OR c.version <> c.last_version
    OR c.n <> c.version - c.v0 OR c.unlinked IS NOT NULL OR c.unhashed IS NOT NULL
    OR NOT coalesce(c.head_ok, false)
UNION ALL
-- ... then a row per asset: the sum (computed) and count of the entries
-- verified, and the number of wallets checked.
SELECT 'asset', NULL, NULL, c.asset, NULL, sum(c.moved_sum)::text, NULL, NULL, sum(c.n), NULL,
       NULL, NULL, NULL, count(*)
  FROM checked c GROUP BY c.asset
