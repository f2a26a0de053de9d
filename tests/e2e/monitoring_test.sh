#!/usr/bin/env bash
# The cron jobs' --metrics-file textfiles, end to end: reconcile, retry and
# digest write their metrics atomically, a failed run too (keeping when the
# job last completed). On a database of its own: it makes drift.
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

# Usage: --metrics-file belongs to the three jobs only; nothing is written.
run 2 balance --user alice --metrics-file "$dir/balance.prom"
expect_contains "refused for balance" "$err" "--metrics-file applies to reconcile, retry and digest"
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

finish
