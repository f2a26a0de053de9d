-- Records the run in reconcile_runs: full, entries, drift and stuck counts.
SELECT wallet_reconcile_record($1, $2, $3, $4)
