// The SQL of `walletctl digest` and `digest verify` (digest.cpp), in one
// place. Every statement runs inside one REPEATABLE READ READ ONLY
// transaction, so a digest sees one consistent snapshot and so does a
// verification. Only SELECT on the ledger's tables and EXECUTE on the
// entry-hash functions are needed: the application role, or a hot standby.
#pragma once

#include <string_view>

namespace wallet::digest::sql {

// The snapshot: its xmin and xmax (64-bit transaction ids), the database,
// its time, and the highest entry id it sees. First statement of the
// transaction, so pg_current_snapshot() is the transaction's snapshot.
inline constexpr std::string_view kSnapshot =
    "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, current_database(),"
    " wallet_rfc3339(now()), (SELECT coalesce(max(id), 0) FROM ledger_entries) FROM pg_current_snapshot() s";

// Every wallet's chain head from the ledger itself (its entry of highest
// version, not the wallet row's copy), in wallet id order.
inline constexpr std::string_view kHeads =
    "SELECT w.id, coalesce(h.version, 0), coalesce(encode(h.hash, 'hex'), '') FROM wallets w"
    " LEFT JOIN LATERAL (SELECT e.version, e.hash FROM ledger_entries e WHERE e.wallet_id = w.id"
    "  ORDER BY e.version DESC LIMIT 1) h ON true ORDER BY w.id";

// Per asset: entries up to the heads, and the balances after the heads of
// user wallets and of system accounts (exact numeric text).
inline constexpr std::string_view kTotals =
    "SELECT w.asset, coalesce(sum(h.version), 0)::bigint,"
    " coalesce(sum(h.balance_after) FILTER (WHERE NOT w.is_system), 0)::text,"
    " coalesce(sum(h.balance_after) FILTER (WHERE w.is_system), 0)::text FROM wallets w"
    " LEFT JOIN LATERAL (SELECT e.version, e.balance_after FROM ledger_entries e WHERE e.wallet_id = w.id"
    "  ORDER BY e.version DESC LIMIT 1) h ON true GROUP BY w.asset ORDER BY w.asset";

// The anchored heads $1 (wallet ids), $2 (versions), $3 (hex hashes, '' at
// version 0) as a relation.
#define WALLET_DIGEST_ANCHORED                                                                        \
  "anchored AS MATERIALIZED (SELECT a.wallet_id, a.version, decode(a.hash, 'hex') AS hash"             \
  " FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS a(wallet_id, version, hash)) "

// Verifies one chunk of anchored heads: each wallet's chain from version 1
// up to its anchored version is recomputed (versions and balances continue,
// every hash chains to the previous one) and must end at the anchored hash.
// Returns only the wallets that fail: wallet id, user, asset, anchored
// version, entries found up to it, first unlinked version, first version
// whose hash does not match, whether the head hash matches, whether the
// wallet exists. Then one row (wallet id NULL) with the entries verified.
inline constexpr std::string_view kVerifyChains =
    "WITH " WALLET_DIGEST_ANCHORED
    ", chain AS (SELECT e.wallet_id, e.version,"
    "  (e.version = lag(e.version, 1, 0::bigint) OVER w + 1"
    "   AND e.balance_before = lag(e.balance_after, 1, 0::bigint) OVER w"
    "   AND e.balance_after = e.balance_before + e.amount) AS linked,"
    "  e.hash IS NOT DISTINCT FROM wallet_entry_expected_hash(lag(e.hash, 1, '\\x'::bytea) OVER w, e, t) AS hashed"
    " FROM anchored a JOIN ledger_entries e ON e.wallet_id = a.wallet_id AND e.version <= a.version"
    " LEFT JOIN transactions t ON t.id = e.transaction_id"
    " WINDOW w AS (PARTITION BY e.wallet_id ORDER BY e.version)), "
    "per_wallet AS (SELECT wallet_id, count(*) AS n, min(version) FILTER (WHERE NOT linked) AS unlinked,"
    "  min(version) FILTER (WHERE NOT hashed) AS unhashed FROM chain GROUP BY wallet_id), "
    "checked AS MATERIALIZED (SELECT a.wallet_id, a.version, w.user_id, w.asset, coalesce(p.n, 0) AS n,"
    "  p.unlinked, p.unhashed, (a.version = 0 OR h.hash IS NOT DISTINCT FROM a.hash) AS head_ok,"
    "  w.id IS NOT NULL AS present"
    " FROM anchored a LEFT JOIN wallets w ON w.id = a.wallet_id LEFT JOIN per_wallet p ON p.wallet_id = a.wallet_id"
    " LEFT JOIN ledger_entries h ON h.wallet_id = a.wallet_id AND h.version = a.version) "
    "SELECT wallet_id, user_id, asset, version, n, unlinked, unhashed, head_ok, present FROM checked"
    " WHERE NOT present OR n <> version OR unlinked IS NOT NULL OR unhashed IS NOT NULL OR NOT head_ok "
    "UNION ALL SELECT NULL, NULL, NULL, NULL, (SELECT coalesce(sum(n), 0) FROM checked), NULL, NULL, NULL, NULL";

// Entries of wallets in [$4, $5) beyond their anchored version (0 for a
// wallet the anchor does not hold) whose id is at most the anchor's highest
// entry id $6: written into the anchored past, or by a transaction that was
// still running when the digest was taken. The inserting transaction id
// (xmin, 32 bits) tells which. Columns: entry id, wallet id, user, asset,
// version, transaction id, xmin.
inline constexpr std::string_view kVerifyLate =
    "WITH " WALLET_DIGEST_ANCHORED
    "SELECT e.id, w.id, w.user_id, w.asset, e.version, e.transaction_id, e.xmin::text::bigint"
    " FROM wallets w LEFT JOIN anchored a ON a.wallet_id = w.id"
    " JOIN ledger_entries e ON e.wallet_id = w.id AND e.version > coalesce(a.version, 0)"
    " WHERE w.id >= $4 AND w.id < $5 AND e.id <= $6 ORDER BY e.id LIMIT 1000";

// Per asset over all the anchored heads $1, $2, $3: entries up to the
// anchored versions, and the balances after them of user wallets and of
// system accounts (exact numeric text).
inline constexpr std::string_view kVerifyTotals =
    "WITH " WALLET_DIGEST_ANCHORED
    "SELECT w.asset, coalesce(sum((SELECT count(*) FROM ledger_entries c"
    "  WHERE c.wallet_id = a.wallet_id AND c.version <= a.version)), 0)::bigint,"
    " coalesce(sum(coalesce(e.balance_after, 0)) FILTER (WHERE NOT w.is_system), 0)::text,"
    " coalesce(sum(coalesce(e.balance_after, 0)) FILTER (WHERE w.is_system), 0)::text"
    " FROM anchored a JOIN wallets w ON w.id = a.wallet_id"
    " LEFT JOIN ledger_entries e ON e.wallet_id = a.wallet_id AND e.version = a.version GROUP BY w.asset";

// Entries written after the anchor (id above its highest entry id $1).
inline constexpr std::string_view kEntriesAfter = "SELECT count(*) FROM ledger_entries WHERE id > $1";

inline constexpr std::string_view kScales = "SELECT code, scale FROM assets";

#undef WALLET_DIGEST_ANCHORED

}  // namespace wallet::digest::sql
