-- Bulk application of movements (walletctl import, bench setup).
--
-- wallet_import_batch() applies a batch of lines in one statement, hence one
-- database transaction, with the rules of one wallet_move() per line, in
-- line order:
--   * a key that exists replays (same fingerprint) or conflicts (another
--     request); a key repeated inside the batch behaves as if its lines had
--     been sent one after another;
--   * a user wallet never goes below zero: a line that would overdraw is
--     recorded as a failed transaction (insufficient_funds) under its key;
--   * every posted line writes its transaction row and two ledger entries
--     whose versions, running balances and hash chain continue per wallet;
--     each wallet row is written once per batch, with its end state;
--   * lock order is the one used everywhere: user wallets in id order, then
--     system-account shards (one per account and asset, in name order), so
--     batches and single movements cannot deadlock each other.
--
-- Why not call wallet_move() once per line inside one transaction: every
-- update of a row adds a row version that later lookups of that row step
-- over, so N movements on the same wallets cost O(N^2). Here the balances
-- are carried in arrays, and each wallet row is updated once.
--
-- The audit log gets one row per batch (action 'import': source, line range
-- and counts) rather than one per line; each transaction row carries the
-- actor, and failed ones their reason.
--
-- Dry mode (walletctl import --dry-run), chosen by the session setting
-- wallet.import_dry_run = 'on' (Store sets it, with set_config(..., true),
-- in the dry run's REPEATABLE READ transaction): the same rules run over the
-- same arrays and give the real run's answers, against the snapshot at the
-- start of the dry run and the file's own earlier lines, but
--   * wallets are read without locks, overlaid by what earlier batches of
--     the dry run would have done: the state of the wallets it changed or
--     created (created ones get negative ids) and the keys it recorded live
--     in two temporary tables dropped with the transaction
--     (wallet_import_dry_run_prepare), so no movement ever waits for it;
--   * nothing else is written, and once the temporary tables exist the
--     transaction is read-only, so PostgreSQL itself refuses any other
--     write (not even nextval: new lines report no transaction id).
-- Anyone may set wallet.import_dry_run: it only makes a batch write less.
-- The dry run holds a snapshot (and ACCESS SHARE locks, which only DDL
-- waits for) until it ends.

-- Creates the wallets of 'wallet' lines that do not exist yet, once per
-- (user, asset), and audits each creation. Returns, per line, whether that
-- line created its wallet. Lines with an unknown asset, or a system account
-- id (starting with @), create nothing.
CREATE OR REPLACE FUNCTION wallet_import_create_wallets(p_wallet_lines boolean[], p_users text[], p_assets text[],
                                             p_lines bigint[], p_actor text, p_source text)
RETURNS boolean[] LANGUAGE sql AS $$
    WITH wanted AS (
        SELECT DISTINCT ON (x.u, x.a) x.u, x.a, x.i, x.line
        FROM unnest(p_wallet_lines, p_users, p_assets, p_lines) WITH ORDINALITY AS x(w, u, a, line, i)
        WHERE x.w AND left(x.u, 1) <> '@' AND EXISTS (SELECT 1 FROM assets WHERE code = x.a)
        ORDER BY x.u, x.a, x.i),
    made AS (
        INSERT INTO wallets(user_id, asset)
            SELECT u, a FROM wanted ORDER BY u, a ON CONFLICT DO NOTHING
            RETURNING user_id, asset),
    made_at AS (
        SELECT w.i, w.u, w.a, w.line FROM made m JOIN wanted w ON w.u = m.user_id AND w.a = m.asset),
    audited AS (
        INSERT INTO audit_log(actor, action, arguments, outcome)
            SELECT p_actor, 'wallet.create',
                   jsonb_build_object('user', u, 'asset', a, 'source', p_source || ':' || line), 'ok'
            FROM made_at)
    SELECT array_agg(m.i IS NOT NULL ORDER BY x.i)
    FROM generate_series(1, cardinality(p_lines)) AS x(i) LEFT JOIN made_at m ON m.i = x.i
$$;

-- The dry run's state: wallets as it has left them and the keys it has
-- recorded, in temporary tables that vanish with its transaction. Then the
-- transaction turns read-only (allowed at any point; the way back is not).
CREATE OR REPLACE FUNCTION wallet_import_dry_run_prepare() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp.wallet_import_dry_wallets') IS NULL THEN
        CREATE TEMPORARY TABLE wallet_import_dry_wallets (LIKE wallets INCLUDING DEFAULTS, PRIMARY KEY (id))
            ON COMMIT DROP;
        CREATE INDEX ON wallet_import_dry_wallets (user_id, asset);
        CREATE TEMPORARY TABLE wallet_import_dry_keys (
            idempotency_key text PRIMARY KEY,
            fingerprint     text NOT NULL,
            status          text NOT NULL,
            message         text) ON COMMIT DROP;
    END IF;
    PERFORM set_config('transaction_read_only', 'on', true);
END $$;

-- The user wallets (shard 0) of the given (user, asset) pairs, '@' users
-- left out: for a batch, locked in id order; for a dry run, unlocked and
-- as the dry run's state shows them.
CREATE OR REPLACE FUNCTION wallet_import_user_wallets(p_users text[], p_assets text[], p_dry boolean)
RETURNS SETOF wallets LANGUAGE plpgsql AS $$
BEGIN
    IF NOT p_dry THEN
        RETURN QUERY SELECT * FROM wallets
                      WHERE shard = 0 AND (user_id, asset) IN (
                            SELECT u, a FROM unnest(p_users, p_assets) AS x(u, a) WHERE left(u, 1) <> '@')
                      ORDER BY id FOR UPDATE;
        RETURN;
    END IF;
    RETURN QUERY
        WITH wanted AS (SELECT DISTINCT u, a FROM unnest(p_users, p_assets) AS x(u, a) WHERE left(u, 1) <> '@')
        SELECT d.* FROM wallet_import_dry_wallets d JOIN wanted ON d.user_id = wanted.u AND d.asset = wanted.a
        UNION ALL
        SELECT w.* FROM wallets w JOIN wanted ON w.user_id = wanted.u AND w.asset = wanted.a AND w.shard = 0
         WHERE NOT EXISTS (SELECT 1 FROM wallet_import_dry_wallets d WHERE d.id = w.id);
END $$;

-- One shard of a system account: for a batch, locked (wallet_lock_system);
-- for a dry run, the one it already moved, else the first, unlocked.
CREATE OR REPLACE FUNCTION wallet_import_system_shard(p_user text, p_asset text, p_dry boolean) RETURNS wallets
LANGUAGE plpgsql AS $$
DECLARE
    w wallets;
BEGIN
    IF NOT p_dry THEN
        RETURN wallet_lock_system(p_user, p_asset);
    END IF;
    SELECT d.* INTO w FROM wallet_import_dry_wallets d
     WHERE d.user_id = p_user AND d.asset = p_asset ORDER BY d.id LIMIT 1;
    IF NOT FOUND THEN
        SELECT * INTO w FROM wallets WHERE user_id = p_user AND asset = p_asset ORDER BY shard LIMIT 1;
    END IF;
    IF w.id IS NULL THEN
        RAISE EXCEPTION 'system account %/% not found', p_user, p_asset USING ERRCODE = 'WL404';
    END IF;
    RETURN w;
END $$;

-- A dry run's wallet_import_create_wallets: the wallets of 'wallet' lines
-- that neither exist nor were created earlier in the dry run, once per
-- (user, asset), into its state. Returns, per line, whether that line
-- created its wallet.
CREATE OR REPLACE FUNCTION wallet_import_dry_create_wallets(p_wallet_lines boolean[], p_users text[], p_assets text[])
RETURNS boolean[] LANGUAGE plpgsql AS $$
DECLARE
    v_lowest bigint := (SELECT coalesce(min(id), 0) FROM wallet_import_dry_wallets WHERE id < 0);
    v_made   boolean[];
BEGIN
    WITH wanted AS (
        SELECT DISTINCT ON (x.u, x.a) x.u, x.a, x.i
          FROM unnest(p_wallet_lines, p_users, p_assets) WITH ORDINALITY AS x(w, u, a, i)
         WHERE x.w AND EXISTS (SELECT 1 FROM assets WHERE code = x.a)
           AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = x.u AND w.asset = x.a)
           AND NOT EXISTS (SELECT 1 FROM wallet_import_dry_wallets d WHERE d.user_id = x.u AND d.asset = x.a)
         ORDER BY x.u, x.a, x.i),
    made AS (
        INSERT INTO wallet_import_dry_wallets(id, user_id, asset, shard, is_system, balance, reserved, version,
                                              last_hash, created_at)
            SELECT v_lowest - row_number() OVER (ORDER BY u, a), u, a, 0, left(u, 1) = '@', 0, 0, 0, '\x'::bytea, now()
              FROM wanted)
    SELECT array_agg(wanted.i IS NOT NULL ORDER BY x.i) INTO v_made
      FROM generate_series(1, cardinality(p_wallet_lines)) AS x(i) LEFT JOIN wanted ON wanted.i = x.i;
    RETURN v_made;
END $$;

-- What a dry batch would have written, into the dry run's state: the keys
-- it recorded (posted or failed, with the message) and the balances and
-- versions of the wallets it moved.
CREATE OR REPLACE FUNCTION wallet_import_dry_record(p_keys text[], p_fingerprints text[], p_status text[], p_messages text[],
                                         p_ids bigint[], p_balances bigint[], p_versions bigint[], p_starts bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wallet_import_dry_keys(idempotency_key, fingerprint, status, message)
        SELECT x.k, x.fp, x.status, x.message
          FROM unnest(p_keys, p_fingerprints, p_status, p_messages) AS x(k, fp, status, message)
         WHERE x.status IS NOT NULL;
    UPDATE wallet_import_dry_wallets d SET balance = s.balance, version = s.version
      FROM unnest(p_ids, p_balances, p_versions, p_starts) AS s(id, balance, version, start)
     WHERE d.id = s.id AND s.version <> s.start;
    INSERT INTO wallet_import_dry_wallets(id, user_id, asset, shard, is_system, balance, reserved, version,
                                          last_hash, created_at)
        SELECT w.id, w.user_id, w.asset, w.shard, w.is_system, s.balance, w.reserved, s.version, w.last_hash,
               w.created_at
          FROM unnest(p_ids, p_balances, p_versions, p_starts) AS s(id, balance, version, start)
          JOIN wallets w ON w.id = s.id
         WHERE s.version <> s.start AND NOT EXISTS (SELECT 1 FROM wallet_import_dry_wallets d WHERE d.id = s.id);
END $$;

-- Applies one batch. Arrays are parallel, one element per line (ordinal
-- 1..n). A 'wallet' line (p_wallet_lines) first creates the user's wallet
-- (p_credits) if it is missing; with an amount it is then an opening-balance
-- deposit from @treasury under its own key, without one (p_amounts and
-- p_keys NULL) its outcome is 'applied' when it created the wallet and
-- 'replayed' when the wallet existed. A wallet created at line i can be used
-- by the lines after i.
--
-- Returns one row per line: the outcome (applied | replayed | refused |
-- not_found | conflict | invalid), the transaction id when one is recorded
-- under the line's key, and a message for every outcome but applied and
-- replayed. A line is invalid when its accounts are not its kind's route
-- (wallet_route_error: no reversals, only @treasury debited) or a wallet
-- line names a system account (@...): import never creates one.
-- p_references (NULL: none at all) gives each line's external reference
-- (NULL: none), stored with its transaction; the caller includes it in the
-- line's fingerprint. Raises WL400 when the arrays differ in length, a
-- reference is not 1-140 bytes without control characters, or the actor or
-- source is NULL, and
-- 40001 (retry the batch: the retry replays) when a concurrent writer
-- claimed one of its keys between the check and the insert.
CREATE OR REPLACE FUNCTION wallet_import_batch(p_lines bigint[], p_wallet_lines boolean[], p_keys text[],
                                    p_fingerprints text[], p_kinds text[], p_debits text[],
                                    p_credits text[], p_assets text[], p_amounts bigint[],
                                    p_memos text[], p_actor text, p_source text,
                                    p_references text[] DEFAULT NULL)
RETURNS TABLE (ordinal integer, outcome text, transaction_id bigint, message text)
LANGUAGE plpgsql AS $$
DECLARE
    n           integer := coalesce(cardinality(p_lines), 0);
    v_dry       boolean := coalesce(current_setting('wallet.import_dry_run', true), '') = 'on';
    v_sequence  regclass := pg_get_serial_sequence('transactions', 'id');
    -- Per line.
    l_made_here boolean[];   -- a wallet line that created its wallet
    l_debit     integer[];   -- slot of the debit wallet (NULL: not found)
    l_credit    integer[];
    l_scale     integer[];   -- NULL: asset not found
    l_first     integer[];   -- first ordinal in the batch with the same key
    l_old_id    bigint[];    -- the transaction recorded under the key before
    l_old_fp    text[];      -- ... its fingerprint
    l_old_state text[];      -- ... and its status
    l_old_error text[];      -- dry run: the message of a key recorded by an earlier batch of the run
    l_claimer   integer[];   -- for a first ordinal: the line that recorded its key
    o_outcome   text[];
    o_id        bigint[];
    o_message   text[];
    o_status    text[];      -- posted | failed for the lines that record a transaction
    o_debit_id  bigint[];
    o_credit_id bigint[];
    -- Per wallet slot: the user wallets (locked in id order), then system shards.
    s_id        bigint[];
    s_user      text[];
    s_asset     text[];
    s_system    boolean[];
    s_from      integer[];   -- first ordinal that may use it (0: existed before the batch)
    s_balance   bigint[];
    s_reserved  bigint[];
    s_version   bigint[];
    s_hash      bytea[];
    s_start     bigint[];    -- version before the batch
    -- Ledger entries to write.
    e_n         integer := 0;
    e_wallet bigint[]; e_txn bigint[]; e_amount bigint[]; e_version bigint[];
    e_before bigint[]; e_after bigint[]; e_hash bytea[];
    t_n         integer := 0;  -- transactions to write
    v_count     integer;
    v_shard     wallets;
    d integer; c integer; f integer; w integer; v_amount bigint; v_id bigint; v_text text;
    v_digest    bytea;       -- the transaction's fixed fields, for its entries' hashes
BEGIN
    IF n = 0 THEN RETURN; END IF;
    -- Parallel arrays of one length (unnest would pad a short one with NULLs).
    IF p_actor IS NULL OR p_source IS NULL
       OR (SELECT count(DISTINCT coalesce(x.len, -1)) <> 1
             FROM unnest(ARRAY[cardinality(p_wallet_lines), cardinality(p_keys), cardinality(p_fingerprints),
                               cardinality(p_kinds), cardinality(p_debits), cardinality(p_credits),
                               cardinality(p_assets), cardinality(p_amounts), cardinality(p_memos),
                               coalesce(cardinality(p_references), n)] || n) AS x(len)) THEN
        RAISE EXCEPTION 'a batch needs an actor, a source and one element per line in every array'
            USING ERRCODE = 'WL400';
    END IF;
    IF EXISTS (SELECT FROM unnest(p_references) AS r(reference)
                WHERE octet_length(r.reference) NOT BETWEEN 1 AND 140 OR r.reference ~ '[[:cntrl:]]') THEN
        RAISE EXCEPTION 'a reference is 1 to 140 bytes without control characters' USING ERRCODE = 'WL400';
    END IF;

    -- 0. A dry run keeps what it would have done in its temporary tables,
    --    and from here on may write nothing else.
    IF v_dry THEN
        PERFORM wallet_import_dry_run_prepare();
    END IF;

    -- 1. Wallets of 'wallet' lines.
    IF v_dry THEN
        l_made_here := wallet_import_dry_create_wallets(p_wallet_lines, p_credits, p_assets);
    ELSIF true = ANY(p_wallet_lines) THEN
        l_made_here := wallet_import_create_wallets(p_wallet_lines, p_credits, p_assets, p_lines, p_actor, p_source);
    ELSE
        l_made_here := array_fill(false, ARRAY[n]);
    END IF;

    -- 2. The user wallets of the batch, locked in id order (a dry run:
    --    read as its own state shows them, unlocked). One created by this
    --    batch may be used from the line that created it on.
    SELECT array_agg(w.id ORDER BY w.id), array_agg(w.user_id ORDER BY w.id),
           array_agg(w.asset ORDER BY w.id), array_agg(coalesce(nw.i, 0) ORDER BY w.id),
           array_agg(w.balance ORDER BY w.id), array_agg(w.reserved ORDER BY w.id),
           array_agg(w.version ORDER BY w.id), array_agg(w.last_hash ORDER BY w.id)
      INTO s_id, s_user, s_asset, s_from, s_balance, s_reserved, s_version, s_hash
      FROM wallet_import_user_wallets(p_debits || p_credits, p_assets || p_assets, v_dry) w
      LEFT JOIN (SELECT x.u, x.a, min(x.i)::integer AS i
                   FROM unnest(p_credits, p_assets, l_made_here) WITH ORDINALITY AS x(u, a, made, i)
                  WHERE x.made GROUP BY x.u, x.a) nw ON nw.u = w.user_id AND nw.a = w.asset;
    s_id := coalesce(s_id, '{}'); s_user := coalesce(s_user, '{}'); s_asset := coalesce(s_asset, '{}');
    s_from := coalesce(s_from, '{}'); s_balance := coalesce(s_balance, '{}');
    s_reserved := coalesce(s_reserved, '{}'); s_version := coalesce(s_version, '{}');
    s_hash := coalesce(s_hash, '{}');
    s_system := array_fill(false, ARRAY[cardinality(s_id)]);

    -- 3. One shard of each system account the batch touches, after the
    --    user wallets and in (account, asset) order.
    FOR v_shard IN
        SELECT shard.*
          FROM (SELECT DISTINCT u, a FROM (
                    SELECT u, a FROM unnest(p_debits, p_assets) AS x(u, a)
                    UNION ALL SELECT u, a FROM unnest(p_credits, p_assets) AS x(u, a)) y
                 WHERE u IN ('@treasury', '@revenue', '@settlement') AND EXISTS (SELECT 1 FROM assets WHERE code = y.a)
                 ORDER BY u, a) s
          CROSS JOIN LATERAL wallet_import_system_shard(s.u, s.a, v_dry) AS shard
    LOOP
        s_id := s_id || v_shard.id; s_user := s_user || v_shard.user_id;
        s_asset := s_asset || v_shard.asset; s_system := s_system || true; s_from := s_from || 0;
        s_balance := s_balance || v_shard.balance; s_reserved := s_reserved || v_shard.reserved;
        s_version := s_version || v_shard.version; s_hash := s_hash || v_shard.last_hash;
    END LOOP;
    s_start := s_version;

    -- 4. Per line: its wallet slots, the asset's scale, the first line of
    --    the batch with the same key, and what the key recorded before.
    --    The key is looked up with one index probe per line (a scalar
    --    subquery, kept from being flattened by OFFSET 0): a join could
    --    choose to scan all transactions.
    SELECT array_agg(ds.slot::integer ORDER BY x.i), array_agg(cs.slot::integer ORDER BY x.i),
           array_agg(a.scale::integer ORDER BY x.i), array_agg(x.first_i::integer ORDER BY x.i),
           array_agg((x.old).id ORDER BY x.i), array_agg((x.old).fingerprint ORDER BY x.i),
           array_agg((x.old).status ORDER BY x.i)
      INTO l_debit, l_credit, l_scale, l_first, l_old_id, l_old_fp, l_old_state
      FROM (SELECT y.*, first_value(y.i) OVER k AS first_i,
                   (SELECT t FROM transactions t WHERE t.idempotency_key = y.k) AS old
              FROM unnest(p_keys, p_debits, p_credits, p_assets) WITH ORDINALITY AS y(k, du, cu, a, i)
            -- Keys cannot contain spaces, so a line without a key is a partition of its own.
            WINDOW k AS (PARTITION BY coalesce(y.k, ' ' || y.i) COLLATE "C" ORDER BY y.i) OFFSET 0) x
      LEFT JOIN assets a ON a.code = x.a
      LEFT JOIN unnest(s_user, s_asset) WITH ORDINALITY AS ds(u, a, slot) ON ds.u = x.du AND ds.a = x.a
      LEFT JOIN unnest(s_user, s_asset) WITH ORDINALITY AS cs(u, a, slot) ON cs.u = x.cu AND cs.a = x.a;

    -- A dry run also sees the keys its earlier batches recorded.
    IF v_dry THEN
        SELECT array_agg(CASE WHEN d.idempotency_key IS NULL THEN x.fp ELSE d.fingerprint END ORDER BY x.i),
               array_agg(CASE WHEN d.idempotency_key IS NULL THEN x.status ELSE d.status END ORDER BY x.i),
               array_agg(d.message ORDER BY x.i)
          INTO l_old_fp, l_old_state, l_old_error
          FROM unnest(p_keys, l_old_fp, l_old_state) WITH ORDINALITY AS x(k, fp, status, i)
          LEFT JOIN wallet_import_dry_keys d ON d.idempotency_key = x.k;
    END IF;

    l_claimer := array_fill(NULL::integer, ARRAY[n]);
    o_outcome := array_fill(NULL::text, ARRAY[n]);
    o_id := array_fill(NULL::bigint, ARRAY[n]);
    o_message := array_fill(NULL::text, ARRAY[n]);
    o_status := array_fill(NULL::text, ARRAY[n]);
    o_debit_id := array_fill(NULL::bigint, ARRAY[n]);
    o_credit_id := array_fill(NULL::bigint, ARRAY[n]);

    -- 5. The lines in order, as wallet_move() would see them one by one.
    --    (In PL/pgSQL a subscript costs O(1); inside a query O(position).)
    FOR i IN 1..n LOOP
        f := l_first[i];
        d := l_debit[i];
        c := l_credit[i];
        v_amount := p_amounts[i];
        IF p_wallet_lines[i] AND left(p_credits[i], 1) = '@' THEN
            o_outcome[i] := 'invalid';
            o_message[i] := 'user ids starting with @ are reserved for system accounts';
            CONTINUE;
        END IF;
        IF l_scale[i] IS NULL THEN
            o_outcome[i] := 'not_found'; o_message[i] := format('asset %s not found', p_assets[i]);
            CONTINUE;
        END IF;
        IF p_wallet_lines[i] AND v_amount IS NULL THEN
            o_outcome[i] := CASE WHEN l_made_here[i] THEN 'applied' ELSE 'replayed' END;
            CONTINUE;
        END IF;
        IF v_amount IS NULL OR v_amount <= 0 OR p_keys[i] IS NULL OR p_fingerprints[i] IS NULL THEN
            o_outcome[i] := 'invalid'; o_message[i] := 'a movement needs a positive amount, a key and a fingerprint';
            CONTINUE;
        END IF;
        v_text := wallet_route_error(p_kinds[i], p_debits[i], p_credits[i]);
        IF v_text IS NOT NULL THEN
            o_outcome[i] := 'invalid'; o_message[i] := v_text;
            CONTINUE;
        END IF;
        -- The key: recorded before the batch (or, in a dry run, by an earlier batch of it) ...
        IF l_old_fp[i] IS NOT NULL THEN
            IF l_old_fp[i] <> p_fingerprints[i] THEN
                o_outcome[i] := 'conflict';
                o_message[i] := format('idempotency key "%s" was already used for a different request (transaction %s)',
                                       p_keys[i], l_old_id[i]);
                CONTINUE;
            END IF;
            o_id[i] := l_old_id[i];
            o_outcome[i] := CASE l_old_state[i] WHEN 'failed' THEN 'refused' WHEN 'voided' THEN 'conflict'
                                                ELSE 'replayed' END;
            IF o_outcome[i] <> 'replayed' AND l_old_id[i] IS NULL THEN
                o_message[i] := format('%s (recorded earlier in this run under key "%s")', l_old_error[i], p_keys[i]);
            ELSIF o_outcome[i] <> 'replayed' THEN
                SELECT format('%s (recorded before under key "%s" as transaction %s)',
                              coalesce(t.last_error, t.status), t.idempotency_key, t.id)
                  INTO v_text FROM transactions t WHERE t.id = l_old_id[i];
                o_message[i] := v_text;
            END IF;
            CONTINUE;
        END IF;
        -- ... or by an earlier line of the batch.
        IF l_claimer[f] IS NOT NULL THEN
            IF p_fingerprints[l_claimer[f]] <> p_fingerprints[i] THEN
                o_outcome[i] := 'conflict';
                o_message[i] := format('idempotency key "%s" was already used for a different request (line %s)',
                                       p_keys[i], p_lines[l_claimer[f]]);
            ELSE
                o_id[i] := o_id[l_claimer[f]];
                o_outcome[i] := CASE o_outcome[l_claimer[f]] WHEN 'refused' THEN 'refused' ELSE 'replayed' END;
                o_message[i] := o_message[l_claimer[f]];
            END IF;
            CONTINUE;
        END IF;
        IF d IS NULL OR c IS NULL OR s_from[d] > i OR s_from[c] > i THEN
            o_outcome[i] := 'not_found';
            o_message[i] := format('wallet %s/%s not found',
                                   CASE WHEN d IS NULL OR s_from[d] > i THEN p_debits[i] ELSE p_credits[i] END,
                                   p_assets[i]);
            CONTINUE;
        END IF;

        v_id := CASE WHEN v_dry THEN NULL ELSE nextval(v_sequence) END;
        l_claimer[f] := i;
        o_id[i] := v_id;
        o_debit_id[i] := s_id[d];
        o_credit_id[i] := s_id[c];
        t_n := t_n + 1;
        IF NOT s_system[d] AND s_balance[d] - s_reserved[d] < v_amount THEN
            o_outcome[i] := 'refused';
            o_status[i] := 'failed';
            o_message[i] := format('insufficient funds: wallet %s/%s has %s available, %s requested',
                                   p_debits[i], p_assets[i],
                                   wallet_format_amount(s_balance[d] - s_reserved[d], l_scale[i]),
                                   wallet_format_amount(v_amount, l_scale[i]));
            CONTINUE;
        END IF;
        o_outcome[i] := 'applied';
        o_status[i] := 'posted';
        -- Hash version 2 over the transaction as step 6 writes it.
        v_digest := wallet_transaction_digest(v_id, p_kinds[i], p_assets[i], s_id[d], s_id[c], v_amount, p_keys[i],
                                              coalesce(p_memos[i], ''), p_actor, now(), NULL);
        FOREACH w IN ARRAY ARRAY[d, c] LOOP
            e_n := e_n + 1;
            e_wallet[e_n] := s_id[w];
            e_txn[e_n] := v_id;
            e_amount[e_n] := CASE WHEN w = d THEN -v_amount ELSE v_amount END;
            e_version[e_n] := s_version[w] + 1;
            e_before[e_n] := s_balance[w];
            e_after[e_n] := s_balance[w] + e_amount[e_n];
            e_hash[e_n] := wallet_entry_hash_v2(s_hash[w], s_id[w], e_version[e_n], e_amount[e_n],
                                                e_before[e_n], e_after[e_n], now(), v_digest);
            s_version[w] := e_version[e_n];
            s_balance[w] := e_after[e_n];
            s_hash[w] := e_hash[e_n];
        END LOOP;
    END LOOP;

    IF v_dry THEN
        PERFORM wallet_import_dry_record(p_keys, p_fingerprints, o_status, o_message, s_id, s_balance, s_version,
                                         s_start);
        RETURN QUERY SELECT x.i::integer, x.outcome, x.id, x.message
                       FROM unnest(o_outcome, o_id, o_message) WITH ORDINALITY AS x(outcome, id, message, i);
        RETURN;
    END IF;

    -- 6. The writes, each one statement over the arrays zipped by unnest.
    --    The keys are claimed first: a concurrent writer that got one of
    --    them since step 4 makes the batch fail with 40001; its retry replays.
    INSERT INTO transactions(id, idempotency_key, fingerprint, kind, status, asset, debit_wallet_id,
                             credit_wallet_id, amount, posted_amount, memo, actor, last_error, error_code,
                             reference)
        OVERRIDING SYSTEM VALUE
        SELECT x.id, x.k, x.fp, x.kind, x.status, x.a, x.debit_id, x.credit_id, x.amount,
               CASE WHEN x.status = 'posted' THEN x.amount END, coalesce(x.memo, ''), p_actor,
               CASE WHEN x.status = 'failed' THEN x.message END,
               CASE WHEN x.status = 'failed' THEN 'insufficient_funds' END, x.reference
          FROM unnest(p_keys, p_fingerprints, p_kinds, p_assets, p_amounts, p_memos,
                      o_debit_id, o_credit_id, o_status, o_id, o_message, p_references)
               AS x(k, fp, kind, a, amount, memo, debit_id, credit_id, status, id, message, reference)
         WHERE x.status IS NOT NULL
        ON CONFLICT (idempotency_key) DO NOTHING;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count <> t_n THEN
        RAISE EXCEPTION 'an idempotency key of this batch was claimed concurrently; retry the batch'
            USING ERRCODE = '40001';
    END IF;

    INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash,
                               created_at, hash_version)
        SELECT x.*, now(), 2 FROM unnest(e_wallet, e_txn, e_amount, e_version, e_before, e_after, e_hash) AS x;

    UPDATE wallets w SET balance = s.balance, version = s.version, last_hash = s.hash
      FROM unnest(s_id, s_balance, s_version, s_hash, s_start) AS s(id, balance, version, hash, start)
     WHERE w.id = s.id AND s.version <> s.start;

    INSERT INTO audit_log(actor, action, arguments, outcome, message)
        SELECT p_actor, 'import',
               jsonb_build_object('source', p_source, 'first_line', p_lines[1], 'last_line', p_lines[n],
                                  'lines', n),
               'ok', string_agg(o || ' ' || k, ', ' ORDER BY o)
          FROM (SELECT o, count(*) AS k FROM unnest(o_outcome) AS o GROUP BY o) counts;

    RETURN QUERY SELECT x.i::integer, x.outcome, x.id, x.message
                   FROM unnest(o_outcome, o_id, o_message) WITH ORDINALITY AS x(outcome, id, message, i);
END $$;
