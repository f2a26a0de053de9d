-- 0006_hot_path: the same rules as 0001-0005 at a lower cost per movement
-- (issue 5). Measured with perf on the backends under `walletctl bench` and
-- with pgbench running wallet_move() on one connection (server CPU per
-- movement: 596 us before this migration, about 300 after; see
-- docs/scaling.md for the figures and commands):
--
--   * wallet_rfc3339() is STABLE, as to_char() is: declared IMMUTABLE it
--     could not be inlined, and every movement planned it twice (5%).
--   * CHECK constraints cost a re-parse of their stored text and a planning
--     pass on every statement that writes the table (PostgreSQL 15 does not
--     cache them across statements): 29 of them took 25% of a movement.
--     The rules that guard money stay CHECK constraints, one per table,
--     every rule intact. The format rules (user ids, kinds, statuses,
--     lengths) move to BEFORE triggers that fire only on INSERT and on
--     updates of the columns they check, so a balance update pays nothing
--     for them. Error code and constraint names stay those of the CHECKs.
--   * The foreign keys of transactions and ledger_entries (6 queries per
--     movement, 14% of a movement, 37% of an import) are replaced by what
--     makes them unnecessary: only the SECURITY DEFINER entry points write
--     those tables (0005), taking the ids from rows they hold locked; no
--     wallet, asset or transaction is ever deleted or re-keyed (triggers,
--     below); and reconcile --full reports any entry or transaction whose
--     wallet or transaction does not exist.
--   * wallet_move() looks the key up once (the INSERT ... ON CONFLICT that
--     claims it), reads the asset's scale in the statement that locks the
--     wallets, and updates both wallets with one statement.

ALTER FUNCTION wallet_rfc3339(timestamptz) STABLE;

-- Foreign keys -------------------------------------------------------------

ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_wallet_id_fkey,
    DROP CONSTRAINT ledger_entries_transaction_id_fkey;
ALTER TABLE transactions
    DROP CONSTRAINT transactions_debit_wallet_id_fkey,
    DROP CONSTRAINT transactions_credit_wallet_id_fkey,
    DROP CONSTRAINT transactions_asset_fkey,
    DROP CONSTRAINT transactions_reverses_id_fkey;

-- Rows that others refer to are never deleted or re-keyed, by anyone (the
-- owner included; bypassing this takes session_replication_role = replica,
-- as for the append-only triggers).
CREATE FUNCTION wallet_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are never truncated: the ledger refers to them', TG_TABLE_NAME
        USING ERRCODE = 'WL403';
END $$;

CREATE FUNCTION wallet_assets_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'assets are never deleted: asset % has wallets and transactions', OLD.code
            USING ERRCODE = 'WL403';
    END IF;
    IF NEW.code IS DISTINCT FROM OLD.code OR NEW.scale IS DISTINCT FROM OLD.scale THEN
        RAISE EXCEPTION 'the code and scale of asset % never change', OLD.code USING ERRCODE = 'WL403';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER assets_rules BEFORE DELETE OR UPDATE OF code, scale ON assets
    FOR EACH ROW EXECUTE FUNCTION wallet_assets_rules();
CREATE TRIGGER assets_no_truncate BEFORE TRUNCATE ON assets
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_truncate();

-- Wallets: never deleted or re-keyed; the format rules of 0001 on insert.
ALTER TABLE wallets
    DROP CONSTRAINT wallets_user_id_check,
    DROP CONSTRAINT wallets_shard_check,
    DROP CONSTRAINT wallets_user_single_shard,
    DROP CONSTRAINT wallets_version_check,
    DROP CONSTRAINT wallets_reserved_check,
    DROP CONSTRAINT wallets_available_not_negative;
-- The money rules, in one constraint (the name of the one it extends).
ALTER TABLE wallets ADD CONSTRAINT wallets_available_not_negative
    CHECK (reserved >= 0 AND version >= 0 AND (is_system OR balance - reserved >= 0));

CREATE FUNCTION wallet_wallets_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'wallets are never deleted: wallet %/% has a ledger', OLD.user_id, OLD.asset
            USING ERRCODE = 'WL403';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.id, NEW.user_id, NEW.asset, NEW.shard)
                            IS DISTINCT FROM (OLD.id, OLD.user_id, OLD.asset, OLD.shard) THEN
        RAISE EXCEPTION 'the id, user, asset and shard of wallet %/% never change', OLD.user_id, OLD.asset
            USING ERRCODE = 'WL403';
    END IF;
    IF NEW.user_id !~ '^[A-Za-z0-9._:@-]{1,64}$' THEN
        RAISE EXCEPTION 'new row for relation "wallets" violates check constraint "wallets_user_id_check"'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wallets_user_id_check';
    END IF;
    -- (is_system is not computed yet in a BEFORE trigger.)
    IF NEW.shard NOT BETWEEN 0 AND 63 OR (left(NEW.user_id, 1) <> '@' AND NEW.shard <> 0) THEN
        RAISE EXCEPTION 'new row for relation "wallets" violates check constraint "wallets_user_single_shard"'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'wallets_user_single_shard';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER wallets_rules BEFORE INSERT OR DELETE OR UPDATE OF id, user_id, asset, shard ON wallets
    FOR EACH ROW EXECUTE FUNCTION wallet_wallets_rules();
CREATE TRIGGER wallets_no_truncate BEFORE TRUNCATE ON wallets
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_truncate();

-- Transactions: never deleted; what a request was never changes; the
-- format rules of 0001 and 0005 on insert and on updates of those columns.
ALTER TABLE transactions
    DROP CONSTRAINT transactions_amount_check,
    DROP CONSTRAINT transactions_check,
    DROP CONSTRAINT transactions_check1,
    DROP CONSTRAINT transactions_check2,
    DROP CONSTRAINT transactions_idempotency_key_check,
    DROP CONSTRAINT transactions_kind_check,
    DROP CONSTRAINT transactions_status_check,
    DROP CONSTRAINT transactions_memo_check,
    DROP CONSTRAINT transactions_actor_length,
    DROP CONSTRAINT transactions_fingerprint_length,
    DROP CONSTRAINT transactions_last_error_length,
    DROP CONSTRAINT transactions_metadata_size;
ALTER TABLE transactions ADD CONSTRAINT transactions_amounts_valid
    CHECK (amount > 0 AND posted_amount > 0 AND posted_amount <= amount
           AND debit_wallet_id <> credit_wallet_id AND (status = 'failed') = (error_code IS NOT NULL));

CREATE FUNCTION wallet_transactions_rules() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_rule text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'transactions are never deleted: transaction % is on record', OLD.id
            USING ERRCODE = 'WL403';
    END IF;
    IF TG_OP = 'UPDATE' AND (NEW.id, NEW.idempotency_key, NEW.fingerprint, NEW.kind, NEW.asset,
                             NEW.debit_wallet_id, NEW.credit_wallet_id, NEW.amount, NEW.reverses_id)
                            IS DISTINCT FROM
                            (OLD.id, OLD.idempotency_key, OLD.fingerprint, OLD.kind, OLD.asset,
                             OLD.debit_wallet_id, OLD.credit_wallet_id, OLD.amount, OLD.reverses_id) THEN
        RAISE EXCEPTION 'transaction %: what was requested never changes (only its status and attempts)', OLD.id
            USING ERRCODE = 'WL403';
    END IF;
    v_rule := CASE
        WHEN NEW.kind NOT IN ('deposit', 'topup', 'bonus', 'withdraw', 'purchase', 'transfer', 'reversal')
            THEN 'transactions_kind_check'
        WHEN NEW.status NOT IN ('pending', 'posted', 'voided', 'failed') THEN 'transactions_status_check'
        WHEN length(NEW.idempotency_key) NOT BETWEEN 1 AND 128 THEN 'transactions_idempotency_key_check'
        WHEN octet_length(NEW.memo) > 500 THEN 'transactions_memo_check'
        WHEN octet_length(NEW.actor) > 64 THEN 'transactions_actor_length'
        WHEN octet_length(NEW.fingerprint) > 1024 THEN 'transactions_fingerprint_length'
        WHEN octet_length(NEW.last_error) > 8000 THEN 'transactions_last_error_length'
        WHEN octet_length(NEW.metadata::text) > 4096 THEN 'transactions_metadata_size'
    END;
    IF v_rule IS NOT NULL THEN
        RAISE EXCEPTION 'new row for relation "transactions" violates check constraint "%"', v_rule
            USING ERRCODE = 'check_violation', CONSTRAINT = v_rule;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transactions_rules
    BEFORE INSERT OR DELETE
        OR UPDATE OF id, idempotency_key, fingerprint, kind, asset, debit_wallet_id, credit_wallet_id,
                     amount, reverses_id, status, memo, actor, last_error, metadata
    ON transactions FOR EACH ROW EXECUTE FUNCTION wallet_transactions_rules();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_truncate();

-- Ledger entries and audit rows: their checks, one constraint per table.
ALTER TABLE ledger_entries
    DROP CONSTRAINT ledger_entries_amount_check,
    DROP CONSTRAINT ledger_entries_version_check,
    DROP CONSTRAINT ledger_entries_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_amounts_valid
    CHECK (amount <> 0 AND version > 0 AND balance_after = balance_before + amount);
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_actor_length,
    DROP CONSTRAINT audit_log_message_length,
    DROP CONSTRAINT audit_log_arguments_size;
-- NOT VALID, as in 0005: rows from before the limits are not scanned.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_sizes
    CHECK (octet_length(actor) <= 64 AND octet_length(message) <= 8000
           AND octet_length(arguments::text) <= 16384) NOT VALID;

-- wallet_move ---------------------------------------------------------------

-- The stored answer for a key used before, with its 'replayed' audit row;
-- NULL when the key is new; WL409 when it was used for another request.
CREATE FUNCTION wallet_replay_audited(p_key text, p_fingerprint text, p_actor text, p_kind text,
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

-- One money movement, as in 0004 (same signature, contract and errors).
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
    v_row      record;
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
        -- Something is missing. A key used before still answers first, as
        -- in 0004 (replay, or conflict for another request).
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
                             next_attempt_at)
        VALUES (p_key, p_fingerprint, p_kind, v_status, p_asset, v_debit.id, v_credit.id,
                p_amount, CASE WHEN v_status = 'posted' THEN p_amount END, coalesce(p_memo, ''), p_actor,
                v_expires, v_error, CASE WHEN v_error IS NOT NULL THEN 'insufficient_funds' END,
                p_pending AND p_settle, p_reverses,
                CASE WHEN p_pending AND p_settle THEN now() + p_settle_lease END)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, created_at INTO v_id, v_created;
    IF v_id IS NULL THEN
        RETURN wallet_replay_audited(p_key, p_fingerprint, p_actor, p_kind, p_arguments);
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
        UPDATE wallets w SET balance = v.balance, version = v.version, last_hash = v.hash
          FROM (VALUES (v_debit.id, v_after, v_version, v_hash),
                       (v_credit.id, c_after, c_version, c_hash)) AS v(id, balance, version, hash)
         WHERE w.id = v.id;
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
