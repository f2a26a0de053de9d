#!/usr/bin/env bash
# walletctl end to end: every command, its JSON shape and exit code, and bad
# input that must change nothing.
source "$(dirname "$0")/lib.sh"

A=$(fresh_asset)
# The admin migrates; walletctl itself runs as the application role, which
# may run migrate only when nothing is pending, and never change the schema.
run 0 -d "$admin_database" migrate
run 0 migrate -o json
expect_eq "migrate as the application role: nothing to do" "$(jq -c .applied <<<"$out")" "[]"
run 0 migrate --status -o json
expect_eq "migrations applied" "$(jq -r 'map(.applied_at != null) | all' <<<"$out")" true
if [ -n "${WALLET_TEST_ADMIN_DATABASE:-}" ]; then
  expect_eq "walletctl connects as a role that is not a superuser" \
    "$(psql -X -Atq -d "$WALLETCTL_DATABASE" -c 'select rolsuper from pg_roles where rolname = current_user')" f
  expect_eq "the application role cannot touch ledger entries" "$(app_sql 'delete from ledger_entries')" 42501
  expect_eq "the application role cannot set balances" "$(app_sql 'update wallets set balance = 0')" 42501
  expect_eq "the application role cannot create tables" "$(app_sql 'create table mine (x int)')" 42501
fi

run 0 asset add "$A" --scale 2 --name "E2E dollars" -o json
expect_eq "asset scale" "$(jq -r .scale <<<"$out")" 2
run 5 asset add "$A" --scale 2
expect_contains "duplicate asset" "$err" "already exists"
run 2 asset add "bad" --scale 2
run 2 asset add "${A}X" --scale 19
run 0 asset list -o jsonl
expect_contains "asset list" "$out" "\"code\":\"$A\""

run 0 wallet create --user alice --asset "$A"
run 0 wallet create --user bob --asset "$A" -o json
expect_eq "new wallet balance" "$(jq -r .balance <<<"$out")" "0.00"
run 5 wallet create --user alice --asset "$A"
run 4 wallet create --user carol --asset NOSUCHASSET
run 2 wallet create --user @treasury --asset "$A"

# Deposit with a key, then replay it.
run 0 deposit --user alice --asset "$A" --amount 100.50 --key "dep-$A" -o json
expect_eq "deposit status" "$(jq -r .status <<<"$out")" posted
expect_eq "deposit amount" "$(jq -r .amount <<<"$out")" "100.50"
expect_eq "deposit from" "$(jq -r .from <<<"$out")" "@treasury"
expect_eq "deposit replayed" "$(jq -r .replayed <<<"$out")" false
dep_id=$(jq -r .transaction_id <<<"$out")
run 0 deposit --user alice --asset "$A" --amount 100.50 --key "dep-$A" -o json
expect_eq "replay same id" "$(jq -r .transaction_id <<<"$out")" "$dep_id"
expect_eq "replay flagged" "$(jq -r .replayed <<<"$out")" true
run 5 deposit --user alice --asset "$A" --amount 100.51 --key "dep-$A" -o json
expect_eq "key reuse code" "$(jq -r .error.code <<<"$out")" conflict
run 0 balance --user alice --asset "$A" -o json
expect_eq "balance after replay and conflict" "$(jq -r '.[0].balance' <<<"$out")" "100.50"

# A movement without a key gets one, printed so the operator can retry.
run 0 deposit --user bob --asset "$A" --amount 1 --kind bonus
expect_contains "generated key note" "$out" "re-run with --key wk-"
run 0 deposit --user bob --asset "$A" --amount 1 -o json
expect_eq "generated key in json" "$(jq -r .key_generated <<<"$out")" true

# Transfers, withdrawals, purchases.
run 0 transfer --from alice --to bob --asset "$A" --amount 40.25 --memo "rent share" -o json
expect_eq "transfer to" "$(jq -r .to <<<"$out")" bob
expect_eq "memo kept" "$(jq -r .memo <<<"$out")" "rent share"
tr_id=$(jq -r .transaction_id <<<"$out")
run 0 withdraw --user alice --asset "$A" --amount 10 -o json
expect_eq "withdraw to settlement" "$(jq -r .to <<<"$out")" "@settlement"
run 0 withdraw --user bob --asset "$A" --amount 0.25 --kind purchase -o json
expect_eq "purchase to revenue" "$(jq -r .to <<<"$out")" "@revenue"

# Insufficient funds: exit 3, one line, recorded, replay refused the same way.
run 3 transfer --from alice --to bob --asset "$A" --amount 1000 --key "big-$A"
expect_eq "insufficient message" "$err" "walletctl: insufficient funds: wallet alice/$A has 50.25 available, 1000.00 requested"
run 3 transfer --from alice --to bob --asset "$A" --amount 1000 --key "big-$A" -o json
expect_eq "insufficient json code" "$(jq -r .error.code <<<"$out")" insufficient_funds
expect_eq "insufficient replayed" "$(jq -r .error.replayed <<<"$out")" true

run 0 balance --user alice -o json
expect_eq "alice balance" "$(jq -r --arg a "$A" '.[] | select(.asset==$a) | .available' <<<"$out")" "50.25"
run 0 balance --user @treasury --asset "$A" -o json
expect_eq "treasury balance" "$(jq -r '.[0].balance' <<<"$out")" "-102.50"
run 0 balance --user bob --asset "$A" -o csv
expect_eq "csv header" "$(head -1 <<<"$out")" "user,asset,balance,reserved,available"
expect_eq "csv row" "$(sed -n 2p <<<"$out")" "bob,$A,42.00,0.00,42.00"
run 0 balance --user bob --asset "$A"
expect_contains "table header" "$out" "AVAILABLE"

# show
run 0 show "$tr_id" -o json
expect_eq "show entries" "$(jq -r '.entries | length' <<<"$out")" 2
expect_eq "show debit entry" "$(jq -r '.entries[0].amount' <<<"$out")" "-40.25"
run 4 show 999999999
run 2 show nope

# history: every entry once across pages, newest first
run 0 history --user alice --asset "$A" -o json
total=$(jq -r '.entries | length' <<<"$out")
expect_eq "alice history size" "$total" 4
expect_eq "newest first" "$(jq -r '.entries[0].status' <<<"$out")" failed
expect_eq "failed has no balance_after" "$(jq -r '.entries[0].balance_after' <<<"$out")" null
all_ids=$(jq -r '.entries[].transaction_id' <<<"$out" | tr '\n' ' ')
paged="" cursor=""
while :; do
  if [ -n "$cursor" ]; then run 0 history --user alice --asset "$A" --limit 2 --cursor "$cursor" -o json
  else run 0 history --user alice --asset "$A" --limit 2 -o json; fi
  paged+=$(jq -r '.entries[].transaction_id' <<<"$out" | tr '\n' ' ')
  cursor=$(jq -r '.next_cursor // empty' <<<"$out")
  [ -n "$cursor" ] || break
done
expect_eq "pages cover history once" "$paged" "$all_ids"
run 0 history --user alice --asset "$A" --kind transfer --status posted -o jsonl
expect_eq "filtered history" "$(wc -l <<<"$out")" 1
run 0 history --user alice --asset "$A" --since 2000-01-01 --until 2999-01-01 -o json
expect_eq "time window" "$(jq -r '.entries | length' <<<"$out")" 4
run 2 history --user alice --since yesterday-ish
run 2 history --user alice --limit 0
run 2 history --user alice --cursor abc
run 4 history --user nobody-at-all

# audit
run 0 --actor e2e-operator deposit --user alice --asset "$A" --amount 1
run 0 audit --actor e2e-operator --limit 1 -o json
expect_eq "audit actor" "$(jq -r '.[0].actor' <<<"$out")" e2e-operator
expect_eq "audit outcome" "$(jq -r '.[0].outcome' <<<"$out")" posted
run 0 audit --since 2000-01-01 --limit 3 -o jsonl
expect_eq "audit limit" "$(wc -l <<<"$out")" 3

# Bad input: a clear one-line error, the documented exit code, nothing changed.
before=$(sql "select count(*) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$A'")
for amount in 0 -5 1.001 1e3 "1,000" " 5" abc 0x10 99999999999999999999 ""; do
  run 2 deposit --user alice --asset "$A" --amount "$amount"
  expect_eq "one line for amount '$amount'" "$(wc -l <"$tmp/err")" 1
done
run 2 -o json deposit --user alice --asset "$A" --amount 1.001
expect_eq "json error code" "$(jq -r .error.code <<<"$out")" invalid_input
run 2 deposit --user "bad user" --asset "$A" --amount 1
run 2 deposit --user alice --asset "lower" --amount 1
run 2 deposit --user alice --asset "$A" --amount 1 --key "sp ace"
run 2 deposit --user alice --asset "$A" --amount 1 --memo "$(head -c 501 /dev/zero | tr '\0' m)"
run 2 deposit --user alice --asset "$A" --amount 1 --kind purchase
run 2 transfer --from alice --to alice --asset "$A" --amount 1
run 4 deposit --user ghost --asset "$A" --amount 1
run 4 transfer --from alice --to ghost --asset "$A" --amount 1
run 2 deposit --user alice --asset "$A"
run 2 frobnicate
run 2 -o yaml balance --user alice
expect_eq "nothing changed by bad input" \
  "$(sql "select count(*) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$A'")" "$before"

# Configuration: a broken file is exit 2, but --help still works; -d beats the file.
printf 'databse = "x"\n' >"$tmp/bad.toml"
run 2 -c "$tmp/bad.toml" balance --user alice
expect_contains "unknown key named" "$err" "unknown key \"databse\""
run 0 -c "$tmp/bad.toml" --help
run 0 --version
expect_contains "version" "$out" "walletctl "
printf 'database = "host=/nonexistent port=1"\n' >"$tmp/good.toml"
run 0 -c "$tmp/good.toml" -d "$WALLETCTL_DATABASE" balance --user alice --asset "$A"
WALLETCTL_DATABASE="host=/nonexistent port=1" run 75 balance --user alice --asset "$A"
expect_contains "unreachable database" "$err" "failed after"

# Review findings, kept as regressions.
run 2 deposit --user alice --asset "$A" --amount 1 --memo $'caf\xe9'
expect_contains "invalid UTF-8 memo" "$err" "not valid UTF-8"
run 2 deposit --user alice --asset "$A" --amount 1 --memo $'\u202Eevil'
run 2 asset add "${A:0:10}NM" --scale 2 --name "$(head -c 250 /dev/zero | tr '\0' n)"
run 2 --actor $'r\xe9' balance --user alice
expect_eq "one line for a bad actor" "$(wc -l <"$tmp/err")" 1
run 2 history --user alice --until 2026-11-22T07:44:00
expect_contains "zone required" "$err" "expected RFC 3339"
for t in now tomorrow epoch -infinity 99999-01-01; do run 2 history --user alice --since "$t"; done
run 0 history --user alice --asset "$A" --since 2000-01-01T00:00:00+08:00 -o json
run 2 -d "foo=bar" balance --user alice
expect_contains "bad conninfo" "$err" "invalid database connection string"
run 1 -d "$WALLETCTL_DATABASE dbname=no_such_database_$$" balance --user alice
expect_contains "missing database" "$err" "does not exist"
run 0 wallet create --user "sheet" --asset "$A"
run 0 deposit --user sheet --asset "$A" --amount 1 --memo '=HYPERLINK("http://x","y")'
run 0 history --user sheet --asset "$A" -o csv
expect_contains "formula defused" "$out" "\"'=HYPERLINK("

# Bounds (the LIMITS table of walletctl(1)): each value at its bound works,
# one past it is exit 2 with one line on stderr and changes nothing.
rep() { printf "%${2}s" "" | tr ' ' "$1"; }
u64=$(rep u 64) k128="$A-$(rep k $((127 - ${#A})))" a64="$A-$(rep a $((63 - ${#A})))"
m500=$(for _ in $(seq 250); do printf '\xc3\xa9'; done)  # 250 two-byte characters: 500 bytes
refused_once() { run 2 "$@"; expect_eq "one line for: ${*:1:3}..." "$(wc -l <"$tmp/err")" 1; }
run 0 asset add "${A}XYZ" --scale 2 --name "$(rep n 200)"
refused_once asset add "${A}XYZW" --scale 2
refused_once asset add "${A:0:8}NM" --scale 2 --name "$(rep n 201)"
run 0 wallet create --user "$u64" --asset "$A"
refused_once wallet create --user "${u64}u" --asset "$A"
entries_before=$(sql "select count(*) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$A'")
audit_before=$(sql "select count(*) from audit_log")
refused_once deposit --user "$u64" --asset "$A" --amount 1 --key "${k128}k"
refused_once deposit --user "$u64" --asset "$A" --amount 1 --memo "${m500}m"
refused_once --actor "${a64}a" deposit --user "$u64" --asset "$A" --amount 1
expect_eq "nothing changed past the bounds" \
  "$(sql "select count(*) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$A'")" "$entries_before"
expect_eq "no audit row for input refused before the database" "$(sql "select count(*) from audit_log")" "$audit_before"
run 0 --actor "$a64" deposit --user "$u64" --asset "$A" --amount 5 --key "$k128" --memo "$m500" -o json
expect_eq "memo of 500 bytes kept" "$(jq -r .memo <<<"$out")" "$m500"
expect_eq "key of 128 kept" "$(jq -r .idempotency_key <<<"$out")" "$k128"
run 0 transfer --from "$u64" --to bob --asset "$A" --amount 1 --pending -o json
hold=$(jq -r .transaction_id <<<"$out")
refused_once void "$hold" --reason "$(rep r 501)"
expect_eq "hold still pending" "$(sql "select status from transactions where id=$hold")" pending
run 0 void "$hold" --reason "$(rep r 500)" -o json
expect_eq "voided with a reason of 500 bytes" "$(sql "select octet_length(last_error) from transactions where id=$hold")" 500
run 0 history --user "$u64" --asset "$A" --limit 1000 -o json
expect_eq "history at its limit" "$(jq -r '.entries | length' <<<"$out")" 2
refused_once history --user "$u64" --limit 1001
run 0 audit --actor "$a64" --limit 10000 -o json
expect_eq "audit by a 64-byte actor" "$(jq -r 'length' <<<"$out")" 1
refused_once audit --limit 10001
refused_once audit --actor "${a64}a"
run_one_of "0 11" retry --limit 100000 --dry-run
refused_once retry --limit 100001
refused_once bench --clients 257 --asset "$A"
refused_once bench --wallets 1000001 --asset "$A"

# Reconcile's checkpoint is the verifier's: as the application role it
# checks, says so, and leaves the checkpoint and the run log alone; as a
# member of wallet_verifier it advances both.
runs_before="$(sql "select count(*) from reconcile_runs")"
run_one_of "0 11" reconcile -o json
expect_eq "reconcile as wallet_app: verifier" "$(jq -r .verifier <<<"$out")" false
expect_eq "reconcile as wallet_app: checkpoint" "$(jq -r .checkpoint_advanced <<<"$out")" false
run_one_of "0 11" reconcile
expect_contains "reconcile as wallet_app says why" "$out" "checkpoint not advanced: this login is not a member of wallet_verifier"
expect_eq "no run recorded by wallet_app" "$(sql "select count(*) from reconcile_runs")" "$runs_before"
run_one_of "0 11" -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile -o json
expect_eq "reconcile as wallet_verifier: checkpoint" "$(jq -r .checkpoint_advanced <<<"$out")" true
expect_eq "one run recorded by the verifier" "$(sql "select count(*) from reconcile_runs")" "$((runs_before + 1))"

check_ledger "$A"
finish
