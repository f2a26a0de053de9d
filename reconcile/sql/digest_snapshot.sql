-- walletctl digest (reconcile/digest.cpp). Every digest statement runs in
-- one REPEATABLE READ READ ONLY transaction and needs only SELECT and the
-- entry-hash functions: the application role, or a hot standby.
-- The snapshot: its xmin and xmax (64-bit transaction ids), the database,
-- its time, and the highest entry id it sees. The transaction's first
-- statement, so pg_current_snapshot() is the transaction's snapshot.
SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, current_database(),
       wallet_rfc3339(now()), (SELECT coalesce(max(id), 0) FROM ledger_entries)
  FROM pg_current_snapshot() s
