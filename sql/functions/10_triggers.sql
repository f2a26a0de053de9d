-- Triggers: rows that never change, rows never deleted, and the format
-- rules of wallets and transactions.
--
-- The format rules are triggers rather than CHECK constraints because
-- PostgreSQL 15 re-parses and re-plans every CHECK on each statement that
-- writes a table (29 of them took a quarter of a movement, see
-- 0006_hot_path.sql); a trigger that fires only on INSERT and on updates of
-- the columns it checks costs a balance update nothing. The money rules
-- stay CHECK constraints (wallets_available_not_negative,
-- transactions_amounts_valid, ledger_entries_amounts_valid,
-- audit_log_sizes). A refused format raises check_violation (SQLSTATE
-- 23514) naming the rule and the value's bound.
--
-- Bypassing any of these takes a table owner or a superuser on purpose
-- (ALTER TABLE ... DISABLE TRIGGER, session_replication_role = replica).

-- Append-only: UPDATE, DELETE and TRUNCATE of ledger entries and audit rows
-- are refused (WL403) for everyone, the owner included.
CREATE OR REPLACE FUNCTION wallet_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'WL403';
END $$;
CREATE OR REPLACE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change();
CREATE OR REPLACE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change();
CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change();
CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change();

-- The audit chain (0011_audit_chain.sql): every new audit row joins a
-- stripe of audit_chains, gets the stripe's next seq and its hash (hash
-- version 1, wallet_audit_hash), and advances the stripe's head. The stripe is one
-- nobody holds (SKIP LOCKED, in random order), else a random one waited
-- for, as wallet_lock_system picks a shard: concurrent movements do not
-- serialize on one head. The row lock on the head is held to commit, so a
-- stripe's seqs are gap-free and in commit order of its rows. A
-- transaction keeps the stripe it took (remembered in the transaction-local
-- setting wallet.audit_stripe) for all its audit rows: it never waits for a
-- second stripe while holding one, so stripes alone cannot deadlock. The
-- setting is only a hint (a caller may set it; the head is still locked
-- before it is used). Every value the trigger sets is overwritten, so a
-- caller cannot choose seq or hash. Bypassed only by a table owner who
-- disables it: reconcile --full and digest verify then report the row.
CREATE OR REPLACE FUNCTION wallet_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c        audit_chains;
    v_held   text := current_setting('wallet.audit_stripe', true);
    v_stripe smallint;
BEGIN
    IF v_held ~ '^[0-9]{1,4}$' THEN
        SELECT * INTO c FROM audit_chains WHERE stripe = v_held::smallint FOR UPDATE;
    END IF;
    IF c.stripe IS NULL THEN
        SELECT * INTO c FROM audit_chains ORDER BY random() LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            -- All stripes busy: wait for one, drawn once (random() in the
            -- WHERE clause would be drawn again for every row). After the
            -- wait, READ COMMITTED returns the head as its holder left it.
            v_stripe := floor(random() * wallet_audit_stripes())::smallint;
            SELECT * INTO c FROM audit_chains WHERE stripe = v_stripe FOR UPDATE;
        END IF;
        IF c.stripe IS NULL THEN
            RAISE EXCEPTION 'audit_chains has no stripes: run walletctl migrate' USING ERRCODE = 'WL403';
        END IF;
        PERFORM set_config('wallet.audit_stripe', c.stripe::text, true);
    END IF;
    NEW.stripe := c.stripe;
    NEW.seq := c.seq + 1;
    NEW.hash_version := 1;
    NEW.hash := wallet_audit_hash(c.hash, NEW);
    UPDATE audit_chains SET seq = NEW.seq, hash = NEW.hash WHERE stripe = c.stripe;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION wallet_audit_chain();

-- Assets, wallets and transactions are referred to by the ledger (without
-- foreign keys, see 0006_hot_path.sql): never truncated (WL403).
CREATE OR REPLACE FUNCTION wallet_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are never truncated: the ledger refers to them', TG_TABLE_NAME
        USING ERRCODE = 'WL403';
END $$;

-- Assets: never deleted; code and scale never change (WL403).
CREATE OR REPLACE FUNCTION wallet_assets_rules() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE TRIGGER assets_rules BEFORE DELETE OR UPDATE OF code, scale ON assets
    FOR EACH ROW EXECUTE FUNCTION wallet_assets_rules();
CREATE OR REPLACE TRIGGER assets_no_truncate BEFORE TRUNCATE ON assets
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_truncate();

-- Wallets: never deleted or re-keyed (WL403); on insert, a user id of 1-64
-- of [A-Za-z0-9._:@-], of which those starting with @ are only the three
-- system accounts, a shard in 0-63 and shard 0 for a user wallet (23514).
CREATE OR REPLACE FUNCTION wallet_wallets_rules() RETURNS trigger LANGUAGE plpgsql AS $$
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
        RAISE EXCEPTION 'wallets_rules: user id "%" is not 1-64 of A-Z a-z 0-9 . _ : @ -', left(NEW.user_id, 80)
            USING ERRCODE = 'check_violation';
    END IF;
    IF left(NEW.user_id, 1) = '@' AND NEW.user_id NOT IN ('@treasury', '@revenue', '@settlement') THEN
        RAISE EXCEPTION 'wallets_rules: "%" is not a system account (@treasury, @revenue, @settlement)', NEW.user_id
            USING ERRCODE = 'check_violation';
    END IF;
    -- (is_system is not computed yet in a BEFORE trigger.)
    IF NEW.shard NOT BETWEEN 0 AND 63 OR (left(NEW.user_id, 1) <> '@' AND NEW.shard <> 0) THEN
        RAISE EXCEPTION 'wallets_rules: shard % of %/% is not allowed (user wallets have shard 0, system accounts 0-63)',
            NEW.shard, NEW.user_id, NEW.asset USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER wallets_rules BEFORE INSERT OR DELETE OR UPDATE OF id, user_id, asset, shard ON wallets
    FOR EACH ROW EXECUTE FUNCTION wallet_wallets_rules();
CREATE OR REPLACE TRIGGER wallets_no_truncate BEFORE TRUNCATE ON wallets
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_truncate();

-- Transactions: never deleted (WL403), and what a request was never
-- changes (WL403). On insert and on updates of the columns they check
-- (23514): kind, status, the text bounds (key 1-128 characters, memo 500
-- bytes, actor 64, fingerprint 1024, last error 8000, metadata 4096); on
-- insert also (23514): the status a transaction starts in (pending, posted
-- or failed), posted_amount set exactly when posted, and reverses_id
-- exactly on a reversal, naming a transaction that exists.
CREATE OR REPLACE FUNCTION wallet_transactions_rules() RETURNS trigger LANGUAGE plpgsql AS $$
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
            THEN format('kind "%s" is not one of deposit, topup, bonus, withdraw, purchase, transfer, reversal',
                        left(NEW.kind, 40))
        WHEN NEW.status NOT IN ('pending', 'posted', 'voided', 'failed')
            THEN format('status "%s" is not one of pending, posted, voided, failed', left(NEW.status, 40))
        WHEN length(NEW.idempotency_key) NOT BETWEEN 1 AND 128 THEN 'the idempotency key is not 1-128 characters'
        WHEN octet_length(NEW.memo) > 500 THEN 'the memo is longer than 500 bytes'
        WHEN octet_length(NEW.actor) > 64 THEN 'the actor is longer than 64 bytes'
        WHEN octet_length(NEW.fingerprint) > 1024 THEN 'the fingerprint is longer than 1024 bytes'
        WHEN octet_length(NEW.last_error) > 8000 THEN 'the last error is longer than 8000 bytes'
        WHEN octet_length(NEW.metadata::text) > 4096 THEN 'the metadata is longer than 4096 bytes'
        WHEN TG_OP <> 'INSERT' THEN NULL
        WHEN NEW.status = 'voided' THEN 'a transaction starts pending, posted or failed'
        WHEN (NEW.posted_amount IS NOT NULL) <> (NEW.status = 'posted')
            THEN 'posted_amount is set exactly when the transaction is posted'
        WHEN (NEW.reverses_id IS NOT NULL) <> (NEW.kind = 'reversal')
            THEN 'reverses_id is set exactly on a reversal'
    END;
    -- (Apart: a query in the CASE above would take every insert off
    -- PL/pgSQL's fast path for simple expressions.)
    IF v_rule IS NULL AND NEW.reverses_id IS NOT NULL AND TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM transactions WHERE id = NEW.reverses_id) THEN
            v_rule := format('transaction %s, which this reversal names, does not exist', NEW.reverses_id);
        END IF;
    END IF;
    IF v_rule IS NOT NULL THEN
        RAISE EXCEPTION 'transactions_rules: %', v_rule USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER transactions_rules
    BEFORE INSERT OR DELETE
        OR UPDATE OF id, idempotency_key, fingerprint, kind, asset, debit_wallet_id, credit_wallet_id,
                     amount, reverses_id, status, memo, actor, last_error, metadata
    ON transactions FOR EACH ROW EXECUTE FUNCTION wallet_transactions_rules();
CREATE OR REPLACE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON transactions
    FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_truncate();

-- A transaction's life (WL403), on every update, by anyone but a table
-- owner who disables the trigger (see the README's guarantees). The
-- transition table:
--
--   from      to
--   pending   pending (attempts up, next attempt, last error), posted, voided
--   posted    -  (final: a reversal is a transaction of its own)
--   voided    -  (final)
--   failed    -  (final)
--
-- Memo, actor, metadata, settle, error_code, created_at and expires_at
-- never change; attempts never go down; posted_amount is set by the move
-- to posted and by nothing else. An AFTER trigger, so that a value out of
-- its bounds is still reported as the CHECK violation it is.
CREATE OR REPLACE FUNCTION wallet_transactions_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' OR NEW.status NOT IN ('pending', 'posted', 'voided') THEN
        RAISE EXCEPTION 'transaction %: % -> % is not a permitted change (pending -> posted or voided; '
                        'posted, voided and failed are final)', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'WL403';
    END IF;
    IF (NEW.memo, NEW.actor, NEW.metadata, NEW.settle, NEW.error_code, NEW.created_at, NEW.expires_at)
       IS DISTINCT FROM
       (OLD.memo, OLD.actor, OLD.metadata, OLD.settle, OLD.error_code, OLD.created_at, OLD.expires_at)
       OR NEW.attempts < OLD.attempts
       OR (NEW.posted_amount IS NOT NULL) <> (NEW.status = 'posted') THEN
        RAISE EXCEPTION 'transaction %: memo, actor, metadata, settlement, error code, times and attempts never '
                        'go back or change, and posted_amount is set only by posting', OLD.id
            USING ERRCODE = 'WL403';
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER transactions_transitions AFTER UPDATE ON transactions
    FOR EACH ROW EXECUTE FUNCTION wallet_transactions_transition();
