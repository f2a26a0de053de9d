#!/usr/bin/env bash
# The cron jobs' --metrics-file textfiles and the alert rules over them, end
# to end: reconcile, retry and digest write their metrics atomically, a
# failed run too (keeping when the job last completed); the textfile of a
# reconcile that finds drift fires WalletLedgerDrift in promtool; and every
# metric monitoring/alerts.yml names is one that a live walletd's /metrics
# or the textfiles really export. On a database of its own: it makes drift.
source "$(dirname "$0")/lib.sh"
: "${WALLETD:?set WALLETD to the walletd binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
if ! command -v promtool >/dev/null; then
  [ -n "${CI:-}" ] && fail "promtool is missing (scripts/install-deps installs Debian's prometheus)"
  echo "SKIP: promtool is not installed"; exit 77
fi

own_database wallet_monitoring_e2e
dir="$tmp/textfiles"
mkdir -p "$dir"
now() { date +%s; }
# metric FILE SERIES: the value of SERIES (name with labels, as written) in FILE.
metric() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }

run 0 asset add GC --scale 0
for u in alice bob; do run 0 wallet create --user $u --asset GC; done
run 0 deposit --user alice --asset GC --amount 100 --key mon-dep
run 0 transfer --from alice --to bob --asset GC --amount 10 --key mon-tr

# A clean reconcile.
started=$(now)
run 0 reconcile --full --metrics-file "$dir/reconcile.prom"
f="$dir/reconcile.prom"
expect_eq "reconcile exit code" "$(metric "$f" 'walletctl_job_exit_code{command="reconcile"}')" 0
expect_eq "reconcile completed" "$(metric "$f" 'walletctl_job_completed{command="reconcile"}')" 1
expect_eq "no drift" "$(metric "$f" walletctl_reconcile_drift_findings)" 0
expect_eq "no stuck" "$(metric "$f" walletctl_reconcile_stuck_transactions)" 0
expect_eq "entries checked (deposit and transfer: 4)" "$(metric "$f" walletctl_reconcile_entries_checked)" 4
expect_eq "a full run" "$(metric "$f" walletctl_reconcile_full)" 1
last_run=$(metric "$f" 'walletctl_job_last_run_timestamp_seconds{command="reconcile"}')
[ "${last_run%.*}" -ge "$started" ] && [ "${last_run%.*}" -le "$(now)" ] || fail "last run time $last_run is not now"
pass
completed=$(metric "$f" 'walletctl_job_last_completed_timestamp_seconds{command="reconcile"}')
expect_eq "completed when it ran" "$completed" "$last_run"
duration=$(metric "$f" 'walletctl_job_duration_seconds{command="reconcile"}')
awk -v d="$duration" 'BEGIN { exit !(d > 0 && d < 60) }' || fail "duration $duration"
pass
expect_eq "readable by node_exporter's user" "$(stat -c %a "$f")" 644
expect_eq "no temporary file left" "$(ls "$dir")" reconcile.prom
# Each metric has one HELP and one TYPE, and promtool accepts the file.
promtool check metrics <"$f" >"$tmp/check" 2>&1 || fail "promtool check metrics: $(cat "$tmp/check")"
pass

# retry and digest.
run 0 retry --metrics-file "$dir/retry.prom"
expect_eq "retry exit code" "$(metric "$dir/retry.prom" 'walletctl_job_exit_code{command="retry"}')" 0
expect_eq "retry handled nothing" "$(metric "$dir/retry.prom" 'walletctl_retry_transactions{action="posted"}')" 0
run 0 digest --out "$tmp/anchor.json" --metrics-file "$dir/digest.prom"
anchored=$(metric "$dir/digest.prom" walletctl_digest_anchored_timestamp_seconds)
expect_eq "anchored time is the anchor's" "${anchored%.*}" "$(date -u -d "$(jq -r .created_at "$tmp/anchor.json")" +%s)"
expect_eq "digest entries" "$(metric "$dir/digest.prom" walletctl_digest_entries)" 4

# reconcile statement (as the verifier, whose runs they are): what the
# statement left unmatched, labelled with its account and asset.
printf '{"date": "2026-11-02", "amount": "7", "reference": "NOPE-1"}\n' >"$tmp/statement.jsonl"
run 12 -d "${WALLET_TEST_VERIFIER_DATABASE/dbname=wallet_test/dbname=wallet_monitoring_e2e}" reconcile statement \
  --file "$tmp/statement.jsonl" --account @treasury --asset GC --metrics-file "$dir/statement.prom"
s="$dir/statement.prom"
expect_eq "statement exit code" "$(metric "$s" 'walletctl_job_exit_code{command="reconcile_statement"}')" 12
expect_eq "statement lines" "$(metric "$s" 'walletctl_statement_lines{account="@treasury",asset="GC"}')" 1
expect_eq "unmatched line" "$(metric "$s" 'walletctl_statement_unmatched_lines{account="@treasury",asset="GC"}')" 1
expect_eq "oldest unmatched line booked" \
  "$(metric "$s" 'walletctl_statement_oldest_unmatched_line_timestamp_seconds{account="@treasury",asset="GC"}')" \
  "$(date -u -d 2026-11-02 +%s)"
expect_eq "no mismatch" "$(metric "$s" 'walletctl_statement_mismatched{account="@treasury",asset="GC"}')" 0
promtool check metrics <"$s" >"$tmp/check" 2>&1 || fail "promtool check metrics: $(cat "$tmp/check")"
pass

# Usage: --metrics-file belongs to the jobs only; nothing is written.
run 2 balance --user alice --metrics-file "$dir/balance.prom"
expect_contains "refused for balance" "$err" "--metrics-file applies to reconcile, reconcile statement, retry and digest"
[ ! -e "$dir/balance.prom" ] || fail "balance wrote a metrics file"
pass
# An unwritable path: the job's own output stands, exit 2 when it found nothing.
run 2 reconcile --metrics-file "$tmp/no-such-dir/reconcile.prom"
expect_contains "the write error is said" "$err" "cannot write metrics file $tmp/no-such-dir/reconcile.prom"

# Drift: a stored balance changed behind the ledger's back.
dsql "begin; set local session_replication_role = replica; update wallets set balance = balance + 1 where user_id = 'bob'; commit" >/dev/null
run 10 reconcile --metrics-file "$f"
expect_eq "drift exit code" "$(metric "$f" 'walletctl_job_exit_code{command="reconcile"}')" 10
expect_eq "a run with findings completed" "$(metric "$f" 'walletctl_job_completed{command="reconcile"}')" 1
expect_eq "one drift finding" "$(metric "$f" walletctl_reconcile_drift_findings)" 1
cp "$f" "$tmp/drift.prom"

# A failed run (the database unreachable): written, keeping the last completed time.
completed=$(metric "$f" 'walletctl_job_last_completed_timestamp_seconds{command="reconcile"}')
run 75 -d "host=127.0.0.1 port=1 dbname=none connect_timeout=2" reconcile --metrics-file "$f"
expect_eq "failed exit code" "$(metric "$f" 'walletctl_job_exit_code{command="reconcile"}')" 75
expect_eq "failed: not completed" "$(metric "$f" 'walletctl_job_completed{command="reconcile"}')" 0
expect_eq "last completed carried over" \
  "$(metric "$f" 'walletctl_job_last_completed_timestamp_seconds{command="reconcile"}')" "$completed"
expect_eq "no findings without a run" "$(grep -c '^walletctl_reconcile_' "$f" || true)" 0
dsql "begin; set local session_replication_role = replica; update wallets set balance = balance - 1 where user_id = 'bob'; commit" >/dev/null
run 0 reconcile --metrics-file "$f"

# The drift textfile, as node_exporter would expose it, fires WalletLedgerDrift.
{
  echo "rule_files: [$root/monitoring/alerts.yml]"
  echo "evaluation_interval: 1m"
  echo "tests:"
  echo "  - interval: 1m"
  echo "    input_series:"
  grep -v '^#' "$tmp/drift.prom" | while read -r series value; do
    labels='instance="ledger1:9100",job="node"'
    case "$series" in
      *'}') series="${series%\}},$labels}" ;;
      *) series="$series{$labels}" ;;
    esac
    printf "      - series: '%s'\n        values: '%sx10'\n" "$series" "$value"
  done
  cat <<'YAML'
    alert_rule_test:
      - eval_time: 2m
        alertname: WalletLedgerDrift
        exp_alerts:
          - exp_labels: {severity: page, instance: "ledger1:9100", job: node}
            exp_annotations:
              summary: "reconcile found 1 drift or imbalance finding(s) on ledger1:9100"
              description: "Stored balances, reservations, entries or hash chains disagree with the ledger. Money records are wrong until explained."
              runbook: "docs/runbook.md#walletledgerdrift"
      - eval_time: 2m
        alertname: WalletJobFailing
        exp_alerts: []
YAML
} >"$tmp/drift_test.yml"
promtool test rules "$tmp/drift_test.yml" >"$tmp/promtool.log" 2>&1 ||
  fail "the drift textfile does not fire WalletLedgerDrift: $(cat "$tmp/promtool.log") $(cat "$tmp/drift_test.yml")"
pass

# Every metric the alert rules and the dashboard name is exported: declared
# by a live walletd's /metrics (its TYPE lines: labelled series appear once
# something happened) or by the jobs' textfiles.
cat >"$tmp/walletd.toml" <<TOML
database = "$WALLETCTL_DATABASE"
[daemon]
listen = "127.0.0.1:0"
tokens = ["tok-monitor"]
pool_size = 2
threads = 2
TOML
"$WALLETD" -c "$tmp/walletd.toml" >"$tmp/walletd.log" 2>&1 &
walletd_pid=$!
trap 'kill $walletd_pid 2>/dev/null || true; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS wallet_monitoring_e2e WITH (FORCE)" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
port=$(walletd_port "$tmp/walletd.log")
[ -n "$port" ] || fail "walletd did not start: $(cat "$tmp/walletd.log")"
curl -s -o /dev/null -H "Authorization: Bearer tok-monitor" "http://127.0.0.1:$port/v1/users/alice/balances"
curl -s -H "Authorization: Bearer tok-monitor" "http://127.0.0.1:$port/metrics" >"$tmp/scrape"
kill $walletd_pid
jq -e '.panels | length > 0' "$root/monitoring/dashboard.json" >/dev/null || fail "monitoring/dashboard.json does not parse"
pass
grep -q '^walletd_requests_total{' "$tmp/scrape" || fail "the scrape has no requests: $(head -5 "$tmp/scrape")"
exported=$(cat "$tmp/scrape" "$dir"/*.prom | awk '$1 == "#" && $2 == "TYPE" { print $3 }' | sort -u)
used=$( (grep -oE '\b(walletd|walletctl)_[a-z_]+' "$root/monitoring/alerts.yml"
         jq -r '.panels[].targets[].expr' "$root/monitoring/dashboard.json" | grep -oE '\b(walletd|walletctl)_[a-z_]+') |
       sed -E 's/_(bucket|sum|count)$//' | sort -u)
[ "$(wc -l <<<"$used")" -gt 20 ] || fail "too few metric names found in alerts.yml and dashboard.json: $used"
for name in $used; do
  grep -qx "$name" <<<"$exported" || fail "monitoring/ names $name, which nothing exports"
  pass
done
finish
