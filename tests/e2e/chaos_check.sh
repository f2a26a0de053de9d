# The checks of the chaos test (sourced by chaos.sh after the run): the
# clients' histories against the database. Each check is a query that
# returns the rows that break an invariant; any row fails the run.

# load_histories: the clients' logs into chaos.requests / chaos.outcomes
# (every movement, hold, reversal and import line) and chaos.hold_actions /
# chaos.hold_results (the post or void of a hold).
# A line counts only when complete (it ends with " ."): a client killed
# while writing leaves at most a torn last line, which is ignored.
load_histories() {
  cat "$work"/log/*.log | awk '$1 == "B" && NF == 10 && $10 == "." {
      split($2, parts, "-"); print $2 "\t" parts[2] "\t" $3 "\t" $4 "\t" $5 "\t" $6 "\t" $7 "\t" $8 "\t" $9
    }' >"$work/requests.tsv"
  cat "$work"/log/*.log | awk '$1 == "E" && NF == 6 && $6 == "." {
      print $2 "\t" $3 "\t" ($4 == "-" ? "\\N" : $4) "\t" $5
    }' >"$work/outcomes.tsv"
  cat "$work"/log/*.log | awk '$1 == "H" && NF == 5 && $5 == "." { print $2 "\t" $3 "\t" $4 }' >"$work/hold_actions.tsv"
  cat "$work"/log/*.log | awk '$1 == "F" && NF == 6 && $6 == "." { print $2 "\t" $3 "\t" $4 "\t" $5 }' >"$work/hold_results.tsv"
  psql -X -q -v ON_ERROR_STOP=1 <<SQL
-- ref: the hold or transaction a reversal names, the file key of an import line.
CREATE TABLE chaos.requests (key text, client text, channel text, op text, asset text,
                             "from" text, "to" text, amount bigint, ref text);
CREATE TABLE chaos.outcomes (key text, result text, txid bigint, attempts int);
CREATE TABLE chaos.hold_actions (key text, action text, amount bigint);
CREATE TABLE chaos.hold_results (key text, action text, result text, attempts int);
\copy chaos.requests FROM '$work/requests.tsv'
\copy chaos.outcomes FROM '$work/outcomes.tsv'
\copy chaos.hold_actions FROM '$work/hold_actions.tsv'
\copy chaos.hold_results FROM '$work/hold_results.tsv'
CREATE VIEW chaos.tx AS
  SELECT t.id, t.idempotency_key AS key, t.status, t.kind, t.asset, t.amount,
         coalesce(t.posted_amount, t.amount) AS moved, t.reverses_id,
         d.user_id AS debit_user, c.user_id AS credit_user
  FROM transactions t JOIN wallets d ON d.id = t.debit_wallet_id JOIN wallets c ON c.id = t.credit_wallet_id;
-- One row per request with its final answer (NULL result: the client was
-- killed before it got one).
CREATE VIEW chaos.final AS
  SELECT r.*, o.result, o.txid, o.attempts FROM chaos.requests r LEFT JOIN chaos.outcomes o USING (key);
SQL
}

# replay_acknowledged: replays a sample of acknowledged keys through the
# channel that sent them; each must give the same answer, the same
# transaction id and say it was replayed.
replays=0 replay_failures=0
replay_acknowledged() {
  local key channel op asset from to amount ref result txid want_txid want_result
  while IFS='|' read -r key channel op asset from to amount ref want_result want_txid; do
    replays=$((replays + 1))
    "send_$channel" replay "$key" "$op" "$asset" "$from" "$to" "$amount" "$ref"
    if [ "$result" != "$want_result" ] || [ "$txid" != "$want_txid" ] \
       || ! grep -Eq '"replayed": *true' "$work/inflight/replay.out"; then
      replay_failures=$((replay_failures + 1))
      echo "  replay of $key ($channel $op): got $result $txid ($detail), expected $want_result $want_txid, replayed"
    fi
  # Holds have moved on since (posted, voided), and imports answer per file.
  done < <(sql "SELECT key, channel, op, asset, \"from\", \"to\", amount, ref, result, coalesce(txid::text, '-')
                FROM chaos.final
                WHERE result IN ('posted', 'refused') AND op IN ('transfer', 'deposit', 'withdraw', 'reverse')
                  AND channel IN ('cli', 'http')
                ORDER BY random() LIMIT $replays_max")
}

# violation DB LABEL QUERY: prints LABEL and the first rows when QUERY
# returns any on database DB; counts them in $violations.
violations=0
violation() {
  local rows
  rows=$(PGDATABASE=$1 psql -X -Atq -v ON_ERROR_STOP=1 -F ' | ' -c "$3") || { echo "  FAILED: $2 (query failed)"; violations=$((violations + 1)); return; }
  if [ -n "$rows" ]; then
    violations=$((violations + 1))
    echo "  FAILED: $2 ($(wc -l <<<"$rows") rows), e.g.:"
    head -5 <<<"$rows" | sed 's/^/    /'
  fi
}

# check_db DB: every invariant on database DB; sets $violations.
check_db() {
  local db=$1 rc=0
  violations=0
  violation "$db" "acknowledged movement lost or changed (a movement, hold, reversal or import line: missing, other status or other transaction id)" \
    "SELECT f.key, f.op, f.result, f.txid, t.id, t.status FROM chaos.final f LEFT JOIN chaos.tx t ON t.key = f.key
     WHERE f.result IN ('posted', 'refused', 'pending', 'voided')
       AND (t.id IS NULL OR t.id <> f.txid
            OR t.status NOT IN (SELECT unnest(CASE f.result WHEN 'posted' THEN '{posted}'::text[]
                                                             WHEN 'refused' THEN '{failed}'
                                                             ELSE '{posted,voided}' END)))"
  violation "$db" "transaction differs from the request its key was given for" \
    "SELECT f.key, f.op, f.asset, f.\"from\", f.\"to\", f.amount, f.ref, t.kind, t.asset, t.debit_user, t.credit_user,
            t.amount, t.reverses_id
     FROM chaos.final f JOIN chaos.tx t ON t.key = f.key
     WHERE (t.kind, t.asset, t.debit_user, t.credit_user, t.amount)
           <> (CASE f.op WHEN 'hold' THEN 'transfer' WHEN 'reverse' THEN 'reversal' ELSE f.op END,
               f.asset, f.\"from\", f.\"to\", f.amount)
        OR t.reverses_id IS DISTINCT FROM CASE WHEN f.op = 'reverse' THEN f.ref::bigint END"
  violation "$db" "key used for more than one request or transaction" \
    "SELECT key, count(*) FROM chaos.requests GROUP BY key HAVING count(*) > 1
     UNION ALL SELECT key, count(*) FROM chaos.tx GROUP BY key HAVING count(*) > 1"
  violation "$db" "phantom transaction: no client asked for it" \
    "SELECT t.id, t.key, t.status, t.amount FROM chaos.tx t
     WHERE t.key NOT LIKE 'seed-%' AND NOT EXISTS (SELECT 1 FROM chaos.requests r WHERE r.key = t.key)"
  violation "$db" "transaction in a state it cannot end in (pending after the holds expired, or a voided non-hold)" \
    "SELECT t.id, t.key, t.status, f.op FROM chaos.tx t LEFT JOIN chaos.final f ON f.key = t.key
     WHERE t.status = 'pending' OR (t.status = 'voided' AND f.op IS DISTINCT FROM 'hold')"
  violation "$db" "hold acknowledged posted is not posted once with the amount posted" \
    "SELECT r.key, a.amount, t.status, t.moved, t.amount FROM chaos.hold_results r
       JOIN chaos.hold_actions a USING (key, action) LEFT JOIN chaos.tx t ON t.key = r.key
     WHERE r.result = 'posted' AND (t.status IS DISTINCT FROM 'posted' OR t.moved <> a.amount)"
  violation "$db" "hold acknowledged voided (or found expired) is not voided" \
    "SELECT r.key, r.action, r.result, t.status FROM chaos.hold_results r LEFT JOIN chaos.tx t ON t.key = r.key
     WHERE r.result IN ('voided', 'conflict') AND t.status IS DISTINCT FROM 'voided'"
  violation "$db" "reservation not released (no hold is pending, so every user wallet reserves 0)" \
    "SELECT user_id, asset, reserved FROM wallets WHERE reserved <> 0"
  violation "$db" "transaction reversed more than once" \
    "SELECT reverses_id, count(*) FROM transactions WHERE kind = 'reversal' AND status = 'posted'
     GROUP BY reverses_id HAVING count(*) > 1"
  violation "$db" "ledger entries of a transaction wrong (posted: -amount on debit, +amount on credit; others: none)" \
    "SELECT t.id, t.status, count(e.id) FROM chaos.tx t
       LEFT JOIN ledger_entries e ON e.transaction_id = t.id LEFT JOIN wallets w ON w.id = e.wallet_id
     GROUP BY t.id, t.status, t.moved, t.debit_user, t.credit_user
     HAVING (t.status = 'posted' AND NOT (count(e.id) = 2
               AND count(*) FILTER (WHERE e.amount = -t.moved AND w.user_id = t.debit_user) = 1
               AND count(*) FILTER (WHERE e.amount = t.moved AND w.user_id = t.credit_user) = 1))
         OR (t.status <> 'posted' AND count(e.id) > 0)"
  violation "$db" "balance differs from starting balance + applied movements (expected | stored)" \
    "WITH applied AS (SELECT f.key, f.asset, f.\"from\", f.\"to\", t.moved AS amount
                      FROM chaos.final f JOIN chaos.tx t ON t.key = f.key AND t.status = 'posted'),
          moves AS (SELECT \"to\" AS user_id, asset, amount FROM applied
                    UNION ALL SELECT \"from\", asset, -amount FROM applied),
          expected AS (SELECT s.user_id, s.asset, s.balance + coalesce(sum(m.amount), 0) AS balance
                       FROM chaos.start s LEFT JOIN moves m USING (user_id, asset) GROUP BY s.user_id, s.asset, s.balance),
          stored AS (SELECT user_id, asset, sum(balance) AS balance FROM wallets GROUP BY user_id, asset)
     SELECT coalesce(e.user_id, s.user_id), coalesce(e.asset, s.asset), e.balance, s.balance
     FROM expected e FULL JOIN stored s ON s.user_id = e.user_id AND s.asset = e.asset
     WHERE e.balance IS DISTINCT FROM s.balance"
  violation "$db" "asset total not conserved (sum of all wallets changed)" \
    "SELECT w.asset, sum(w.balance), (SELECT sum(balance) FROM chaos.start s WHERE s.asset = w.asset)
     FROM wallets w GROUP BY w.asset HAVING sum(w.balance) <> (SELECT sum(balance) FROM chaos.start s WHERE s.asset = w.asset)"
  violation "$db" "ledger entries of an asset do not sum to zero" \
    "SELECT w.asset, sum(e.amount) FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
     GROUP BY w.asset HAVING sum(e.amount) <> 0"
  violation "$db" "user wallet below zero (now or in any entry)" \
    "SELECT user_id, asset, balance, reserved FROM wallets WHERE NOT is_system AND (balance < 0 OR balance - reserved < 0)
     UNION ALL SELECT w.user_id, w.asset, e.balance_after, e.id FROM ledger_entries e JOIN wallets w ON w.id = e.wallet_id
     WHERE NOT w.is_system AND e.balance_after < 0"
  "$WALLETCTL" -q -d "host=$PGHOST port=$PGPORT dbname=$db user=$PGUSER" reconcile --full \
    >"$work/reconcile.$db.out" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    violations=$((violations + 1))
    echo "  FAILED: walletctl reconcile --full exited $rc:"
    head -8 "$work/reconcile.$db.out" | sed 's/^/    /'
  fi
}

# sabotage DB KIND: corrupts database DB the way a bug could.
sabotage() {
  case "$2" in
    balance)  # a stored balance drifts by one minor unit
      PGDATABASE=$1 sql "UPDATE wallets SET balance = balance + 1
                         WHERE id = (SELECT id FROM wallets WHERE NOT is_system ORDER BY id LIMIT 1)" ;;
    lose-ack)  # an acknowledged posted movement vanishes with its entries
      PGDATABASE=$1 psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET session_replication_role = replica;  -- past the append-only triggers, as a bug or an operator could
WITH victim AS (SELECT t.id FROM chaos.final f JOIN chaos.tx t ON t.key = f.key
                WHERE f.result = 'posted' ORDER BY t.id DESC LIMIT 1),
     entries AS (DELETE FROM ledger_entries WHERE transaction_id IN (SELECT id FROM victim))
DELETE FROM transactions WHERE id IN (SELECT id FROM victim);
SQL
      ;;
    phantom)  # a well-formed movement nobody asked for (reconcile cannot see this)
      PGDATABASE=$1 sql "SELECT transaction_id FROM wallet_move('phantom-1', 'x', 'transfer', 'u01', 'u02',
                           '$CG', 1, '', false, NULL, 'chaos', '{}')" >/dev/null ;;
  esac
}

# self_check: the checks must catch each kind of sabotage, on a copy of
# the database (the real one stays as it is).
self_check_failures=0
self_check() {
  local kind want copy=chaos_sabotaged saved=$violations
  for kind in balance lose-ack phantom; do
    case "$kind" in
      balance) want="balance differs" ;;
      lose-ack) want="acknowledged movement lost" ;;
      phantom) want="phantom transaction" ;;
    esac
    sql "DROP DATABASE IF EXISTS $copy" && sql "CREATE DATABASE $copy TEMPLATE chaos"
    sabotage "$copy" "$kind"
    if check_db "$copy" >"$work/self_check.$kind" && [ "$violations" -eq 0 ]; then
      self_check_failures=$((self_check_failures + 1))
      echo "  SELF-CHECK FAILED: sabotage '$kind' was not detected"
    elif ! grep -q "FAILED: $want" "$work/self_check.$kind"; then
      self_check_failures=$((self_check_failures + 1))
      echo "  SELF-CHECK FAILED: sabotage '$kind' was not reported as '$want':"
      sed 's/^/    /' "$work/self_check.$kind"
    else
      echo "  sabotage '$kind' detected: $(grep -c 'FAILED' "$work/self_check.$kind") checks failed, incl. '$want'"
    fi
    sql "DROP DATABASE $copy"
  done
  violations=$saved
}

# figure CONDITION: how many requests (with their transaction, if any) match.
figure() { sql "SELECT count(*) FROM chaos.final f LEFT JOIN chaos.tx t ON t.key = f.key WHERE $1"; }

# report: the verdict of every check and the summary; exits 1 on any finding.
report() {
  local attempted posted refused gaveup unknown unknown_applied unknown_refused attempts anomalies
  local channels retried ops lost extra total holds reversals imports
  attempted=$(figure true)
  posted=$(figure "f.result = 'posted'")
  refused=$(figure "f.result = 'refused'")
  gaveup=$(figure "f.result = 'gaveup'")
  gaveup=$((gaveup + $(sql "SELECT count(*) FROM chaos.hold_results WHERE result = 'gaveup'")))
  unknown=$(figure "f.result IS NULL OR f.result = 'gaveup'")
  unknown_applied=$(figure "(f.result IS NULL OR f.result = 'gaveup') AND t.status = 'posted'")
  unknown_refused=$(figure "(f.result IS NULL OR f.result = 'gaveup') AND t.status = 'failed'")
  attempts=$(sql "SELECT coalesce(sum(attempts), 0) FROM chaos.outcomes")
  anomalies=$( { cat "$work"/log/*.anomalies 2>/dev/null || true; } | wc -l)
  channels=$(sql "SELECT string_agg(channel || ' ' || n, ', ' ORDER BY channel) FROM
                  (SELECT channel, count(*) n FROM chaos.requests GROUP BY channel) c")
  retried=$(cat "$work"/log/*.log | awk '$1 == "R" && NF == 4 { n[$3]++ }
    END { for (r in n) printf "%s%s x%d", (sep++ ? ", " : ""), r, n[r] }')
  ops=$(sql "SELECT string_agg(op || ' ' || n, ', ' ORDER BY op) FROM (SELECT op, count(*) n FROM chaos.requests GROUP BY op) o")

  echo "chaos: checks"
  check_db chaos
  [ "$gaveup" -eq 0 ] && [ "$stuck_clients" -eq 0 ] || {
    violations=$((violations + 1))
    echo "  FAILED: liveness: $gaveup keys without a definite answer after the faults stopped, $stuck_clients clients stuck"
  }
  [ "$anomalies" -eq 0 ] || {
    violations=$((violations + 1))
    echo "  FAILED: $anomalies answers outside the contract (neither definite nor 'retry'), e.g.:"
    cat "$work"/log/*.anomalies | head -5 | sed 's/^/    /' || true
  }
  [ "$walletd_deaths" -eq 0 ] && [ "$walletd_exit" -eq 0 ] || {
    violations=$((violations + 1))
    echo "  FAILED: walletd died on its own $walletd_deaths times; exit status after SIGTERM $walletd_exit"
  }
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work"/walletd.*.log "$work"/walletd.stderr; then
    violations=$((violations + 1))
    echo "  FAILED: a sanitizer report from walletd:"
    grep -hE -m3 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$work"/walletd.*.log "$work"/walletd.stderr | sed 's/^/    /'
  fi
  [ "$replay_failures" -eq 0 ] || {
    violations=$((violations + 1))
    echo "  FAILED: $replay_failures of $replays replays of acknowledged keys answered differently:"
    head -5 "$work/replays.txt"
  }
  lost=$(sql "SELECT count(*) FROM chaos.final f LEFT JOIN chaos.tx t ON t.key = f.key
              WHERE f.result IN ('posted', 'refused', 'pending', 'voided')
                AND (t.id IS NULL OR t.id <> f.txid
                     OR t.status NOT IN (SELECT unnest(CASE f.result WHEN 'posted' THEN '{posted}'::text[]
                                                                      WHEN 'refused' THEN '{failed}'
                                                                      ELSE '{posted,voided}' END)))")
  holds=$(sql "SELECT format('%s placed (%s refused for funds): %s posted by the client (%s in part), %s voided by it,
                 %s found expired by a post or void, %s left to expire, %s unknown; now %s posted, %s voided',
                 count(*) FILTER (WHERE f.result IN ('pending', 'voided')), count(*) FILTER (WHERE f.result = 'refused'),
                 count(*) FILTER (WHERE r.result = 'posted'), count(*) FILTER (WHERE r.result = 'posted' AND a.amount < f.amount),
                 count(*) FILTER (WHERE r.result = 'voided'), count(*) FILTER (WHERE r.result = 'conflict'),
                 count(*) FILTER (WHERE f.result IN ('pending', 'voided') AND a.key IS NULL),
                 count(*) FILTER (WHERE f.result IS NULL OR f.result = 'gaveup' OR (a.key IS NOT NULL AND r.key IS NULL)),
                 count(*) FILTER (WHERE t.status = 'posted'), count(*) FILTER (WHERE t.status = 'voided'))
               FROM chaos.final f LEFT JOIN chaos.hold_actions a ON a.key = f.key
                 LEFT JOIN chaos.hold_results r ON r.key = f.key LEFT JOIN chaos.tx t ON t.key = f.key
               WHERE f.op = 'hold'" | tr -s ' \n' ' ')
  reversals=$(sql "SELECT format('%s asked: %s posted, %s refused for funds, %s unknown',
                     count(*), count(*) FILTER (WHERE result = 'posted'), count(*) FILTER (WHERE result = 'refused'),
                     count(*) FILTER (WHERE result IS NULL OR result = 'gaveup'))
                   FROM chaos.final WHERE op = 'reverse'")
  imports=$(sql "SELECT format('%s files, %s lines: %s acknowledged posted, %s refused for funds, %s unknown (%s of them applied)',
                   count(DISTINCT f.ref), count(*), count(*) FILTER (WHERE f.result = 'posted'),
                   count(*) FILTER (WHERE f.result = 'refused'),
                   count(*) FILTER (WHERE f.result IS NULL OR f.result = 'gaveup'),
                   count(*) FILTER (WHERE (f.result IS NULL OR f.result = 'gaveup') AND t.status = 'posted'))
                 FROM chaos.final f LEFT JOIN chaos.tx t ON t.key = f.key WHERE f.channel = 'import'")
  extra=$(sql "SELECT count(*) FROM chaos.tx t WHERE t.key NOT LIKE 'seed-%'
                AND NOT EXISTS (SELECT 1 FROM chaos.requests r WHERE r.key = t.key)")
  [ -n "$sabotage" ] || { echo "chaos: self-check (sabotaged copies of the database)"; self_check; }

  total=$((faults[kill-request] + faults[kill-client] + faults[kill-walletd] + faults[pg-crash] + faults[pg-terminate]))
  cat <<SUMMARY
chaos: summary (${elapsed_s}s: ${duration_s}s of faults, then drain)
  requests attempted       $attempted ($channels; $ops)
  holds                    $holds
  reversals                $reversals
  imports                  $imports
  acknowledged posted      $posted
  acknowledged refused     $refused (insufficient funds)
  unknown (client killed)  $unknown: applied $unknown_applied, refused $unknown_refused, never arrived $((unknown - unknown_applied - unknown_refused))
  requests sent            $attempts (incl. retries with the same key; ${replays} replays checked afterwards)
  answers that meant retry ${retried:-none}
  faults injected          $total: kill-request ${faults[kill-request]}, kill-client ${faults[kill-client]}, kill-walletd ${faults[kill-walletd]}, pg-crash ${faults[pg-crash]}, pg-terminate ${faults[pg-terminate]}
  lost acknowledged        $lost
  unasked-for movements    $extra (keys are unique, so nothing was applied twice)
  checks failed            $violations
SUMMARY
  if [ "$violations" -ne 0 ] || [ "$self_check_failures" -ne 0 ]; then
    keep=1
    echo "chaos: FAIL (histories, faults.log and walletd logs are in $work)"
    exit 1
  fi
  [ "$posted" -gt 0 ] || { echo "chaos: FAIL: no movement was acknowledged at all"; exit 1; }
  echo "chaos: ok"
}
