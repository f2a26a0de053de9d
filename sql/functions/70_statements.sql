-- Statement matching (`walletctl reconcile statement`): the rules that
-- match an external statement's lines with the ledger's movements on one
-- account, and the recording of runs (tables in 0012_statements.sql).

-- Helper of wallet_statement_run (runs with its rights): applies the
-- groups in pg_temp.statement_work_pairs under rule p_rule and empties it.
CREATE OR REPLACE FUNCTION wallet_statement_apply(p_rule text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_groups integer;
BEGIN
    SELECT count(DISTINCT match_id) INTO v_groups FROM pg_temp.statement_work_pairs;
    IF v_groups = 0 THEN
        RETURN 0;
    END IF;
    UPDATE pg_temp.statement_work_lines l SET match_id = p.match_id, rule = p_rule
      FROM (SELECT DISTINCT lid, match_id FROM pg_temp.statement_work_pairs) p
     WHERE l.lid = p.lid AND l.match_id IS NULL;
    UPDATE pg_temp.statement_work_movements m SET match_id = p.match_id, rule = p_rule
      FROM (SELECT DISTINCT transaction_id, match_id FROM pg_temp.statement_work_pairs) p
     WHERE m.transaction_id = p.transaction_id AND m.match_id IS NULL;
    TRUNCATE pg_temp.statement_work_pairs;
    RETURN v_groups;
END $$;

-- Matches the lines the caller copied into its temporary table
-- pg_temp.statement_upload(line, booked_at, whole_day, amount, reference,
-- description, currency) -- granted SELECT to wallet_owner -- against the
-- posted movements of p_account's wallets in p_asset, records the file
-- (once per content hash), the matches and the run, and returns the run id.
--
-- Direction: a line's amount is the external account's view, the ledger
-- entry's on p_account the opposite (a payout of 10 is -10 on the
-- statement, +10 on @settlement). The window is [p_since, p_until) (NULL:
-- from the file's first line to the end of its last); movements up to
-- p_window outside it are candidates, only those inside are reported.
-- Rules, in order, each on what is still unmatched:
--   reference        a line's reference is a movement's idempotency key or
--                    id, same direction, amount within p_tolerance
--   reference_split  several lines with one movement's reference whose sum
--                    is its amount
--   amount_date      same amount (within p_tolerance) and direction, the
--                    movement within p_window of the line's date; closest
--                    first, ties by line and id
--   amount_date_batch   one line for several movements in a row (time
--                    order, within its window) whose sum is its amount
--   amount_date_split   several lines in a row (date and file order) whose
--                    sum is one movement's amount
-- Lines whose currency is not p_asset never match, and a line whose
-- reference names a movement of the account is never matched by amount
-- (nor is that movement). Then mismatches: an
-- unmatched line whose reference names a movement on the account that
-- differs in status, currency, direction or amount.
-- Errors: WL400 for bad arguments or upload rows, WL404 when p_account has
-- no wallet in p_asset. Concurrent runs on one account are serialized.
CREATE OR REPLACE FUNCTION wallet_statement_run(p_account text, p_asset text, p_sha256 text, p_name text, p_format text,
                                     p_since timestamptz, p_until timestamptz, p_tolerance bigint,
                                     p_window interval, p_actor text, p_arguments jsonb)
RETURNS bigint
-- Its statements are planned on working tables whose row counts change as
-- rules match; JIT compilation cost seconds per statement for no gain.
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    v_wallets  bigint[];
    v_file     bigint;
    v_file_new boolean := false;
    v_since    timestamptz := p_since;
    v_until    timestamptz := p_until;
    v_run      bigint;
    v_lines    integer;
    v_groups   integer := 0;
    v_progress integer;
    v_rounds   integer := 0;
    r          record;
BEGIN
    IF p_tolerance IS NULL OR p_tolerance < 0 OR p_tolerance > 1000000000000000 THEN
        RAISE EXCEPTION 'amount tolerance must be from 0 to 10^15 minor units' USING ERRCODE = 'WL400';
    END IF;
    IF p_window IS NULL OR p_window < interval '0' OR p_window > interval '31 days' THEN
        RAISE EXCEPTION 'date window must be from 0 to 31 days' USING ERRCODE = 'WL400';
    END IF;
    IF p_since IS NOT NULL AND p_until IS NOT NULL AND p_until <= p_since THEN
        RAISE EXCEPTION 'until must be after since' USING ERRCODE = 'WL400';
    END IF;
    IF p_format NOT IN ('csv', 'jsonl', 'camt053') OR p_sha256 !~ '^[0-9a-f]{64}$'
       OR octet_length(p_name) > 1000 OR octet_length(p_actor) > 64 THEN
        RAISE EXCEPTION 'invalid statement file description' USING ERRCODE = 'WL400';
    END IF;
    SELECT array_agg(id) INTO v_wallets FROM wallets WHERE user_id = p_account AND asset = p_asset;
    IF v_wallets IS NULL THEN
        RAISE EXCEPTION 'no wallet of % in asset %', left(p_account, 64), left(p_asset, 12) USING ERRCODE = 'WL404';
    END IF;
    PERFORM pg_advisory_xact_lock(727411003, hashtext(p_account || '/' || p_asset));
    IF EXISTS (SELECT FROM pg_temp.statement_upload u
                WHERE u.line IS NULL OR u.line <= 0 OR u.booked_at IS NULL OR u.whole_day IS NULL
                   OR u.amount IS NULL OR u.amount = 0 OR u.reference IS NULL OR octet_length(u.reference) > 140
                   OR u.description IS NULL OR octet_length(u.description) > 500
                   OR u.currency IS NULL OR octet_length(u.currency) > 12) THEN
        RAISE EXCEPTION 'statement lines need a positive line number, a date, a non-zero amount and bounded text'
            USING ERRCODE = 'WL400';
    END IF;

    -- The file: recorded once per content.
    SELECT id INTO v_file FROM statement_files WHERE account = p_account AND asset = p_asset AND sha256 = p_sha256;
    IF v_file IS NULL THEN
        SELECT count(*) INTO v_lines FROM pg_temp.statement_upload;
        INSERT INTO statement_files(account, asset, sha256, name, format, lines)
             VALUES (p_account, p_asset, p_sha256, p_name, p_format, v_lines) RETURNING id INTO v_file;
        v_file_new := true;
        SELECT coalesce(v_since, min(u.booked_at)),
               coalesce(v_until, max(u.booked_at + CASE WHEN u.whole_day THEN interval '1 day'
                                                        ELSE interval '1 microsecond' END))
          INTO v_since, v_until FROM pg_temp.statement_upload u;
    ELSE
        SELECT coalesce(v_since, min(l.booked_at)),
               coalesce(v_until, max(l.booked_at + CASE WHEN l.whole_day THEN interval '1 day'
                                                        ELSE interval '1 microsecond' END))
          INTO v_since, v_until FROM statement_lines l WHERE l.file_id = v_file;
    END IF;
    v_since := coalesce(v_since, now());
    v_until := greatest(coalesce(v_until, v_since), v_since);
    INSERT INTO statement_runs(file_id, file_new, actor, since, until, amount_tolerance, date_window)
         VALUES (v_file, v_file_new, p_actor, v_since, v_until, p_tolerance, p_window) RETURNING id INTO v_run;

    -- Working sets: the lines that may match (this file's, and earlier
    -- files' unmatched lines near the window), the movements that may.
    DROP TABLE IF EXISTS pg_temp.statement_work_lines, pg_temp.statement_work_movements,
                         pg_temp.statement_work_keys, pg_temp.statement_work_pairs;
    CREATE TEMP TABLE statement_work_lines ON COMMIT DROP AS
    SELECT row_number() OVER () AS lid, x.*,
           x.booked_at - p_window AS lo,
           x.booked_at + CASE WHEN x.whole_day THEN interval '1 day' ELSE interval '1 microsecond' END + p_window AS hi,
           x.booked_at + CASE WHEN x.whole_day THEN interval '12 hours' ELSE interval '0' END AS middle,
           (x.currency = '' OR x.currency = p_asset) AS usable, false AS names_movement,
           NULL::bigint AS match_id, NULL::text AS rule
      FROM (SELECT v_file AS file_id, u.line, u.booked_at, u.whole_day, u.amount, u.reference, u.description,
                   u.currency, true AS is_new, u.booked_at >= v_since AND u.booked_at < v_until AS in_window
              FROM pg_temp.statement_upload u WHERE v_file_new
            UNION ALL
            SELECT l.file_id, l.line, l.booked_at, l.whole_day, l.amount, l.reference, l.description, l.currency,
                   false, l.file_id <> v_file OR (l.booked_at >= v_since AND l.booked_at < v_until)
              FROM statement_lines l JOIN statement_files f ON f.id = l.file_id
             WHERE l.match_id IS NULL AND f.account = p_account AND f.asset = p_asset
               AND l.booked_at >= v_since - p_window - interval '1 day' AND l.booked_at < v_until + p_window) x;
    CREATE TEMP TABLE statement_work_movements ON COMMIT DROP AS
    SELECT e.transaction_id, e.created_at AS at, -e.amount AS amount, false AS named,
           NULL::bigint AS match_id, NULL::text AS rule
      FROM ledger_entries e
     WHERE e.wallet_id = ANY (v_wallets) AND e.created_at >= v_since - p_window AND e.created_at < v_until + p_window
       AND NOT EXISTS (SELECT FROM statement_matched_transactions s
                        WHERE s.account = p_account AND s.transaction_id = e.transaction_id);
    CREATE TEMP TABLE statement_work_keys ON COMMIT DROP AS
    SELECT t.idempotency_key AS key, t.id AS transaction_id
      FROM pg_temp.statement_work_movements m JOIN transactions t ON t.id = m.transaction_id
    UNION ALL
    SELECT m.transaction_id::text, m.transaction_id FROM pg_temp.statement_work_movements m
    UNION ALL
    -- The movement's own external reference (--reference, or the settlement
    -- command's), unless it repeats one of the two above.
    SELECT t.reference, t.id
      FROM pg_temp.statement_work_movements m JOIN transactions t ON t.id = m.transaction_id
     WHERE t.reference IS NOT NULL AND t.reference <> t.idempotency_key AND t.reference <> t.id::text;
    CREATE TEMP TABLE statement_work_pairs (match_id bigint, lid bigint, transaction_id bigint) ON COMMIT DROP;
    ANALYZE pg_temp.statement_work_lines;
    ANALYZE pg_temp.statement_work_movements;
    ANALYZE pg_temp.statement_work_keys;

    -- reference: one line, one movement.
    LOOP
        INSERT INTO pg_temp.statement_work_pairs
        SELECT nextval('statement_match_ids'), c.lid, c.transaction_id FROM (
            SELECT l.lid, m.transaction_id,
                   row_number() OVER (PARTITION BY m.transaction_id ORDER BY l.lid) AS rank_line,
                   row_number() OVER (PARTITION BY l.lid ORDER BY m.transaction_id) AS rank_movement
              FROM pg_temp.statement_work_lines l
              JOIN pg_temp.statement_work_keys k ON k.key = l.reference
              JOIN pg_temp.statement_work_movements m ON m.transaction_id = k.transaction_id
             WHERE l.match_id IS NULL AND m.match_id IS NULL AND l.in_window AND l.usable AND l.reference <> ''
               AND sign(l.amount) = sign(m.amount) AND abs(l.amount - m.amount) <= p_tolerance) c
         WHERE c.rank_line = 1 AND c.rank_movement = 1;
        v_progress := wallet_statement_apply('reference');
        v_groups := v_groups + v_progress;
        v_rounds := v_rounds + 1;
        EXIT WHEN v_progress = 0 OR v_rounds > 1000;
    END LOOP;

    -- reference_split: several lines with one movement's reference.
    INSERT INTO pg_temp.statement_work_pairs
    SELECT g.match_id, unnest(g.lids), g.transaction_id FROM (
        SELECT nextval('statement_match_ids') AS match_id, s.lids, s.transaction_id FROM (
            SELECT m.transaction_id, array_agg(l.lid) AS lids
              FROM pg_temp.statement_work_lines l
              JOIN pg_temp.statement_work_keys k ON k.key = l.reference
              JOIN pg_temp.statement_work_movements m ON m.transaction_id = k.transaction_id
             WHERE l.match_id IS NULL AND m.match_id IS NULL AND l.in_window AND l.usable AND l.reference <> ''
               AND sign(l.amount) = sign(m.amount)
             GROUP BY m.transaction_id, m.amount
            HAVING count(*) >= 2 AND abs(sum(l.amount) - m.amount) <= p_tolerance) s) g;
    v_groups := v_groups + wallet_statement_apply('reference_split');

    IF EXISTS (SELECT FROM pg_temp.statement_work_lines WHERE match_id IS NULL AND in_window AND usable) THEN
        -- A line whose reference names a movement of the account is judged
        -- against that movement only (a duplicate, or a mismatch): the
        -- amount rules leave it, and the movement it names, alone.
        UPDATE pg_temp.statement_work_lines l SET names_movement = true
         WHERE l.match_id IS NULL AND l.reference <> ''
           AND EXISTS (SELECT FROM transactions t
                        WHERE (t.idempotency_key = l.reference OR t.reference = l.reference
                               OR t.id = CASE WHEN l.reference ~ '^[0-9]{1,18}$' THEN l.reference::bigint END)
                          AND t.asset = p_asset
                          AND (t.debit_wallet_id = ANY (v_wallets) OR t.credit_wallet_id = ANY (v_wallets)));
        UPDATE pg_temp.statement_work_movements m SET named = true
          FROM pg_temp.statement_work_keys k JOIN pg_temp.statement_work_lines l ON l.reference = k.key
         WHERE m.transaction_id = k.transaction_id AND l.match_id IS NULL AND m.match_id IS NULL;
        CREATE INDEX ON pg_temp.statement_work_movements (amount, at) WHERE match_id IS NULL;
        CREATE INDEX ON pg_temp.statement_work_movements (at) WHERE match_id IS NULL;
        -- amount_date: one line, one movement; the closest in time first.
        v_rounds := 0;
        LOOP
            INSERT INTO pg_temp.statement_work_pairs
            SELECT nextval('statement_match_ids'), c.lid, c.transaction_id FROM (
                SELECT l.lid, m.transaction_id,
                       row_number() OVER (PARTITION BY m.transaction_id
                                          ORDER BY abs(extract(epoch FROM m.at - l.middle)), l.lid) AS rank_line,
                       row_number() OVER (PARTITION BY l.lid
                                          ORDER BY abs(extract(epoch FROM m.at - l.middle)), m.transaction_id)
                           AS rank_movement
                  FROM pg_temp.statement_work_lines l
                  JOIN pg_temp.statement_work_movements m
                    ON m.amount BETWEEN l.amount - p_tolerance AND l.amount + p_tolerance
                   AND m.at >= l.lo AND m.at < l.hi
                 WHERE l.match_id IS NULL AND m.match_id IS NULL AND l.in_window AND l.usable
                   AND NOT l.names_movement AND NOT m.named AND sign(l.amount) = sign(m.amount)) c
             WHERE c.rank_line = 1 AND c.rank_movement = 1;
            v_progress := wallet_statement_apply('amount_date');
            v_groups := v_groups + v_progress;
            v_rounds := v_rounds + 1;
            EXIT WHEN v_progress = 0 OR v_rounds > 1000;
        END LOOP;

        -- amount_date_batch: one line for several movements in a row (in
        -- time order, among those of its window still unmatched) whose sum
        -- is its amount: a provider's batch payout. The earliest run first.
        FOR r IN SELECT l.lid, l.amount, l.lo, l.hi FROM pg_temp.statement_work_lines l
                  WHERE l.match_id IS NULL AND l.in_window AND l.usable AND NOT l.names_movement ORDER BY l.lid LOOP
            EXECUTE format($q$
                WITH s AS MATERIALIZED (
                    SELECT m.transaction_id, row_number() OVER w AS k, sum(m.amount) OVER w AS c
                      FROM pg_temp.statement_work_movements m
                     WHERE m.match_id IS NULL AND NOT m.named AND sign(m.amount) = sign($1)
                       AND m.at >= $2 AND m.at < $3
                    WINDOW w AS (ORDER BY m.at, m.transaction_id)),
                starts AS (SELECT 0::bigint AS k, 0::numeric AS c UNION ALL SELECT k, c FROM s),
                best AS (SELECT a.k AS first_k, b.k AS last_k FROM starts a JOIN s b ON %s AND b.k >= a.k + 2
                          ORDER BY a.k, b.k LIMIT 1),
                g AS (SELECT nextval('statement_match_ids') AS match_id, first_k, last_k FROM best)
                INSERT INTO pg_temp.statement_work_pairs
                SELECT g.match_id, $4, s.transaction_id FROM g JOIN s ON s.k > g.first_k AND s.k <= g.last_k$q$,
                -- Exact sums join on equality (a hash join); a tolerance needs a range.
                CASE WHEN p_tolerance = 0 THEN 'b.c = a.c + $1'
                     ELSE 'b.c BETWEEN a.c + $1 - $5 AND a.c + $1 + $5' END)
            USING r.amount, r.lo, r.hi, r.lid, p_tolerance;
            v_groups := v_groups + wallet_statement_apply('amount_date_batch');
        END LOOP;

        -- amount_date_split: several lines in a row (in date and file
        -- order) for one movement within all their windows.
        IF (SELECT count(*) FROM pg_temp.statement_work_lines
             WHERE match_id IS NULL AND in_window AND usable AND NOT names_movement) >= 2 THEN
            FOR r IN SELECT m.transaction_id, m.amount, m.at FROM pg_temp.statement_work_movements m
                      WHERE m.match_id IS NULL AND NOT m.named ORDER BY m.at, m.transaction_id LOOP
                EXECUTE format($q$
                    WITH s AS MATERIALIZED (
                        SELECT l.lid, row_number() OVER w AS k, sum(l.amount) OVER w AS c
                          FROM pg_temp.statement_work_lines l
                         WHERE l.match_id IS NULL AND l.in_window AND l.usable AND NOT l.names_movement
                           AND sign(l.amount) = sign($1)
                           AND $2 >= l.lo AND $2 < l.hi
                        WINDOW w AS (ORDER BY l.booked_at, l.file_id, l.line)),
                    starts AS (SELECT 0::bigint AS k, 0::numeric AS c UNION ALL SELECT k, c FROM s),
                    best AS (SELECT a.k AS first_k, b.k AS last_k FROM starts a JOIN s b ON %s AND b.k >= a.k + 2
                              ORDER BY a.k, b.k LIMIT 1),
                    g AS (SELECT nextval('statement_match_ids') AS match_id, first_k, last_k FROM best)
                    INSERT INTO pg_temp.statement_work_pairs
                    SELECT g.match_id, s.lid, $3 FROM g JOIN s ON s.k > g.first_k AND s.k <= g.last_k$q$,
                    CASE WHEN p_tolerance = 0 THEN 'b.c = a.c + $1'
                         ELSE 'b.c BETWEEN a.c + $1 - $4 AND a.c + $1 + $4' END)
                USING r.amount, r.at, r.transaction_id, p_tolerance;
                v_groups := v_groups + wallet_statement_apply('amount_date_split');
            END LOOP;
        END IF;
    END IF;

    -- Findings. Mismatches: unmatched lines whose reference names a
    -- movement on the account that differs from them.
    INSERT INTO statement_run_findings(run_id, kind, file_id, line, transaction_id, field, ledger, statement, reason)
    SELECT v_run, CASE WHEN x.field IS NULL THEN 'unmatched_line' ELSE 'mismatched' END, x.file_id, x.line,
           CASE WHEN x.field IS NULL THEN NULL ELSE x.id END, x.field, x.ledger, x.statement,
           CASE WHEN x.field IS NOT NULL THEN NULL
                WHEN x.id IS NULL THEN NULL
                WHEN x.matched THEN 'transaction ' || x.id || ' is already matched to another line'
                ELSE 'transaction ' || x.id || ' is outside the window' END
      FROM (SELECT DISTINCT ON (l.lid) l.file_id, l.line, t.id,
                   coalesce(t.matched, false) AS matched,
                   CASE WHEN t.id IS NULL THEN NULL
                        WHEN t.status <> 'posted' THEN 'status'
                        WHEN NOT l.usable THEN 'asset'
                        WHEN sign(t.expected) <> sign(l.amount) THEN 'direction'
                        WHEN abs(t.expected - l.amount) > p_tolerance THEN 'amount' END AS field,
                   CASE WHEN t.status <> 'posted' THEN t.status
                        WHEN NOT l.usable THEN p_asset
                        WHEN sign(t.expected) <> sign(l.amount) THEN CASE WHEN t.expected < 0 THEN 'out' ELSE 'in' END
                        ELSE wallet_format_amount(t.expected, a.scale) END AS ledger,
                   CASE WHEN t.status <> 'posted' THEN 'booked'
                        WHEN NOT l.usable THEN l.currency
                        WHEN sign(t.expected) <> sign(l.amount) THEN CASE WHEN l.amount < 0 THEN 'out' ELSE 'in' END
                        ELSE wallet_format_amount(l.amount, a.scale) END AS statement
              FROM pg_temp.statement_work_lines l
              JOIN assets a ON a.code = p_asset
              LEFT JOIN LATERAL (
                  SELECT c.id, c.status,
                         CASE WHEN c.credit_wallet_id = ANY (v_wallets) THEN -1 ELSE 1 END
                             * coalesce(c.posted_amount, c.amount) AS expected,
                         EXISTS (SELECT FROM statement_matched_transactions s
                                  WHERE s.account = p_account AND s.transaction_id = c.id)
                             OR EXISTS (SELECT FROM pg_temp.statement_work_movements m
                                         WHERE m.transaction_id = c.id AND m.match_id IS NOT NULL) AS matched
                    FROM (SELECT t1.* FROM transactions t1 WHERE t1.idempotency_key = l.reference
                          UNION ALL
                          SELECT t2.* FROM transactions t2
                           WHERE t2.id = CASE WHEN l.reference ~ '^[0-9]{1,18}$' THEN l.reference::bigint END
                          UNION ALL
                          SELECT t3.* FROM transactions t3 WHERE t3.reference = l.reference) c
                   WHERE c.asset = p_asset AND (c.debit_wallet_id = ANY (v_wallets) OR c.credit_wallet_id = ANY (v_wallets))
                   ORDER BY c.id LIMIT 1) t ON l.reference <> ''
             WHERE l.match_id IS NULL AND l.in_window AND (l.file_id = v_file OR t.id IS NOT NULL)
             ORDER BY l.lid) x
     WHERE x.file_id = v_file OR x.field IS NOT NULL;
    INSERT INTO statement_run_findings(run_id, kind, transaction_id)
    SELECT v_run, 'unmatched_transaction', m.transaction_id FROM pg_temp.statement_work_movements m
     WHERE m.match_id IS NULL AND m.at >= v_since AND m.at < v_until
       AND NOT EXISTS (SELECT FROM statement_run_findings f
                        WHERE f.run_id = v_run AND f.kind = 'mismatched' AND f.transaction_id = m.transaction_id)
     ORDER BY m.transaction_id;

    -- Record: the new file's lines, earlier lines matched now, the movements.
    INSERT INTO statement_lines(file_id, line, booked_at, whole_day, amount, reference, description, currency, match_id)
    SELECT l.file_id, l.line, l.booked_at, l.whole_day, l.amount, l.reference, l.description, l.currency, l.match_id
      FROM pg_temp.statement_work_lines l WHERE l.is_new;
    UPDATE statement_lines s SET match_id = l.match_id
      FROM pg_temp.statement_work_lines l
     WHERE NOT l.is_new AND l.match_id IS NOT NULL AND s.file_id = l.file_id AND s.line = l.line;
    INSERT INTO statement_matched_transactions(account, transaction_id, match_id, run_id, rule)
    SELECT p_account, m.transaction_id, m.match_id, v_run, m.rule
      FROM pg_temp.statement_work_movements m WHERE m.match_id IS NOT NULL;
    UPDATE statement_runs SET matched_groups = v_groups,
           unmatched_lines = (SELECT count(*) FROM statement_run_findings WHERE run_id = v_run AND kind = 'unmatched_line'),
           unmatched_transactions = (SELECT count(*) FROM statement_run_findings
                                      WHERE run_id = v_run AND kind = 'unmatched_transaction'),
           mismatched = (SELECT count(*) FROM statement_run_findings WHERE run_id = v_run AND kind = 'mismatched')
     WHERE id = v_run;
    INSERT INTO audit_log(actor, action, arguments, outcome, message)
         VALUES (p_actor, 'reconcile statement', p_arguments, 'ok', 'run ' || v_run);
    RETURN v_run;
END $$;
