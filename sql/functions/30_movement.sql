-- Money movements: wallet_move() and the helpers it shares with holds and
-- import.
--
-- Lock order, everywhere: the transaction row first (holds), then user
-- wallets in id order, then at most one system-account shard. Nothing ever
-- waits for a user wallet while holding a shard, so movements cannot
-- deadlock.

-- The result of transaction p_id as callers see it (type wallet_movement,
-- 0001_ledger.sql). PL/pgSQL, not SQL: a SQL function that cannot be
-- inlined is planned again on every call (0.4 ms here, 40% of a movement);
-- PL/pgSQL caches the plan.
CREATE OR REPLACE FUNCTION wallet_movement_of(p_id bigint, p_replayed boolean) RETURNS wallet_movement
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r wallet_movement;
BEGIN
    SELECT t.id, t.idempotency_key, t.status, t.kind, t.asset, a.scale::integer,
           t.amount, d.user_id, c.user_id, t.memo, t.created_at, t.expires_at,
           p_replayed, t.error_code, t.last_error, t.posted_amount
    INTO r
    FROM transactions t
    JOIN assets a ON a.code = t.asset
    JOIN wallets d ON d.id = t.debit_wallet_id
    JOIN wallets c ON c.id = t.credit_wallet_id
    WHERE t.id = p_id;
    RETURN r;
END $$;

-- The stored result for a key that was used before (replayed = true), NULL
-- when the key is new, or a conflict (WL409) when the key was used for a
-- different request (another fingerprint).
CREATE OR REPLACE FUNCTION wallet_replay(p_key text, p_fingerprint text) RETURNS wallet_movement
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_id bigint;
    v_fingerprint text;
BEGIN
    SELECT id, fingerprint INTO v_id, v_fingerprint FROM transactions WHERE idempotency_key = p_key;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_fingerprint <> p_fingerprint THEN
        RAISE EXCEPTION 'idempotency key "%" was already used for a different request (transaction %)', p_key, v_id
            USING ERRCODE = 'WL409';
    END IF;
    RETURN wallet_movement_of(v_id, true);
END $$;

-- wallet_replay() with its 'replayed' audit row when the key was used
-- before; NULL when the key is new; WL409 when it was used for another
-- request.
CREATE OR REPLACE FUNCTION wallet_replay_audited(p_key text, p_fingerprint text, p_actor text, p_kind text,
                                      p_arguments jsonb) RETURNS wallet_movement
LANGUAGE plpgsql AS $$
DECLARE
    v_result wallet_movement := wallet_replay(p_key, p_fingerprint);
BEGIN
    IF v_result.transaction_id IS NOT NULL THEN
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, p_kind, p_arguments, 'replayed', v_result.transaction_id);
    END IF;
    RETURN v_result;
END $$;

-- Locks one shard of a system account: any shard nobody holds, else waits
-- for a random one. Called after the user wallets are locked, and a movement
-- touches at most one system account, so this cannot deadlock. WL404 when
-- the account does not exist.
CREATE OR REPLACE FUNCTION wallet_lock_system(p_user text, p_asset text) RETURNS wallets
LANGUAGE plpgsql AS $$
DECLARE
    w       wallets;
    v_shard integer;
BEGIN
    SELECT * INTO w FROM wallets WHERE user_id = p_user AND asset = p_asset
        ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        -- All shards busy: wait for one. The shard is drawn once (random()
        -- in the WHERE clause would be drawn again for every row).
        v_shard := floor(random() * wallet_system_shards())::integer;
        SELECT * INTO w FROM wallets
            WHERE user_id = p_user AND asset = p_asset AND shard = v_shard
            FOR UPDATE;
    END IF;
    IF w.id IS NULL THEN
        RAISE EXCEPTION 'system account %/% not found', p_user, p_asset USING ERRCODE = 'WL404';
    END IF;
    RETURN w;
END $$;

-- Appends one ledger entry of transaction t to a wallet the caller holds
-- locked (p_wallet is its current row) and moves its balance, version and
-- hash chain (hash version 2: the entry's time and t's fixed fields).
CREATE OR REPLACE FUNCTION wallet_apply_entry(p_wallet wallets, t transactions, p_amount bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_after   bigint := p_wallet.balance + p_amount;
    v_version bigint := p_wallet.version + 1;
    v_hash    bytea  := wallet_entry_hash_v2(p_wallet.last_hash, p_wallet.id, v_version, p_amount,
                                             p_wallet.balance, v_after, now(),
                                             wallet_transaction_digest(t.id, t.kind, t.asset, t.debit_wallet_id,
                                                                       t.credit_wallet_id, t.amount, t.idempotency_key,
                                                                       t.memo, t.actor, t.created_at, t.reverses_id));
BEGIN
    UPDATE wallets SET balance = v_after, version = v_version, last_hash = v_hash
        WHERE id = p_wallet.id;
    INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version,
                               balance_before, balance_after, hash, created_at, hash_version)
        VALUES (p_wallet.id, t.id, p_amount, v_version,
                p_wallet.balance, v_after, v_hash, now(), 2);
END $$;

-- Why p_kind may not move p_debit_user -> p_credit_user, or NULL when that
-- is the kind's route. The routes (DESIGN.md §4):
--   deposit, topup, bonus   @treasury -> a user
--   withdraw                a user -> @settlement
--   purchase                a user -> @revenue
--   transfer                a user -> another user
--   reversal                only through wallet_reverse (the original's
--                           credit -> its debit)
-- So only @treasury is ever debited outside a reversal, and a reversal
-- takes back at most what its original credited. NULL arguments are
-- refused. SQL and IMMUTABLE: inlined where it is called.
CREATE OR REPLACE FUNCTION wallet_route_error(p_kind text, p_debit_user text, p_credit_user text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_kind IN ('deposit', 'topup', 'bonus') THEN
            CASE WHEN p_debit_user = '@treasury' AND left(p_credit_user, 1) <> '@' THEN NULL
                 ELSE 'kind ' || p_kind || ' moves money from @treasury to a user wallet' END
        WHEN p_kind = 'withdraw' THEN
            CASE WHEN left(p_debit_user, 1) <> '@' AND p_credit_user = '@settlement' THEN NULL
                 ELSE 'kind withdraw moves money from a user wallet to @settlement' END
        WHEN p_kind = 'purchase' THEN
            CASE WHEN left(p_debit_user, 1) <> '@' AND p_credit_user = '@revenue' THEN NULL
                 ELSE 'kind purchase moves money from a user wallet to @revenue' END
        WHEN p_kind = 'transfer' THEN
            CASE WHEN left(p_debit_user, 1) <> '@' AND left(p_credit_user, 1) <> '@'
                      AND p_debit_user <> p_credit_user THEN NULL
                 ELSE 'kind transfer moves money between two different user wallets' END
        WHEN p_kind = 'reversal' THEN 'a reversal is made only by reversing a posted transaction'
        ELSE 'unknown kind "' || coalesce(left(p_kind, 40), 'null')
             || '" (deposit, topup, bonus, withdraw, purchase, transfer)' END
$$;

-- The movement itself, for callers that checked their arguments:
-- wallet_move (any request of the application) and wallet_reverse (the
-- only caller that sets p_reverses). Not granted to the application role.
-- Contract as wallet_move's below; also refuses (WL409) to take a system
-- account other than @treasury below zero (only a reversal debits one).
--
-- Cost (0006_hot_path.sql): the key is looked up once (the INSERT ... ON
-- CONFLICT that claims it), the asset's scale is read by the statement that
-- locks the wallets, and both wallets are updated by one statement.
CREATE OR REPLACE FUNCTION wallet_move_apply(p_key text, p_fingerprint text, p_kind text,
                            p_debit_user text, p_credit_user text, p_asset text,
                            p_amount bigint, p_memo text, p_pending boolean,
                            p_timeout interval, p_actor text, p_arguments jsonb,
                            p_settle boolean, p_reverses bigint, p_settle_lease interval,
                            p_reference text DEFAULT NULL)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    v_debit_system  boolean := left(p_debit_user, 1) = '@';
    v_credit_system boolean := left(p_credit_user, 1) = '@';
    v_status   text := CASE WHEN p_pending THEN 'pending' ELSE 'posted' END;
    v_result   wallet_movement;
    v_scale    integer;
    v_debit    wallets;
    v_credit   wallets;
    v_row      record;
    v_id       bigint;
    v_created  timestamptz;
    v_digest   bytea;
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

    -- Lock the user wallets in id order (one statement, which also reads the
    -- asset's scale), then one system shard.
    FOR v_row IN SELECT w AS wallet, a.scale FROM wallets w JOIN assets a ON a.code = w.asset
              WHERE w.asset = p_asset AND w.shard = 0
                AND w.user_id IN (CASE WHEN NOT v_debit_system THEN p_debit_user END,
                                CASE WHEN NOT v_credit_system THEN p_credit_user END)
              ORDER BY w.id FOR UPDATE OF w
    LOOP
        v_scale := v_row.scale;
        IF (v_row.wallet).user_id = p_debit_user THEN v_debit := v_row.wallet; ELSE v_credit := v_row.wallet; END IF;
    END LOOP;
    -- (Every movement has a user wallet, so v_scale is set once one is found.)
    IF (NOT v_debit_system AND v_debit.id IS NULL) OR (NOT v_credit_system AND v_credit.id IS NULL) THEN
        -- Something is missing. A key used before still answers first
        -- (replay, or conflict for another request).
        v_result := wallet_replay_audited(p_key, p_fingerprint, p_actor, p_kind, p_arguments);
        IF v_result.transaction_id IS NOT NULL THEN
            RETURN v_result;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM assets WHERE code = p_asset) THEN
            RAISE EXCEPTION 'asset % not found', p_asset USING ERRCODE = 'WL404';
        END IF;
        IF NOT v_debit_system AND v_debit.id IS NULL THEN
            RAISE EXCEPTION 'wallet %/% not found', p_debit_user, p_asset USING ERRCODE = 'WL404';
        END IF;
        IF NOT v_credit_system AND v_credit.id IS NULL THEN
            RAISE EXCEPTION 'wallet %/% not found', p_credit_user, p_asset USING ERRCODE = 'WL404';
        END IF;
    END IF;
    IF v_debit_system THEN
        v_debit := wallet_lock_system(p_debit_user, p_asset);
        -- (Nested: the deposits' path never runs the query.)
        IF p_debit_user <> '@treasury' THEN
            IF (SELECT sum(balance) - sum(reserved) FROM wallets
                 WHERE user_id = p_debit_user AND asset = p_asset) < p_amount THEN
                RAISE EXCEPTION 'system account %/% may not go below zero (only @treasury may)', p_debit_user,
                    p_asset USING ERRCODE = 'WL409';
            END IF;
        END IF;
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

    -- Claim the key. A key used before (or by a concurrent request, which
    -- this waits for) inserts nothing: replay or conflict.
    INSERT INTO transactions(idempotency_key, fingerprint, kind, status, asset,
                             debit_wallet_id, credit_wallet_id, amount, posted_amount, memo, actor,
                             expires_at, last_error, error_code, settle, reverses_id,
                             next_attempt_at, reference)
        VALUES (p_key, p_fingerprint, p_kind, v_status, p_asset, v_debit.id, v_credit.id,
                p_amount, CASE WHEN v_status = 'posted' THEN p_amount END, coalesce(p_memo, ''), p_actor,
                v_expires, v_error, CASE WHEN v_error IS NOT NULL THEN 'insufficient_funds' END,
                p_pending AND p_settle, p_reverses,
                CASE WHEN p_pending AND p_settle THEN now() + p_settle_lease END, p_reference)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, created_at INTO v_id, v_created;
    IF v_id IS NULL THEN
        RETURN wallet_replay_audited(p_key, p_fingerprint, p_actor, p_kind, p_arguments);
    END IF;

    IF v_status = 'posted' THEN
        v_after := v_debit.balance - p_amount;
        v_version := v_debit.version + 1;
        -- Hash version 2: the entries' time (now(), as created_at) and
        -- the transaction's fixed fields, as just written.
        v_digest := wallet_transaction_digest(v_id, p_kind, p_asset, v_debit.id, v_credit.id, p_amount, p_key,
                                              coalesce(p_memo, ''), p_actor, v_created, p_reverses);
        v_hash := wallet_entry_hash_v2(v_debit.last_hash, v_debit.id, v_version, -p_amount,
                                       v_debit.balance, v_after, v_created, v_digest);
        c_after := v_credit.balance + p_amount;
        c_version := v_credit.version + 1;
        c_hash := wallet_entry_hash_v2(v_credit.last_hash, v_credit.id, c_version, p_amount,
                                       v_credit.balance, c_after, v_created, v_digest);
        UPDATE wallets w SET balance = v.balance, version = v.version, last_hash = v.hash
          FROM (VALUES (v_debit.id, v_after, v_version, v_hash),
                       (v_credit.id, c_after, c_version, c_hash)) AS v(id, balance, version, hash)
         WHERE w.id = v.id;
        INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash,
                                   created_at, hash_version)
            VALUES (v_debit.id, v_id, -p_amount, v_version, v_debit.balance, v_after, v_hash, v_created, 2),
                   (v_credit.id, v_id, p_amount, c_version, v_credit.balance, c_after, c_hash, v_created, 2);
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

-- One money movement, as the application asks for it: debit p_debit_user,
-- credit p_credit_user, along the route of p_kind (wallet_route_error).
--
-- Returns the movement. Replaying a key with the same fingerprint returns
-- the stored result (replayed = true) and changes nothing. Raises WL400
-- (a required argument NULL, a route that is not the kind's, amount not
-- positive, a hold without a positive p_timeout, a settlement without a
-- positive p_settle_lease or that is not a pending withdrawal), WL404 (asset
-- or wallet not found; the debit side is named first; a key used before
-- still answers first), WL409 (key used for another request).
-- Insufficient funds is not raised: the movement is recorded as 'failed'
-- under its key (error_code 'insufficient_funds'), so a replay gives the
-- same answer. With p_pending the amount is reserved on the debit wallet
-- and nothing moves until the hold is posted; it expires after p_timeout,
-- unless p_settle: a withdrawal that a settlement command decides, which
-- never expires and which retry workers leave to its creator until
-- p_settle_lease has passed (p_timeout is then not used). Without
-- p_pending, p_timeout and p_settle_lease are not used. p_reference, NULL
-- or 1-140 bytes without control characters (else WL400), is the external
-- reference stored with the transaction (the caller includes it in
-- p_fingerprint).
CREATE OR REPLACE FUNCTION wallet_move(p_key text, p_fingerprint text, p_kind text,
                            p_debit_user text, p_credit_user text, p_asset text,
                            p_amount bigint, p_memo text, p_pending boolean,
                            p_timeout interval, p_actor text, p_arguments jsonb,
                            p_settle boolean DEFAULT false, p_settle_lease interval DEFAULT NULL,
                            p_reference text DEFAULT NULL)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    v_refused text := wallet_route_error(p_kind, p_debit_user, p_credit_user);
BEGIN
    IF p_key IS NULL OR p_fingerprint IS NULL OR p_asset IS NULL OR p_pending IS NULL OR p_settle IS NULL
       OR p_actor IS NULL OR p_arguments IS NULL THEN
        v_refused := 'key, fingerprint, asset, pending, settle, actor and arguments are required';
    ELSIF p_settle AND NOT (p_pending AND p_kind = 'withdraw') THEN
        v_refused := 'only a pending withdrawal waits for the settlement command';
    ELSIF p_settle AND NOT coalesce(p_settle_lease > interval '0', false) THEN
        v_refused := 'a settlement needs a positive lease';
    ELSIF p_pending AND NOT p_settle AND NOT coalesce(p_timeout > interval '0', false) THEN
        v_refused := 'a hold needs a positive timeout';
    ELSIF p_reference IS NOT NULL
          AND (octet_length(p_reference) NOT BETWEEN 1 AND 140 OR p_reference ~ '[[:cntrl:]]') THEN
        v_refused := 'a reference is 1 to 140 bytes without control characters';
    END IF;
    IF v_refused IS NOT NULL THEN
        RAISE EXCEPTION '%', v_refused USING ERRCODE = 'WL400';
    END IF;
    RETURN wallet_move_apply(p_key, p_fingerprint, p_kind, p_debit_user, p_credit_user, p_asset, p_amount,
                             p_memo, p_pending, p_timeout, p_actor, p_arguments, p_settle, NULL, p_settle_lease,
                             p_reference);
END $$;
