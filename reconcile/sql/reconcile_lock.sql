-- One reconcile at a time. Advisory locks work on a hot standby too (they
-- are never WAL-logged). Any constant works; it only has to be the same in
-- every walletctl.
SELECT pg_advisory_xact_lock(727411002)
