-- Two-phase transfers (post, void), reversals, settlement attempts, and
-- the claims that retry runs and walletd workers take on pending
-- transactions.
--
-- Lock order, everywhere: the transaction row first, then user wallets in
-- id order, then at most one system-account shard.

-- Locks two wallets: user wallets in id order first, then system shards.
CREATE OR REPLACE FUNCTION wallet_lock_pair(p_a bigint, p_b bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT 1 FROM wallets WHERE id IN (p_a, p_b) ORDER BY is_system, id FOR UPDATE
$$;

-- The transaction p_id, locked FOR UPDATE; raises not found (WL404).
CREATE OR REPLACE FUNCTION wallet_lock_transaction(p_id bigint) RETURNS transactions
LANGUAGE plpgsql AS $$
DECLARE
    t transactions;
BEGIN
    SELECT * INTO t FROM transactions WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'transaction % not found', p_id USING ERRCODE = 'WL404';
    END IF;
    RETURN t;
END $$;

-- Completes a hold: moves p_amount (default: all of it) and releases the
-- rest of the reservation. Posting a posted transaction again with the
-- same amount is a no-op success (replayed); a different amount, a voided or
-- failed transaction, or an expired hold is a conflict (WL409); an amount
-- above the hold is invalid (WL400).
CREATE OR REPLACE FUNCTION wallet_post(p_id bigint, p_amount bigint, p_actor text, p_arguments jsonb)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t        transactions := wallet_lock_transaction(p_id);
    v_amount bigint := coalesce(p_amount, t.amount);
    v_debit  wallets;
    v_credit wallets;
    v_scale  integer;
BEGIN
    IF p_actor IS NULL OR p_arguments IS NULL THEN
        RAISE EXCEPTION 'an actor and arguments are required' USING ERRCODE = 'WL400';
    END IF;
    SELECT scale INTO v_scale FROM assets WHERE code = t.asset;
    IF t.status = 'posted' THEN
        IF v_amount <> t.posted_amount THEN
            RAISE EXCEPTION 'transaction % is already posted with amount %', p_id,
                wallet_format_amount(t.posted_amount, v_scale) USING ERRCODE = 'WL409';
        END IF;
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, 'post', p_arguments, 'replayed', p_id);
        RETURN wallet_movement_of(p_id, true);
    END IF;
    IF t.status <> 'pending' THEN
        RAISE EXCEPTION 'transaction % is %; only a pending transaction can be posted', p_id, t.status
            USING ERRCODE = 'WL409';
    END IF;
    IF t.expires_at <= now() THEN
        RAISE EXCEPTION 'hold % expired at %; it can only be voided', p_id, wallet_rfc3339(t.expires_at)
            USING ERRCODE = 'WL409';
    END IF;
    IF v_amount <= 0 OR v_amount > t.amount THEN
        RAISE EXCEPTION 'post amount % is not between 0 and the held amount %',
            wallet_format_amount(v_amount, v_scale), wallet_format_amount(t.amount, v_scale)
            USING ERRCODE = 'WL400';
    END IF;
    PERFORM wallet_lock_pair(t.debit_wallet_id, t.credit_wallet_id);
    UPDATE wallets SET reserved = reserved - t.amount WHERE id = t.debit_wallet_id;
    SELECT * INTO v_debit FROM wallets WHERE id = t.debit_wallet_id;
    SELECT * INTO v_credit FROM wallets WHERE id = t.credit_wallet_id;
    PERFORM wallet_apply_entry(v_debit, t, -v_amount);
    PERFORM wallet_apply_entry(v_credit, t, v_amount);
    UPDATE transactions SET status = 'posted', posted_amount = v_amount, updated_at = now(),
                            next_attempt_at = NULL
        WHERE id = p_id;
    INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
        VALUES (p_actor, 'post', p_arguments, 'posted', p_id);
    RETURN wallet_movement_of(p_id, false);
END $$;

-- Releases a hold. Voiding a voided transaction again is a no-op success
-- (replayed); voiding a posted or failed one is a conflict (WL409).
CREATE OR REPLACE FUNCTION wallet_void(p_id bigint, p_reason text, p_actor text, p_arguments jsonb)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t transactions := wallet_lock_transaction(p_id);
BEGIN
    IF p_actor IS NULL OR p_arguments IS NULL THEN
        RAISE EXCEPTION 'an actor and arguments are required' USING ERRCODE = 'WL400';
    END IF;
    IF t.status = 'voided' THEN
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, 'void', p_arguments, 'replayed', p_id);
        RETURN wallet_movement_of(p_id, true);
    END IF;
    IF t.status <> 'pending' THEN
        RAISE EXCEPTION 'transaction % is %; only a pending transaction can be voided%', p_id, t.status,
            CASE WHEN t.status = 'posted' THEN ' (reverse it instead)' ELSE '' END
            USING ERRCODE = 'WL409';
    END IF;
    PERFORM 1 FROM wallets WHERE id = t.debit_wallet_id FOR UPDATE;
    UPDATE wallets SET reserved = reserved - t.amount WHERE id = t.debit_wallet_id;
    UPDATE transactions SET status = 'voided', updated_at = now(), next_attempt_at = NULL,
                            last_error = coalesce(nullif(p_reason, ''), 'voided')
        WHERE id = p_id;
    INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id, message)
        VALUES (p_actor, 'void', p_arguments, 'voided', p_id, p_reason);
    RETURN wallet_movement_of(p_id, false);
END $$;

-- A compensating movement of a posted transaction: its posted amount goes
-- back from the credit side to the debit side, as kind 'reversal', at most
-- once per original (concurrent attempts serialize on the original's row).
-- The key makes the reversal itself idempotent like any movement. WL400
-- when an argument is NULL; WL404 for an unknown transaction; WL409 for a
-- reversal, a transaction that is not posted, or one already reversed. The
-- only way to make a reversal: wallet_move refuses the kind.
CREATE OR REPLACE FUNCTION wallet_reverse(p_id bigint, p_key text, p_actor text, p_arguments jsonb)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t             transactions;
    v_fingerprint text := 'reversal:' || p_id;
    v_result      wallet_movement;
    v_existing    bigint;
BEGIN
    IF p_id IS NULL OR p_key IS NULL OR p_actor IS NULL OR p_arguments IS NULL THEN
        RAISE EXCEPTION 'a reversal needs a transaction, a key, an actor and arguments' USING ERRCODE = 'WL400';
    END IF;
    t := wallet_lock_transaction(p_id);
    v_result := wallet_replay(p_key, v_fingerprint);
    IF v_result.transaction_id IS NOT NULL THEN
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, 'reverse', p_arguments, 'replayed', v_result.transaction_id);
        RETURN v_result;
    END IF;
    IF t.kind = 'reversal' THEN
        RAISE EXCEPTION 'transaction % is a reversal; it cannot be reversed', p_id USING ERRCODE = 'WL409';
    END IF;
    IF t.status <> 'posted' THEN
        RAISE EXCEPTION 'transaction % is %; only a posted transaction can be reversed%', p_id, t.status,
            CASE WHEN t.status = 'pending' THEN ' (void it instead)' ELSE '' END
            USING ERRCODE = 'WL409';
    END IF;
    SELECT id INTO v_existing FROM transactions WHERE reverses_id = p_id AND status <> 'failed';
    IF FOUND THEN
        RAISE EXCEPTION 'transaction % was already reversed by transaction %', p_id, v_existing
            USING ERRCODE = 'WL409';
    END IF;
    RETURN wallet_move_apply(p_key, v_fingerprint, 'reversal',
                             (SELECT user_id FROM wallets WHERE id = t.credit_wallet_id),
                             (SELECT user_id FROM wallets WHERE id = t.debit_wallet_id),
                             t.asset, t.posted_amount, 'reversal of transaction ' || p_id, false, NULL,
                             p_actor, p_arguments, false, p_id, NULL);
END $$;

-- Records a settlement attempt that did not decide (the command asked to
-- retry, timed out or crashed): the withdrawal stays pending, its next
-- attempt is due after p_delay. WL400 for a delay that is not positive
-- (NULL included); WL404 for an unknown transaction; WL409 when it is not
-- a pending settlement.
CREATE OR REPLACE FUNCTION wallet_settlement_deferred(p_id bigint, p_error text, p_delay interval, p_actor text)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t transactions := wallet_lock_transaction(p_id);
BEGIN
    IF NOT coalesce(p_delay > interval '0', false) OR p_actor IS NULL THEN
        RAISE EXCEPTION 'a deferred settlement needs a positive delay and an actor' USING ERRCODE = 'WL400';
    END IF;
    IF t.status <> 'pending' OR NOT t.settle THEN
        RAISE EXCEPTION 'transaction % is %; nothing to settle', p_id,
            CASE WHEN t.settle THEN t.status ELSE 'not a settlement' END USING ERRCODE = 'WL409';
    END IF;
    UPDATE transactions SET attempts = attempts + 1, next_attempt_at = now() + p_delay,
                            last_error = left(p_error, 2000), updated_at = now()
        WHERE id = p_id;
    INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id, message)
        VALUES (p_actor, 'settle', jsonb_build_object('transaction', p_id), 'deferred', p_id, left(p_error, 2000));
    RETURN wallet_movement_of(p_id, false);
END $$;

-- Counts a settlement attempt that decided (posted or voided next, in the
-- caller's transaction). WL404 for an unknown transaction; WL409 unless it
-- is a pending settlement: attempts are only counted while one is pending.
CREATE OR REPLACE FUNCTION wallet_settlement_attempted(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t transactions := wallet_lock_transaction(p_id);
BEGIN
    IF t.status <> 'pending' OR NOT t.settle THEN
        RAISE EXCEPTION 'transaction % is %; nothing to settle', p_id,
            CASE WHEN t.settle THEN t.status ELSE 'not a settlement' END USING ERRCODE = 'WL409';
    END IF;
    UPDATE transactions SET attempts = attempts + 1 WHERE id = p_id;
END $$;

-- Stores the reference that the settlement command gave when it confirmed
-- the pending settlement p_id (posted next, in the caller's transaction),
-- unless the withdrawal already has one (the request's own stays). WL400
-- for a reference that is not 1-140 bytes without control characters;
-- WL404 for an unknown transaction; WL409 unless it is a pending settlement.
CREATE OR REPLACE FUNCTION wallet_settlement_reference(p_id bigint, p_reference text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t transactions := wallet_lock_transaction(p_id);
BEGIN
    IF p_reference IS NULL OR octet_length(p_reference) NOT BETWEEN 1 AND 140 OR p_reference ~ '[[:cntrl:]]' THEN
        RAISE EXCEPTION 'a reference is 1 to 140 bytes without control characters' USING ERRCODE = 'WL400';
    END IF;
    IF t.status <> 'pending' OR NOT t.settle THEN
        RAISE EXCEPTION 'transaction % is %; nothing to settle', p_id,
            CASE WHEN t.settle THEN t.status ELSE 'not a settlement' END USING ERRCODE = 'WL409';
    END IF;
    UPDATE transactions SET reference = p_reference WHERE id = p_id AND reference IS NULL;
END $$;

-- Claims the pending transaction p_id for the caller's database
-- transaction (FOR UPDATE SKIP LOCKED: another retry run or walletd worker
-- that holds it makes this return no row). The lock lasts until the
-- caller commits.
CREATE OR REPLACE FUNCTION wallet_claim_transaction(p_id bigint)
RETURNS TABLE (claimed_id bigint, claimed_settle boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
        SELECT t.id, t.settle FROM transactions t
         WHERE t.id = p_id AND t.status = 'pending'
         FOR UPDATE SKIP LOCKED;
END $$;

-- Claims the next pending transaction that is due: a settlement whose next
-- attempt is due (only when p_settle: a command is configured), or a hold
-- past its expiry. p_cutoff is the start of the caller's retry run (NULL:
-- now), returned as claimed_run_started: a settlement deferred during the
-- run is due after it, so one run handles it at most once.
CREATE OR REPLACE FUNCTION wallet_claim_due(p_settle boolean, p_cutoff timestamptz)
RETURNS TABLE (claimed_id bigint, claimed_settle boolean, claimed_run_started text)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
        SELECT t.id, t.settle, coalesce(p_cutoff, now())::text FROM transactions t
         WHERE t.status = 'pending'
           AND ((t.settle AND p_settle AND t.next_attempt_at <= coalesce(p_cutoff, now()))
                OR (NOT t.settle AND t.expires_at <= now()))
         ORDER BY t.id LIMIT 1 FOR UPDATE SKIP LOCKED;
END $$;
