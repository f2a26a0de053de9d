-- 0002_holds: two-phase transfers (post, void), reversals, settlement
-- attempts, and the reconciliation checkpoint.
--
-- Lock order, everywhere: the transaction row first, then user wallets in
-- id order, then at most one system-account shard. Nothing ever waits for a
-- user wallet while holding a shard, so movements cannot deadlock.

-- A direct movement posts its whole amount: record it, so that
-- posted_amount is the amount that moved for every posted transaction.
CREATE FUNCTION wallet_set_posted_amount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'posted' AND NEW.posted_amount IS NULL THEN
        NEW.posted_amount := NEW.amount;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transactions_posted_amount BEFORE INSERT ON transactions
    FOR EACH ROW EXECUTE FUNCTION wallet_set_posted_amount();

-- Locks two wallets: user wallets in id order first, then system shards.
CREATE FUNCTION wallet_lock_pair(p_a bigint, p_b bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT 1 FROM wallets WHERE id IN (p_a, p_b) ORDER BY is_system, id FOR UPDATE
$$;

-- The pending transaction p_id, locked; raises not found (WL404).
CREATE FUNCTION wallet_lock_transaction(p_id bigint) RETURNS transactions
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
CREATE FUNCTION wallet_post(p_id bigint, p_amount bigint, p_actor text, p_arguments jsonb)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t        transactions := wallet_lock_transaction(p_id);
    v_amount bigint := coalesce(p_amount, t.amount);
    v_debit  wallets;
    v_credit wallets;
    v_scale  integer;
BEGIN
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
    PERFORM wallet_apply_entry(v_debit, t.id, -v_amount);
    PERFORM wallet_apply_entry(v_credit, t.id, v_amount);
    UPDATE transactions SET status = 'posted', posted_amount = v_amount, updated_at = now(),
                            next_attempt_at = NULL
        WHERE id = p_id;
    INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
        VALUES (p_actor, 'post', p_arguments, 'posted', p_id);
    RETURN wallet_movement_of(p_id, false);
END $$;

-- Releases a hold. Voiding a voided transaction again is a no-op success
-- (replayed); voiding a posted or failed one is a conflict (WL409).
CREATE FUNCTION wallet_void(p_id bigint, p_reason text, p_actor text, p_arguments jsonb)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t transactions := wallet_lock_transaction(p_id);
BEGIN
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
-- The key makes the reversal itself idempotent like any movement.
CREATE FUNCTION wallet_reverse(p_id bigint, p_key text, p_actor text, p_arguments jsonb)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t             transactions := wallet_lock_transaction(p_id);
    v_fingerprint text := 'reversal:' || p_id;
    v_result      wallet_movement;
    v_existing    bigint;
BEGIN
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
    RETURN wallet_move(p_key, v_fingerprint, 'reversal',
                       (SELECT user_id FROM wallets WHERE id = t.credit_wallet_id),
                       (SELECT user_id FROM wallets WHERE id = t.debit_wallet_id),
                       t.asset, t.posted_amount, 'reversal of transaction ' || p_id, false, NULL,
                       p_actor, p_arguments, false, p_id);
END $$;

-- Records a settlement attempt that did not decide (the command asked to
-- retry, timed out or crashed): the withdrawal stays pending.
CREATE FUNCTION wallet_settlement_deferred(p_id bigint, p_error text, p_delay interval, p_actor text)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    t transactions := wallet_lock_transaction(p_id);
BEGIN
    IF t.status <> 'pending' THEN
        RAISE EXCEPTION 'transaction % is %; nothing to settle', p_id, t.status USING ERRCODE = 'WL409';
    END IF;
    UPDATE transactions SET attempts = attempts + 1, next_attempt_at = now() + p_delay,
                            last_error = left(p_error, 2000), updated_at = now()
        WHERE id = p_id;
    INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id, message)
        VALUES (p_actor, 'settle', jsonb_build_object('transaction', p_id), 'deferred', p_id, left(p_error, 2000));
    RETURN wallet_movement_of(p_id, false);
END $$;

-- Counts a settlement attempt that decided (posted or voided next).
CREATE FUNCTION wallet_settlement_attempted(p_id bigint) RETURNS void
LANGUAGE sql AS $$
    UPDATE transactions SET attempts = attempts + 1 WHERE id = p_id
$$;

-- What reconciliation has verified so far: per wallet, the last verified
-- entry (version, balance after it, hash); per asset, the sum of verified
-- entries. An incremental run verifies only entries above these versions.
CREATE TABLE reconcile_wallets (
    wallet_id bigint PRIMARY KEY REFERENCES wallets(id),
    version   bigint NOT NULL,
    balance   bigint NOT NULL,
    hash      bytea NOT NULL
);
CREATE TABLE reconcile_assets (
    asset     text PRIMARY KEY REFERENCES assets(code),
    entry_sum numeric NOT NULL
);
CREATE TABLE reconcile_runs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    full_run   boolean NOT NULL,
    entries    bigint NOT NULL,
    drift      integer NOT NULL,
    stuck      integer NOT NULL
);
