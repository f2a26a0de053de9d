-- 0004_move_speed: the same movement rules as 0001/0002, with less work per
-- movement (measured with perf on a backend running wallet_move under
-- pgbench: per-statement executor start-up, constraint set-up and
-- foreign-key checks dominate, so fewer statements is what pays).
--
--   * posted_amount is written by the INSERT itself; the BEFORE INSERT
--     trigger that filled it cost a PL/pgSQL call per transaction row.
--   * wallet_move() locks both user wallets with one statement, writes both
--     ledger entries with one INSERT, and builds its result from what it
--     already holds instead of reading the row back through a 4-way join.
--   * audit_log's time index becomes a BRIN index: rows arrive in time
--     order, and a B-tree entry per audit row was paid on every movement.

-- Every INSERT INTO transactions (wallet_move, wallet_import_batch) now sets
-- posted_amount itself.
DROP TRIGGER transactions_posted_amount ON transactions;
DROP FUNCTION wallet_set_posted_amount();

DROP INDEX audit_log_at_idx;
CREATE INDEX audit_log_at_brin ON audit_log USING brin (at);

-- One money movement, as in 0001 (same signature, contract and errors):
-- debit p_debit_user, credit p_credit_user; exactly one of them may be a
-- system account. Replays return the stored result; WL404 for an unknown
-- asset or wallet (the debit side is named first), WL409 for a key used by
-- another request; insufficient funds is recorded as 'failed' under the key.
CREATE OR REPLACE FUNCTION wallet_move(p_key text, p_fingerprint text, p_kind text,
                            p_debit_user text, p_credit_user text, p_asset text,
                            p_amount bigint, p_memo text, p_pending boolean,
                            p_timeout interval, p_actor text, p_arguments jsonb,
                            p_settle boolean DEFAULT false, p_reverses bigint DEFAULT NULL,
                            p_settle_lease interval DEFAULT NULL)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    v_debit_system  boolean := left(p_debit_user, 1) = '@';
    v_credit_system boolean := left(p_credit_user, 1) = '@';
    v_status   text := CASE WHEN p_pending THEN 'pending' ELSE 'posted' END;
    v_result   wallet_movement;
    v_scale    integer;
    v_debit    wallets;
    v_credit   wallets;
    v_row      wallets;
    v_id       bigint;
    v_created  timestamptz;
    v_expires  timestamptz;
    v_error    text;
    v_after    bigint;
    v_version  bigint;
    v_hash     bytea;
    c_after    bigint;
    c_version  bigint;
    c_hash     bytea;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        RAISE EXCEPTION 'amount must be positive' USING ERRCODE = 'WL400';
    END IF;
    IF v_debit_system AND v_credit_system THEN
        RAISE EXCEPTION 'a movement needs at least one user wallet' USING ERRCODE = 'WL400';
    END IF;
    IF p_debit_user = p_credit_user THEN
        RAISE EXCEPTION 'cannot move money from % to itself', p_debit_user USING ERRCODE = 'WL400';
    END IF;

    -- A key used before: replay (same request) or conflict (another one).
    PERFORM 1 FROM transactions WHERE idempotency_key = p_key;
    IF FOUND THEN
        v_result := wallet_replay(p_key, p_fingerprint);
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, p_kind, p_arguments, 'replayed', v_result.transaction_id);
        RETURN v_result;
    END IF;

    SELECT scale INTO v_scale FROM assets WHERE code = p_asset;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'asset % not found', p_asset USING ERRCODE = 'WL404';
    END IF;

    -- Lock the user wallets in id order (one statement), then one system
    -- shard: never waits on a user wallet while holding a shard.
    FOR v_row IN SELECT * FROM wallets
              WHERE asset = p_asset AND shard = 0
                AND user_id IN (CASE WHEN NOT v_debit_system THEN p_debit_user END,
                                CASE WHEN NOT v_credit_system THEN p_credit_user END)
              ORDER BY id FOR UPDATE
    LOOP
        IF v_row.user_id = p_debit_user THEN v_debit := v_row; ELSE v_credit := v_row; END IF;
    END LOOP;
    IF NOT v_debit_system AND v_debit.id IS NULL THEN
        RAISE EXCEPTION 'wallet %/% not found', p_debit_user, p_asset USING ERRCODE = 'WL404';
    END IF;
    IF NOT v_credit_system AND v_credit.id IS NULL THEN
        RAISE EXCEPTION 'wallet %/% not found', p_credit_user, p_asset USING ERRCODE = 'WL404';
    END IF;
    IF v_debit_system THEN
        v_debit := wallet_lock_system(p_debit_user, p_asset);
    ELSIF v_credit_system THEN
        v_credit := wallet_lock_system(p_credit_user, p_asset);
    END IF;

    IF NOT v_debit_system AND v_debit.balance - v_debit.reserved < p_amount THEN
        v_status := 'failed';
        v_error := format('insufficient funds: wallet %s/%s has %s available, %s requested',
                          p_debit_user, p_asset,
                          wallet_format_amount(v_debit.balance - v_debit.reserved, v_scale),
                          wallet_format_amount(p_amount, v_scale));
    END IF;
    IF p_pending AND NOT p_settle THEN
        v_expires := now() + p_timeout;
    END IF;

    -- Claim the key. A concurrent request with the same key waits here for
    -- the other to commit, then sees its row and replays it.
    INSERT INTO transactions(idempotency_key, fingerprint, kind, status, asset,
                             debit_wallet_id, credit_wallet_id, amount, posted_amount, memo, actor,
                             expires_at, last_error, error_code, settle, reverses_id,
                             next_attempt_at)
        VALUES (p_key, p_fingerprint, p_kind, v_status, p_asset, v_debit.id, v_credit.id,
                p_amount, CASE WHEN v_status = 'posted' THEN p_amount END, coalesce(p_memo, ''), p_actor,
                v_expires, v_error, CASE WHEN v_error IS NOT NULL THEN 'insufficient_funds' END,
                p_pending AND p_settle, p_reverses,
                CASE WHEN p_pending AND p_settle THEN now() + p_settle_lease END)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, created_at INTO v_id, v_created;
    IF v_id IS NULL THEN
        v_result := wallet_replay(p_key, p_fingerprint);
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, p_kind, p_arguments, 'replayed', v_result.transaction_id);
        RETURN v_result;
    END IF;

    IF v_status = 'posted' THEN
        v_after := v_debit.balance - p_amount;
        v_version := v_debit.version + 1;
        v_hash := wallet_entry_hash(v_debit.last_hash, v_debit.id, v_version, v_id, -p_amount,
                                    v_debit.balance, v_after);
        c_after := v_credit.balance + p_amount;
        c_version := v_credit.version + 1;
        c_hash := wallet_entry_hash(v_credit.last_hash, v_credit.id, c_version, v_id, p_amount,
                                    v_credit.balance, c_after);
        UPDATE wallets SET balance = v_after, version = v_version, last_hash = v_hash WHERE id = v_debit.id;
        UPDATE wallets SET balance = c_after, version = c_version, last_hash = c_hash WHERE id = v_credit.id;
        INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash)
            VALUES (v_debit.id, v_id, -p_amount, v_version, v_debit.balance, v_after, v_hash),
                   (v_credit.id, v_id, p_amount, c_version, v_credit.balance, c_after, c_hash);
    ELSIF v_status = 'pending' THEN
        UPDATE wallets SET reserved = reserved + p_amount WHERE id = v_debit.id;
    END IF;

    INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id, message)
        VALUES (p_actor, p_kind, p_arguments,
                CASE WHEN v_status = 'failed' THEN 'insufficient_funds' ELSE v_status END,
                v_id, v_error);
    RETURN (v_id, p_key, v_status, p_kind, p_asset, v_scale, p_amount, p_debit_user, p_credit_user,
            coalesce(p_memo, ''), v_created, v_expires, false,
            CASE WHEN v_error IS NOT NULL THEN 'insufficient_funds' END, v_error,
            CASE WHEN v_status = 'posted' THEN p_amount END)::wallet_movement;
END $$;
