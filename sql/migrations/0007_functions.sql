-- 0007_functions: the functions move to sql/functions.
--
-- From here on every function has one live definition, in the files under
-- sql/functions/, which `walletctl migrate` applies after the versioned
-- migrations whenever their content changes (recorded in schema_functions).
-- Versioned migrations keep what must happen exactly once: tables,
-- constraints, data changes, and dropping a function whose signature
-- changes or that is no longer used.

-- Unused since 0004_move_speed (wallet_move locks and reads the user
-- wallets in one statement).
DROP FUNCTION wallet_user_wallet(text, text);
