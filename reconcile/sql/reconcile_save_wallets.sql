-- The checkpoint, written by the owner's functions (0005_roles.sql).
SELECT wallet_reconcile_save_wallets()
