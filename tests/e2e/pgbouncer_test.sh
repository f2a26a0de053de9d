#!/usr/bin/env bash
# walletctl and walletd through PgBouncer 1.18 in transaction pooling mode
# (scripts/pgbouncer, 2 server connections shared by every client): with
# prepared_statements off, every command works, concurrent clients keep the
# ledger exact, and nothing relies on session state. With prepared
# statements on, the failure names the setting to change.
source "$(dirname "$0")/lib.sh"
: "${WALLETD:?set WALLETD to the walletd binary}"
: "${PGHOST:?PGHOST of the private cluster (scripts/test sets it)}"
root="$(cd "$(dirname "$0")/../.." && pwd)"

# PgBouncer's directory next to the cluster's socket directory, which the
# cluster's owner can reach (scripts/pg sees to that).
export WALLET_PGBOUNCER_DIR="$(dirname "$PGHOST")/pgbouncer-e2e-$$"
walletd_pid=""
cleanup() {
  [ -n "$walletd_pid" ] && kill "$walletd_pid" 2>/dev/null || true
  "$root/scripts/pgbouncer" stop >/dev/null 2>&1 || true
  rm -rf "$WALLET_PGBOUNCER_DIR" "$tmp"
}
trap cleanup EXIT
"$root/scripts/pgbouncer" start 2 >/dev/null
direct="$WALLETCTL_DATABASE"
pooled="$("$root/scripts/pgbouncer" conninfo "${PGDATABASE:-wallet_test}")"
export WALLETCTL_DATABASE="$pooled"
export WALLETCTL_PREPARED_STATEMENTS=off

# Schema and admin commands. migrate's advisory lock is transaction-scoped,
# so it works through the pooler, also three at once.
run 0 migrate
for i in 1 2 3; do ( "$WALLETCTL" -q migrate >"$tmp/m.$i" 2>&1; echo $? >"$tmp/m.$i.rc" ) & done
wait
expect_eq "concurrent migrations through pgbouncer" "$(cat "$tmp"/m.*.rc | sort -u)" 0
run 0 migrate --status -o json
expect_eq "every migration applied" "$(jq '[.[] | select(.applied_at == null)] | length' <<<"$out")" 0

A=$(fresh_asset)
run 0 asset add "$A" --scale 2
for u in alice bob carol dave; do run 0 wallet create --user "$u" --asset "$A"; done
for u in alice bob carol dave; do run 0 deposit --user "$u" --asset "$A" --amount 100 --key "pb-open-$A-$u"; done
run 0 deposit --user alice --asset "$A" --amount 100 --key "pb-open-$A-alice" -o json
expect_eq "replay through pgbouncer" "$(jq -r .replayed <<<"$out")" true
run 0 transfer --from alice --to bob --asset "$A" --amount 12.50 --key "pb-t1-$A" -o json
expect_eq "transfer posted" "$(jq -r .status <<<"$out")" posted
run 3 withdraw --user carol --asset "$A" --amount 1000 --key "pb-over-$A"
run 0 withdraw --user dave --asset "$A" --amount 1 --kind purchase
run 0 transfer --from bob --to carol --asset "$A" --amount 5 --pending --timeout 1h -o json
hold=$(jq -r .transaction_id <<<"$out")
run 0 post "$hold" --amount 2
run 0 transfer --from bob --to carol --asset "$A" --amount 5 --pending -o json
run 0 void "$(jq -r .transaction_id <<<"$out")" --reason "changed mind"
run 0 reverse "$hold" --key "pb-rev-$A"
run 0 show "$hold" -o json
expect_eq "show: entries of the posted hold" "$(jq '.entries | length' <<<"$out")" 2
run 0 history --user bob --asset "$A" --limit 2 -o json
expect_eq "history page" "$(jq '.entries | length' <<<"$out")" 2
run 0 history --user bob --asset "$A" --limit 2 --cursor "$(jq -r .next_cursor <<<"$out")" -o json
run 0 balance --user alice --asset "$A" -o json
expect_eq "alice after the transfer" "$(jq -r '.[0].balance' <<<"$out")" 87.50
run 0 audit --limit 5 -o json
printf 'type,user,to,asset,amount,kind,key,memo\nwallet,erin,,%s,10,,,\ntransfer,erin,alice,%s,1,,pb-imp-%s,\n' "$A" "$A" "$A" >"$tmp/seed.csv"
run 0 import "$tmp/seed.csv" -o json
expect_eq "import through pgbouncer" "$(jq -r .applied <<<"$out")" 2
run 0 retry --dry-run

# Concurrent clients: 8 processes x 10 transfers among the four wallets on
# 2 server connections, then the same keys again (every one a replay).
for round in first replay; do
  for p in $(seq 1 8); do
    (
      set +e
      users=(alice bob carol dave)
      for i in $(seq 1 10); do
        from=${users[$(((p + i) % 4))]}; to=${users[$(((p + i + 1 + p % 3) % 4))]}
        [ "$from" == "$to" ] && to=${users[$(((p + i + 2) % 4))]}
        "$WALLETCTL" -q transfer --from "$from" --to "$to" --asset "$A" --amount "0.$(((p * 7 + i) % 90 + 10))" \
          --key "pb-c-$A-$p-$i" >/dev/null 2>>"$tmp/c.err"
        echo $? >>"$tmp/c.$round.rc"
      done
    ) &
  done
  wait
  expect_eq "$round round: every transfer answered 0 or 3" "$(sort -u "$tmp/c.$round.rc" | grep -vx '[03]' || true)" ""
done
expect_eq "80 answers per round" "$(wc -l <"$tmp/c.first.rc")" 80
run 0 wallet list --asset "$A" -o json
expect_eq "user total conserved (minor units)" "$(jq '[.[].balance | tonumber * 100 | round] | add' <<<"$out")" 40900
check_ledger "$A"
run_one_of "0 11" reconcile --full -o json
expect_eq "full reconcile through pgbouncer: no drift" "$(jq '.drift | length' <<<"$out")" 0
run_one_of "0 11" reconcile -o json
expect_eq "incremental reconcile: no drift" "$(jq '.drift | length' <<<"$out")" 0
expect_eq "checkpoint advanced" "$(jq -r .checkpoint_advanced <<<"$out")" true

# The flag does the same as the variable.
run 0 balance --user alice --asset "$A" --no-prepared-statements -o json

# walletd through pgbouncer (prepared_statements = false in its file).
cat >"$tmp/walletd.toml" <<TOML
database = "$pooled"
prepared_statements = false
[daemon]
listen = "127.0.0.1:0"
tokens = ["tok-pb"]
pool_size = 4
worker_interval = "500ms"
TOML
env -u WALLETCTL_PREPARED_STATEMENTS -u WALLETCTL_DATABASE "$WALLETD" -c "$tmp/walletd.toml" >"$tmp/walletd.log" 2>&1 &
walletd_pid=$!
port=$(walletd_port "$tmp/walletd.log")
[ -n "$port" ] || fail "walletd did not start: $(cat "$tmp/walletd.log")"
url="http://127.0.0.1:$port"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/health"); expect_eq "walletd health through pgbouncer" "$code" 200
for attempt in first replay; do
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer tok-pb" -H "Idempotency-Key: pb-d-$A" \
    -d "{\"user\":\"dave\",\"asset\":\"$A\",\"amount\":\"3\"}" "$url/v1/deposits")
  [ "$attempt" == first ] && expect_eq "walletd deposit" "$code" 201
  [ "$attempt" == replay ] && expect_eq "walletd replay" "$(jq -r .replayed "$tmp/body")" true
done
seq 1 40 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer tok-pb" \
  -H "Idempotency-Key: pb-w-$A-{}" -d "{\"from\":\"dave\",\"to\":\"alice\",\"asset\":\"$A\",\"amount\":\"0.01\"}" \
  "$url/v1/transfers" >"$tmp/codes"
expect_eq "40 concurrent walletd transfers" "$(sort -u "$tmp/codes")" 201
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer tok-pb" "$url/v1/users/dave/history?asset=$A&limit=5")
expect_eq "walletd history" "$code" 200
kill -TERM "$walletd_pid"; wait "$walletd_pid" || fail "walletd did not exit cleanly"
walletd_pid=""
check_ledger "$A"

# With prepared statements (the default) through transaction pooling, a
# named statement lands on a server connection that already has it, or
# that never saw it: the error says which setting to change.
hinted=0
for i in 1 2 3 4 5; do
  set +e
  WALLETCTL_PREPARED_STATEMENTS=on "$WALLETCTL" balance --user alice --asset "$A" >/dev/null 2>"$tmp/p.err"
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    expect_contains "the failure names the setting" "$(cat "$tmp/p.err")" "prepared_statements = false"
    hinted=1
    break
  fi
done
expect_eq "prepared statements through transaction pooling fail with a hint" "$hinted" 1

# Invalid values of the variable are usage errors.
WALLETCTL_PREPARED_STATEMENTS=maybe run 2 balance --user alice --asset "$A"

# The ledger as PostgreSQL sees it directly agrees.
WALLETCTL_DATABASE="$direct" run 0 balance --user alice --asset "$A" -o json
echo "pgbouncer: 2 server connections, 160 concurrent transfers (80 replays), walletd 40 concurrent transfers"
finish
