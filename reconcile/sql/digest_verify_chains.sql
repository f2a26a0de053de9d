-- walletctl digest verify: one chunk of anchored heads. Each wallet's chain
-- from version 1 up to its anchored version is recomputed (versions and
-- balances continue, every hash chains to the previous one) and must end at
-- the anchored hash. Returns only the wallets that fail: wallet id, user,
-- asset, anchored version, entries found up to it, first unlinked version,
-- first version whose hash does not match, whether the head hash matches,
-- whether the wallet exists. Then one row (wallet id NULL) with the number
-- of entries verified.
WITH
\ir fragments/digest_anchored.sql
, chain AS (
  SELECT e.wallet_id, e.version,
         (e.version = lag(e.version, 1, 0::bigint) OVER w + 1
          AND e.balance_before = lag(e.balance_after, 1, 0::bigint) OVER w
          AND e.balance_after = e.balance_before + e.amount) AS linked,
         e.hash IS NOT DISTINCT FROM wallet_entry_expected_hash(lag(e.hash, 1, '\x'::bytea) OVER w, e, t) AS hashed
    FROM anchored a
    JOIN ledger_entries e ON e.wallet_id = a.wallet_id AND e.version <= a.version
    LEFT JOIN transactions t ON t.id = e.transaction_id
  WINDOW w AS (PARTITION BY e.wallet_id ORDER BY e.version)),
per_wallet AS (
  SELECT wallet_id, count(*) AS n, min(version) FILTER (WHERE NOT linked) AS unlinked,
         min(version) FILTER (WHERE NOT hashed) AS unhashed
    FROM chain GROUP BY wallet_id),
checked AS MATERIALIZED (
  SELECT a.wallet_id, a.version, w.user_id, w.asset, coalesce(p.n, 0) AS n, p.unlinked, p.unhashed,
         (a.version = 0 OR h.hash IS NOT DISTINCT FROM a.hash) AS head_ok, w.id IS NOT NULL AS present
    FROM anchored a
    LEFT JOIN wallets w ON w.id = a.wallet_id
    LEFT JOIN per_wallet p ON p.wallet_id = a.wallet_id
    LEFT JOIN ledger_entries h ON h.wallet_id = a.wallet_id AND h.version = a.version)
SELECT wallet_id, user_id, asset, version, n, unlinked, unhashed, head_ok, present FROM checked
 WHERE NOT present OR n <> version OR unlinked IS NOT NULL OR unhashed IS NOT NULL OR NOT head_ok
UNION ALL
SELECT NULL, NULL, NULL, NULL, (SELECT coalesce(sum(n), 0) FROM checked), NULL, NULL, NULL, NULL
