-- 0001_ledger: assets, wallets, transactions, ledger entries, audit log.
--
-- Money is bigint minor units everywhere. Integrity rules live here, in the
-- database, so that no client (ours or a psql session) can break them:
--   * user wallets never have balance - reserved < 0            (CHECK)
--   * one wallet per (user, asset); system accounts are sharded  (UNIQUE + CHECK)
--   * one transaction per idempotency key                        (UNIQUE)
--   * ledger entries and audit rows are append-only              (triggers)
--   * every movement goes through wallet_move(), one statement, one
--     database transaction: the key is claimed in the same transaction.

CREATE TABLE assets (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Z0-9_]{2,12}$'),
    scale      smallint NOT NULL CHECK (scale BETWEEN 0 AND 18),
    name       text NOT NULL DEFAULT '' CHECK (octet_length(name) <= 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- System accounts (@treasury, @revenue, @settlement) are spread over several
-- rows ("shards") so that concurrent deposits do not all queue on one row
-- lock; their balance is the sum of their shards. User wallets have shard 0.
CREATE TABLE wallets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    text NOT NULL CHECK (user_id ~ '^[A-Za-z0-9._:@-]{1,64}$'),
    asset      text NOT NULL REFERENCES assets(code),
    shard      smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 63),
    is_system  boolean GENERATED ALWAYS AS (left(user_id, 1) = '@') STORED,
    balance    bigint NOT NULL DEFAULT 0,
    reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    version    bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
    last_hash  bytea NOT NULL DEFAULT '\x'::bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, asset, shard),
    CONSTRAINT wallets_user_single_shard CHECK (is_system OR shard = 0),
    CONSTRAINT wallets_available_not_negative CHECK (is_system OR balance - reserved >= 0)
);

CREATE TABLE transactions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE CHECK (length(idempotency_key) BETWEEN 1 AND 128),
    fingerprint      text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('deposit','topup','bonus','withdraw','purchase','transfer','reversal')),
    status           text NOT NULL CHECK (status IN ('pending','posted','voided','failed')),
    asset            text NOT NULL REFERENCES assets(code),
    debit_wallet_id  bigint NOT NULL REFERENCES wallets(id),
    credit_wallet_id bigint NOT NULL REFERENCES wallets(id),
    amount           bigint NOT NULL CHECK (amount > 0),
    posted_amount    bigint CHECK (posted_amount > 0 AND posted_amount <= amount),
    memo             text NOT NULL DEFAULT '' CHECK (octet_length(memo) <= 500),
    metadata         jsonb,
    reverses_id      bigint REFERENCES transactions(id),
    settle           boolean NOT NULL DEFAULT false,  -- pending until [settlement] command confirms
    actor            text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_error       text,
    error_code       text,
    CHECK (debit_wallet_id <> credit_wallet_id),
    CHECK ((status = 'failed') = (error_code IS NOT NULL))
);
CREATE INDEX transactions_debit_idx ON transactions (debit_wallet_id, id);
CREATE INDEX transactions_credit_idx ON transactions (credit_wallet_id, id);
CREATE INDEX transactions_pending_idx ON transactions (next_attempt_at) WHERE status = 'pending';
-- A posted transaction is reversed at most once (a failed attempt does not count).
CREATE UNIQUE INDEX transactions_reverses_once ON transactions (reverses_id)
    WHERE reverses_id IS NOT NULL AND status <> 'failed';

-- One row per wallet movement. version is the wallet's version after the
-- entry (1, 2, 3 … per wallet); hash = sha256(previous hash || this entry).
CREATE TABLE ledger_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wallet_id      bigint NOT NULL REFERENCES wallets(id),
    transaction_id bigint NOT NULL REFERENCES transactions(id),
    amount         bigint NOT NULL CHECK (amount <> 0),
    version        bigint NOT NULL CHECK (version > 0),
    balance_before bigint NOT NULL,
    balance_after  bigint NOT NULL,
    hash           bytea NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (wallet_id, version),
    CHECK (balance_after = balance_before + amount)
);
CREATE INDEX ledger_entries_transaction_idx ON ledger_entries (transaction_id);

CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text NOT NULL,
    action         text NOT NULL,
    arguments      jsonb NOT NULL DEFAULT '{}'::jsonb,
    outcome        text NOT NULL,
    transaction_id bigint,
    message        text
);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Append-only: UPDATE, DELETE and TRUNCATE are refused for everyone, the
-- owner included (a superuser must disable the trigger on purpose).
CREATE FUNCTION wallet_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'WL403';
END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change();

-- Exact decimal text of a minor-unit amount (the same rule as core/amount).
CREATE FUNCTION wallet_format_amount(p_amount bigint, p_scale integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    -- Multiplying by the exact numeric 1e-scale keeps every digit (division would round).
    SELECT (p_amount::numeric * ('1e-' || p_scale)::numeric)::text
$$;

-- RFC 3339 UTC text of a timestamp, as every output shows it.
CREATE FUNCTION wallet_rfc3339(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Hash of one ledger entry, chained to the wallet's previous entry:
-- sha256(previous hash || the entry's fields as 8-byte big-endian integers).
-- Not STRICT and built from immutable parts, so the planner inlines it
-- (reconcile recomputes it for every entry it verifies).
CREATE FUNCTION wallet_entry_hash(p_prev bytea, p_wallet_id bigint, p_version bigint,
                                  p_transaction_id bigint, p_amount bigint,
                                  p_before bigint, p_after bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(p_prev || int8send(p_wallet_id) || int8send(p_version) || int8send(p_transaction_id)
                  || int8send(p_amount) || int8send(p_before) || int8send(p_after))
$$;

-- Number of shards each system account gets. Eight rows let eight
-- concurrent deposits of one asset proceed without waiting on each other.
CREATE FUNCTION wallet_system_shards() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 8';

-- Adds an asset with its system accounts. Conflict (WL409) if it exists.
CREATE FUNCTION wallet_asset_add(p_code text, p_scale integer, p_name text, p_actor text)
RETURNS SETOF assets LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO assets(code, scale, name) VALUES (p_code, p_scale, coalesce(p_name, ''))
        ON CONFLICT (code) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'asset % already exists', p_code USING ERRCODE = 'WL409';
    END IF;
    INSERT INTO wallets(user_id, asset, shard)
        SELECT u, p_code, s
        FROM unnest(ARRAY['@treasury', '@revenue', '@settlement']) AS u,
             generate_series(0, wallet_system_shards() - 1) AS s;
    INSERT INTO audit_log(actor, action, arguments, outcome)
        VALUES (p_actor, 'asset.add',
                jsonb_build_object('code', p_code, 'scale', p_scale, 'name', p_name), 'ok');
    RETURN QUERY SELECT * FROM assets WHERE code = p_code;
END $$;

-- The result of a money movement, as callers see it.
CREATE TYPE wallet_movement AS (
    transaction_id  bigint,
    idempotency_key text,
    status          text,
    kind            text,
    asset           text,
    scale           integer,
    amount          bigint,
    from_user       text,
    to_user         text,
    memo            text,
    created_at      timestamptz,
    expires_at      timestamptz,
    replayed        boolean,
    error_code      text,
    error_message   text,
    posted_amount   bigint
);

-- PL/pgSQL, not SQL: a SQL function that cannot be inlined is planned again
-- on every call (0.4 ms here, 40% of a movement); PL/pgSQL caches the plan.
CREATE FUNCTION wallet_movement_of(p_id bigint, p_replayed boolean) RETURNS wallet_movement
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

-- Returns the stored result for a key that was used before, or raises a
-- conflict (WL409) when the key was used for a different request.
CREATE FUNCTION wallet_replay(p_key text, p_fingerprint text) RETURNS wallet_movement
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

-- The wallet of a user for an asset, or not found (WL404).
CREATE FUNCTION wallet_user_wallet(p_user text, p_asset text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_id bigint;
BEGIN
    SELECT id INTO v_id FROM wallets WHERE user_id = p_user AND asset = p_asset AND shard = 0;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'wallet %/% not found', p_user, p_asset USING ERRCODE = 'WL404';
    END IF;
    RETURN v_id;
END $$;

-- Locks one shard of a system account: any shard nobody holds, else waits
-- for a random one. Called after the user wallets are locked, and a movement
-- touches at most one system account, so this cannot deadlock.
CREATE FUNCTION wallet_lock_system(p_user text, p_asset text) RETURNS wallets
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

-- Appends one ledger entry to a locked wallet and moves its balance.
CREATE FUNCTION wallet_apply_entry(p_wallet wallets, p_transaction_id bigint, p_amount bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_after   bigint := p_wallet.balance + p_amount;
    v_version bigint := p_wallet.version + 1;
    v_hash    bytea  := wallet_entry_hash(p_wallet.last_hash, p_wallet.id, v_version,
                                          p_transaction_id, p_amount, p_wallet.balance, v_after);
BEGIN
    UPDATE wallets SET balance = v_after, version = v_version, last_hash = v_hash
        WHERE id = p_wallet.id;
    INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version,
                               balance_before, balance_after, hash)
        VALUES (p_wallet.id, p_transaction_id, p_amount, v_version,
                p_wallet.balance, v_after, v_hash);
END $$;

-- One money movement: debit p_debit_user, credit p_credit_user. Exactly one
-- of them may be a system account (its id starts with '@').
--
-- Returns the movement. Replaying a key with the same fingerprint returns
-- the stored result (replayed = true) and changes nothing. Raises WL404
-- (asset or wallet not found), WL409 (key used for another request).
-- Insufficient funds is not raised: the movement is recorded as 'failed'
-- under its key (error_code 'insufficient_funds'), so a replay gives the
-- same answer. With p_pending the amount is reserved on the debit wallet
-- and nothing moves until the hold is posted.
CREATE FUNCTION wallet_move(p_key text, p_fingerprint text, p_kind text,
                            p_debit_user text, p_credit_user text, p_asset text,
                            p_amount bigint, p_memo text, p_pending boolean,
                            p_timeout interval, p_actor text, p_arguments jsonb,
                            p_settle boolean DEFAULT false, p_reverses bigint DEFAULT NULL,
                            p_settle_lease interval DEFAULT NULL)
RETURNS wallet_movement LANGUAGE plpgsql AS $$
DECLARE
    v_result   wallet_movement;
    v_scale    integer;
    v_debit    wallets;
    v_credit   wallets;
    v_first    bigint;
    v_second   bigint;
    v_id       bigint;
    v_status   text := CASE WHEN p_pending THEN 'pending' ELSE 'posted' END;
    v_error    text;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        RAISE EXCEPTION 'amount must be positive' USING ERRCODE = 'WL400';
    END IF;
    IF left(p_debit_user, 1) = '@' AND left(p_credit_user, 1) = '@' THEN
        RAISE EXCEPTION 'a movement needs at least one user wallet' USING ERRCODE = 'WL400';
    END IF;
    IF p_debit_user = p_credit_user THEN
        RAISE EXCEPTION 'cannot move money from % to itself', p_debit_user USING ERRCODE = 'WL400';
    END IF;

    v_result := wallet_replay(p_key, p_fingerprint);
    IF v_result.transaction_id IS NOT NULL THEN
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, p_kind, p_arguments, 'replayed', v_result.transaction_id);
        RETURN v_result;
    END IF;

    SELECT scale INTO v_scale FROM assets WHERE code = p_asset;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'asset % not found', p_asset USING ERRCODE = 'WL404';
    END IF;

    -- Lock user wallets in id order, then the system shard (never waits on
    -- a user wallet while holding a shard): no deadlock between movements.
    IF left(p_debit_user, 1) <> '@' THEN v_first := wallet_user_wallet(p_debit_user, p_asset); END IF;
    IF left(p_credit_user, 1) <> '@' THEN v_second := wallet_user_wallet(p_credit_user, p_asset); END IF;
    PERFORM 1 FROM wallets WHERE id IN (v_first, v_second) ORDER BY id FOR UPDATE;
    IF v_first IS NULL THEN
        v_debit := wallet_lock_system(p_debit_user, p_asset);
    ELSE
        SELECT * INTO v_debit FROM wallets WHERE id = v_first;
    END IF;
    IF v_second IS NULL THEN
        v_credit := wallet_lock_system(p_credit_user, p_asset);
    ELSE
        SELECT * INTO v_credit FROM wallets WHERE id = v_second;
    END IF;

    IF NOT v_debit.is_system AND v_debit.balance - v_debit.reserved < p_amount THEN
        v_status := 'failed';
        v_error := format('insufficient funds: wallet %s/%s has %s available, %s requested',
                          p_debit_user, p_asset,
                          wallet_format_amount(v_debit.balance - v_debit.reserved, v_scale),
                          wallet_format_amount(p_amount, v_scale));
    END IF;

    -- Claim the key. A concurrent request with the same key waits here for
    -- the other to commit, then sees its row and replays it.
    INSERT INTO transactions(idempotency_key, fingerprint, kind, status, asset,
                             debit_wallet_id, credit_wallet_id, amount, memo, actor,
                             expires_at, last_error, error_code, settle, reverses_id,
                             next_attempt_at)
        VALUES (p_key, p_fingerprint, p_kind, v_status, p_asset, v_debit.id, v_credit.id,
                p_amount, coalesce(p_memo, ''), p_actor,
                -- Settled withdrawals never expire: only the command's answer
                -- (or an operator) ends them, so money that left is never refunded.
                CASE WHEN p_pending AND NOT p_settle THEN now() + p_timeout END,
                v_error, CASE WHEN v_error IS NOT NULL THEN 'insufficient_funds' END,
                p_pending AND p_settle, p_reverses,
                -- The creator runs the first settlement attempt itself; retry
                -- workers leave it alone until this lease has passed.
                CASE WHEN p_pending AND p_settle THEN now() + p_settle_lease END)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        v_result := wallet_replay(p_key, p_fingerprint);
        INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id)
            VALUES (p_actor, p_kind, p_arguments, 'replayed', v_result.transaction_id);
        RETURN v_result;
    END IF;

    IF v_status = 'posted' THEN
        PERFORM wallet_apply_entry(v_debit, v_id, -p_amount);
        PERFORM wallet_apply_entry(v_credit, v_id, p_amount);
    ELSIF v_status = 'pending' THEN
        UPDATE wallets SET reserved = reserved + p_amount WHERE id = v_debit.id;
    END IF;

    INSERT INTO audit_log(actor, action, arguments, outcome, transaction_id, message)
        VALUES (p_actor, p_kind, p_arguments,
                CASE WHEN v_status = 'failed' THEN 'insufficient_funds' ELSE v_status END,
                v_id, v_error);
    RETURN wallet_movement_of(v_id, false);
END $$;

-- Creates a user's wallet for an asset. WL404 when the asset does not
-- exist, WL409 when the wallet exists, WL400 for a system account id.
CREATE FUNCTION wallet_create(p_user text, p_asset text, p_actor text)
RETURNS SETOF wallets LANGUAGE plpgsql AS $$
BEGIN
    IF left(p_user, 1) = '@' THEN
        RAISE EXCEPTION 'user ids starting with @ are reserved for system accounts' USING ERRCODE = 'WL400';
    END IF;
    PERFORM 1 FROM assets WHERE code = p_asset;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'asset % not found', p_asset USING ERRCODE = 'WL404';
    END IF;
    INSERT INTO wallets(user_id, asset) VALUES (p_user, p_asset) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'wallet %/% already exists', p_user, p_asset USING ERRCODE = 'WL409';
    END IF;
    INSERT INTO audit_log(actor, action, arguments, outcome)
        VALUES (p_actor, 'wallet.create', jsonb_build_object('user', p_user, 'asset', p_asset), 'ok');
    RETURN QUERY SELECT * FROM wallets WHERE user_id = p_user AND asset = p_asset AND shard = 0;
END $$;
