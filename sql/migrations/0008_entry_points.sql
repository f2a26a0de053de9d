-- 0008_entry_points: entry points that trust nothing (issue 12).
--
-- wallet_move() no longer takes p_reverses: a reversal is made only by
-- wallet_reverse(), through wallet_move_apply(), which the application role
-- cannot call (sql/functions/30_movement.sql). The old signature goes; the
-- function file creates the new one. The other rules of this change live in
-- the function files: kind-to-route rules, positive timeouts and leases,
-- no system account from import, attempts counted only while pending, and
-- the transition table of a transaction's status (10_triggers.sql).
DROP FUNCTION wallet_move(text, text, text, text, text, text, bigint, text, boolean, interval, text, jsonb,
                          boolean, bigint, interval);
