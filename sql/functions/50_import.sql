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

-- Creates the wallets of 'wallet' lines that do not exist yet, once per
-- (user, asset), and audits each creation. Returns, per line, whether that
-- line created its wallet. Lines with an unknown asset create nothing.
CREATE OR REPLACE FUNCTION wallet_import_create_wallets(p_wallet_lines boolean[], p_users text[], p_assets text[],
                                             p_lines bigint[], p_actor text, p_source text)
RETURNS boolean[] LANGUAGE sql AS $$
    WITH wanted AS (
        SELECT DISTINCT ON (x.u, x.a) x.u, x.a, x.i, x.line
        FROM unnest(p_wallet_lines, p_users, p_assets, p_lines) WITH ORDINALITY AS x(w, u, a, line, i)
        WHERE x.w AND EXISTS (SELECT 1 FROM assets WHERE code = x.a)
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
-- replayed. Raises 40001 (retry the batch: the retry replays) when a
-- concurrent writer claimed one of its keys between the check and the insert.
CREATE OR REPLACE FUNCTION wallet_import_batch(p_lines bigint[], p_wallet_lines boolean[], p_keys text[],
                                    p_fingerprints text[], p_kinds text[], p_debits text[],
                                    p_credits text[], p_assets text[], p_amounts bigint[],
                                    p_memos text[], p_actor text, p_source text)
RETURNS TABLE (ordinal integer, outcome text, transaction_id bigint, message text)
LANGUAGE plpgsql AS $$
DECLARE
    n           integer := coalesce(cardinality(p_lines), 0);
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
BEGIN
    IF n = 0 THEN RETURN; END IF;

    -- 1. Wallets of 'wallet' lines.
    IF true = ANY(p_wallet_lines) THEN
        l_made_here := wallet_import_create_wallets(p_wallet_lines, p_credits, p_assets, p_lines, p_actor, p_source);
    ELSE
        l_made_here := array_fill(false, ARRAY[n]);
    END IF;

    -- 2. The user wallets of the batch, locked in id order. One created by
    --    this batch may be used from the line that created it on.
    SELECT array_agg(w.id ORDER BY w.id), array_agg(w.user_id ORDER BY w.id),
           array_agg(w.asset ORDER BY w.id), array_agg(coalesce(nw.i, 0) ORDER BY w.id),
           array_agg(w.balance ORDER BY w.id), array_agg(w.reserved ORDER BY w.id),
           array_agg(w.version ORDER BY w.id), array_agg(w.last_hash ORDER BY w.id)
      INTO s_id, s_user, s_asset, s_from, s_balance, s_reserved, s_version, s_hash
      FROM (SELECT * FROM wallets
             WHERE shard = 0 AND (user_id, asset) IN (
                   SELECT u, a FROM unnest(p_debits, p_assets) AS x(u, a) WHERE left(u, 1) <> '@'
                   UNION SELECT u, a FROM unnest(p_credits, p_assets) AS x(u, a) WHERE left(u, 1) <> '@')
             ORDER BY id FOR UPDATE) w
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
                 WHERE left(u, 1) = '@' AND EXISTS (SELECT 1 FROM assets WHERE code = y.a)
                 ORDER BY u, a) s
          CROSS JOIN LATERAL wallet_lock_system(s.u, s.a) AS shard
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
        IF l_scale[i] IS NULL THEN
            o_outcome[i] := 'not_found'; o_message[i] := format('asset %s not found', p_assets[i]);
            CONTINUE;
        END IF;
        IF p_wallet_lines[i] AND v_amount IS NULL THEN
            o_outcome[i] := CASE WHEN l_made_here[i] THEN 'applied' ELSE 'replayed' END;
            CONTINUE;
        END IF;
        IF v_amount IS NULL OR v_amount <= 0 OR p_keys[i] IS NULL THEN
            o_outcome[i] := 'invalid'; o_message[i] := 'a movement needs a positive amount and a key';
            CONTINUE;
        END IF;
        IF left(p_debits[i], 1) = '@' AND left(p_credits[i], 1) = '@' OR p_debits[i] = p_credits[i] THEN
            o_outcome[i] := 'invalid';
            o_message[i] := 'a movement needs two different accounts, at least one of them a user wallet';
            CONTINUE;
        END IF;
        -- The key: recorded before the batch ...
        IF l_old_id[i] IS NOT NULL THEN
            IF l_old_fp[i] <> p_fingerprints[i] THEN
                o_outcome[i] := 'conflict';
                o_message[i] := format('idempotency key "%s" was already used for a different request (transaction %s)',
                                       p_keys[i], l_old_id[i]);
                CONTINUE;
            END IF;
            o_id[i] := l_old_id[i];
            o_outcome[i] := CASE l_old_state[i] WHEN 'failed' THEN 'refused' WHEN 'voided' THEN 'conflict'
                                                ELSE 'replayed' END;
            IF o_outcome[i] <> 'replayed' THEN
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

        v_id := nextval(v_sequence);
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
        FOREACH w IN ARRAY ARRAY[d, c] LOOP
            e_n := e_n + 1;
            e_wallet[e_n] := s_id[w];
            e_txn[e_n] := v_id;
            e_amount[e_n] := CASE WHEN w = d THEN -v_amount ELSE v_amount END;
            e_version[e_n] := s_version[w] + 1;
            e_before[e_n] := s_balance[w];
            e_after[e_n] := s_balance[w] + e_amount[e_n];
            e_hash[e_n] := wallet_entry_hash(s_hash[w], s_id[w], e_version[e_n], v_id, e_amount[e_n],
                                             e_before[e_n], e_after[e_n]);
            s_version[w] := e_version[e_n];
            s_balance[w] := e_after[e_n];
            s_hash[w] := e_hash[e_n];
        END LOOP;
    END LOOP;

    -- 6. The writes, each one statement over the arrays zipped by unnest.
    --    The keys are claimed first: a concurrent writer that got one of
    --    them since step 4 makes the batch fail with 40001; its retry replays.
    INSERT INTO transactions(id, idempotency_key, fingerprint, kind, status, asset, debit_wallet_id,
                             credit_wallet_id, amount, posted_amount, memo, actor, last_error, error_code)
        OVERRIDING SYSTEM VALUE
        SELECT x.id, x.k, x.fp, x.kind, x.status, x.a, x.debit_id, x.credit_id, x.amount,
               CASE WHEN x.status = 'posted' THEN x.amount END, coalesce(x.memo, ''), p_actor,
               CASE WHEN x.status = 'failed' THEN x.message END,
               CASE WHEN x.status = 'failed' THEN 'insufficient_funds' END
          FROM unnest(p_keys, p_fingerprints, p_kinds, p_assets, p_amounts, p_memos,
                      o_debit_id, o_credit_id, o_status, o_id, o_message)
               AS x(k, fp, kind, a, amount, memo, debit_id, credit_id, status, id, message)
         WHERE x.status IS NOT NULL
        ON CONFLICT (idempotency_key) DO NOTHING;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count <> t_n THEN
        RAISE EXCEPTION 'an idempotency key of this batch was claimed concurrently; retry the batch'
            USING ERRCODE = '40001';
    END IF;

    INSERT INTO ledger_entries(wallet_id, transaction_id, amount, version, balance_before, balance_after, hash)
        SELECT * FROM unnest(e_wallet, e_txn, e_amount, e_version, e_before, e_after, e_hash);

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
