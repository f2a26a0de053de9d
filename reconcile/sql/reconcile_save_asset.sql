-- The checkpoint sum of asset $1 (exact decimal text $2).
SELECT wallet_reconcile_save_asset($1, $2::numeric)
