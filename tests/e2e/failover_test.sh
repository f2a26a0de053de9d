#!/usr/bin/env bash
# High availability on pg_auto_failover (scripts/ha: a monitor, a primary and
# a synchronous secondary on loopback), through libpq multi-host conninfos:
#
# 1. history and reconcile read from the hot standby (--read-database with
#    target_session_attrs=standby): same answers as the primary, and reconcile
#    leaves the checkpoint alone there.
# 2. Failover under load: 4 clients run transfers and deposits, each key
#    retried until it gets a definite answer (0 or 3); the primary's keeper
#    and PostgreSQL are killed with -9; pg_auto_failover promotes the
#    secondary and the clients follow it with no configuration change.
#    Afterwards every acknowledged movement is on the new primary exactly
#    once with the acknowledged transaction id, no key is applied twice,
#    balances add up, and reconcile --full is clean. Prints the write outage
#    (kill to the first successful write started after it). A walletd
#    started before the failover serves a deposit after it, without restart.
source "$(dirname "$0")/lib.sh"
: "${WALLETD:?set WALLETD to the walletd binary}"
: "${PGHOST:?PGHOST of the private cluster (scripts/test sets it)}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
ms() { date +%s%3N; }

# The HA cluster's directory next to the private cluster's, which the
# postgres user can reach (scripts/pg sees to that).
export WALLET_HA_DIR="$(dirname "$PGHOST")/ha-e2e-$$"
export WALLET_HA_DBNAME=wallet_ha
walletd_pid=""
cleanup() {
  touch "$tmp/stop" 2>/dev/null || true
  [ -n "$walletd_pid" ] && kill "$walletd_pid" 2>/dev/null || true
  "$root/scripts/ha" stop >/dev/null 2>&1 || true
  rm -rf "$WALLET_HA_DIR" "$tmp"
}
trap cleanup EXIT
started=$(ms)
"$root/scripts/ha" start
echo "ha: started in $(( ($(ms) - started) / 1000 )) s"
HA="$("$root/scripts/ha" conninfo)"
STANDBY="${HA/target_session_attrs=read-write/target_session_attrs=standby}"
export WALLETCTL_DATABASE="$HA"
unset WALLETCTL_READ_DATABASE
# lib.sh's sql() and check_ledger() ask the current primary.
sql() { psql -X -Atq -v ON_ERROR_STOP=1 -d "$HA" -c "$1"; }

# Synchronous replication must be on, or failover could lose acknowledged movements.
expect_contains "synchronous_standby_names" "$(sql "show synchronous_standby_names")" "ANY 1"
expect_eq "synchronous_commit" "$(sql "show synchronous_commit")" on
expect_contains "the standby is synchronous" "$(sql "select string_agg(sync_state, ',') from pg_stat_replication")" quorum

run 0 migrate
A=$(fresh_asset)
run 0 asset add "$A" --scale 0
users=(u1 u2 u3 u4 u5 u6)
for u in "${users[@]}"; do
  run 0 wallet create --user "$u" --asset "$A"
  run 0 deposit --user "$u" --asset "$A" --amount 1000 --key "ha-open-$A-$u"
done
run 0 transfer --from u1 --to u2 --asset "$A" --amount 7 --key "ha-first-$A" -o json

# ---- 1. reads from the standby ----
# Wait until the standby has replayed what the primary wrote (synchronous
# commit waits for the flush on the standby, not for its replay).
lsn="$(sql "select pg_current_wal_lsn()")"
for _ in $(seq 100); do
  [ "$(psql -X -Atq -d "$STANDBY" -c "select pg_last_wal_replay_lsn() >= '$lsn'")" == t ] && break
  sleep 0.1
done
expect_eq "the read conninfo reaches a standby" "$(psql -X -Atq -d "$STANDBY" -c "select pg_is_in_recovery()")" t
run 0 history --user u1 --asset "$A" -o json
primary_history="$out"
run 0 history --user u1 --asset "$A" -o json --read-database "$STANDBY"
expect_eq "history from the standby equals the primary's" "$out" "$primary_history"
WALLETCTL_READ_DATABASE="$STANDBY" run 0 history --user u1 --asset "$A" -o json
expect_eq "history from WALLETCTL_READ_DATABASE" "$out" "$primary_history"
printf 'read_database = "%s"\n' "$STANDBY" >"$tmp/read.toml"
run 0 history --user u1 --asset "$A" -o json -c "$tmp/read.toml"
expect_eq "history from read_database in the file" "$out" "$primary_history"
runs_before="$(sql "select count(*) from reconcile_runs")"
run 0 reconcile --full -o json --read-database "$STANDBY"
expect_eq "reconcile on the standby: no drift" "$(jq '.drift | length' <<<"$out")" 0
expect_eq "reconcile knows it read a standby" "$(jq -r .standby <<<"$out")" true
expect_eq "reconcile on the standby leaves the checkpoint" "$(jq -r .checkpoint_advanced <<<"$out")" false
run 0 reconcile -o json --read-database "$STANDBY"
expect_eq "incremental reconcile on the standby" "$(jq -r .standby <<<"$out")" true
expect_eq "nothing recorded by standby runs" "$(sql "select count(*) from reconcile_runs")" "$runs_before"
run 0 reconcile -o json
expect_eq "reconcile on the primary advances the checkpoint" "$(jq -r .checkpoint_advanced <<<"$out")" true
# Movements never go to the read connection: the standby refuses writes.
run 0 deposit --user u1 --asset "$A" --amount 1 --key "ha-not-read-$A" --read-database "$STANDBY"

# ---- 2. failover under load ----
# walletd on the same multi-host conninfo, started before the failover.
cat >"$tmp/walletd.toml" <<TOML
database = "$HA"
[daemon]
listen = "127.0.0.1:0"
tokens = ["tok-ha"]
pool_size = 2
worker_interval = "1s"
TOML
env -u WALLETCTL_DATABASE "$WALLETD" -c "$tmp/walletd.toml" >"$tmp/walletd.log" 2>&1 &
walletd_pid=$!
port=$(walletd_port "$tmp/walletd.log")
[ -n "$port" ] || fail "walletd did not start: $(cat "$tmp/walletd.log")"
walletd_deposit() {  # walletd_deposit KEY: prints the HTTP status
  curl -s -o "$tmp/walletd.body" -w '%{http_code}' -m 10 -H "Authorization: Bearer tok-ha" -H "Idempotency-Key: $1" \
    -d "{\"user\":\"u1\",\"asset\":\"$A\",\"amount\":\"5\"}" "http://127.0.0.1:$port/v1/deposits" || true
}
expect_eq "walletd deposit before the failover" "$(walletd_deposit "hawd-$A-before")" 201
clients=4
# client N: runs movements until $tmp/stop exists; each key is retried
# until it gets a definite answer. One line per key in $tmp/acks.N:
# key rc transaction_id status start_ms end_ms attempts
client() {
  local c=$1 i=0 key rc attempts start kind from to amount
  set +e
  while [ ! -e "$tmp/stop" ] && [ $i -lt 1000 ]; do
    i=$((i + 1))
    key="ha-$A-$c-$i"
    from=${users[$(((c + i) % 6))]}; to=${users[$(((c + 2 * i + 1) % 6))]}
    [ "$from" == "$to" ] && to=${users[$(((c + i + 3) % 6))]}
    amount=$(((c * 31 + i * 17) % 50 + 1))
    if [ $((i % 3)) -eq 0 ]; then
      set -- deposit --user "$to" --asset "$A" --amount "$amount"
    else
      set -- transfer --from "$from" --to "$to" --asset "$A" --amount "$amount"
    fi
    attempts=0
    while :; do
      attempts=$((attempts + 1))
      start=$(ms)
      "$WALLETCTL" -q -o json "$@" --key "$key" >"$tmp/c$c.out" 2>"$tmp/c$c.err"
      rc=$?
      [ $rc -eq 0 ] || [ $rc -eq 3 ] && break
      echo "$key $rc $(head -c 300 "$tmp/c$c.err" | tr '\n' ' ')" >>"$tmp/retries.$c"
      # Bounded: each attempt retries for about a second inside walletctl,
      # so this is a minute or more per key, far beyond a failover.
      [ $attempts -ge 60 ] && { echo "$key gave up" >>"$tmp/gaveup"; return 1; }
      sleep 0.2
    done
    echo "$key $rc $(jq -r '.transaction_id // "-"' "$tmp/c$c.out") $(jq -r '.status // "failed"' "$tmp/c$c.out") $start $(ms) $attempts" \
      >>"$tmp/acks.$c"
  done
}
client_pids=()
for c in $(seq 1 $clients); do client "$c" & client_pids+=($!); done
sleep 4
expect_contains "sync replication still on before the kill" "$(sql "select string_agg(sync_state, ',') from pg_stat_replication")" quorum
acked_before=$(cat "$tmp"/acks.* 2>/dev/null | wc -l)
killed=$(ms)
old_primary="$("$root/scripts/ha" crash-primary)"
echo "killed the primary ($old_primary) with $acked_before movements acknowledged"
"$root/scripts/ha" wait-primary 60 || fail "no new primary within 60 s"
promoted=$(ms)
new_primary="$("$root/scripts/ha" primary)"
[ "$new_primary" != "$old_primary" ] || fail "the primary is still $old_primary"
# Keep the load on the new primary for a while, then stop the clients.
for _ in $(seq 100); do
  [ "$(awk -v k="$killed" '$5 > k' "$tmp"/acks.* | wc -l)" -ge 20 ] && break
  sleep 0.1
done
touch "$tmp/stop"
wait "${client_pids[@]}" || true
# walletd follows the new primary with no restart: 503 until its session
# reconnects, then the deposit (retried with its key) goes through.
walletd_code=""
for _ in $(seq 60); do
  walletd_code="$(walletd_deposit "hawd-$A-after")"
  [ "$walletd_code" == 201 ] || [ "$walletd_code" == 200 ] && break
  sleep 0.5
done
[[ "$walletd_code" == 200 || "$walletd_code" == 201 ]] \
  || fail "walletd deposit after the failover: HTTP $walletd_code; $(tail -3 "$tmp/walletd.log")"
pass
kill -TERM "$walletd_pid"; wait "$walletd_pid" || fail "walletd did not exit cleanly"
walletd_pid=""
[ ! -e "$tmp/gaveup" ] || fail "clients gave up: $(cat "$tmp/gaveup"); last errors: $(tail -qn 2 "$tmp"/retries.*); $("$root/scripts/ha" status 2>&1)"
cat "$tmp"/acks.* >"$tmp/acks"
acked=$(wc -l <"$tmp/acks")
after=$(awk -v k="$killed" '$5 > k' "$tmp/acks" | wc -l)
[ "$after" -ge 1 ] || fail "no movement succeeded after the failover"
first_write=$(awk -v k="$killed" '$5 > k && $2 == 0 { if (m == "" || $6 < m) m = $6 } END { print m }' "$tmp/acks")
outage_ms=$((first_write - killed))
retried=$(cat "$tmp"/retries.* 2>/dev/null | wc -l)

# Every acknowledged movement is there exactly once, as acknowledged.
sql "select idempotency_key, id, status from transactions where idempotency_key like 'ha-$A-%'" | tr '|' ' ' | sort >"$tmp/db"
awk '{ print $1, $3, ($2 == 3 ? "failed" : $4) }' "$tmp/acks" | sort >"$tmp/acked"
missing=$(awk '{ print $1 }' "$tmp/acked" | sort | comm -23 - <(awk '{ print $1 }' "$tmp/db") | wc -l)
expect_eq "acknowledged movements lost" "$missing" 0
expect_eq "keys on the new primary = keys acknowledged (nothing extra)" "$(wc -l <"$tmp/db")" "$acked"
# Refusals (exit 3) print no transaction id: compare their status only.
expect_eq "each acknowledged key has its acknowledged id and status" \
  "$(join "$tmp/acked" "$tmp/db" | awk '($2 != "-" && $2 != $4) || $3 != $5' | wc -l)" 0
expect_eq "no key applied twice" "$(sql "select count(*) - count(distinct idempotency_key) from transactions where asset = '$A'")" 0
expect_eq "the first movement is still there" "$(sql "select count(*) from transactions where idempotency_key = 'ha-first-$A'")" 1
expect_eq "walletd's deposits, once each" "$(sql "select count(*) from transactions where idempotency_key like 'hawd-$A-%'")" 2
check_ledger "$A"
expect_eq "user wallets hold the deposits, transfers moved within" \
  "$(sql "select sum(balance) from wallets where asset = '$A' and not is_system")" \
  "$(sql "select 6000 + 1 + coalesce(sum(amount), 0) from transactions where asset = '$A' and kind = 'deposit' and status = 'posted' and (idempotency_key like 'ha-$A-%' or idempotency_key like 'hawd-$A-%')")"
run 0 reconcile --full -o json
expect_eq "reconcile --full on the new primary" "$(jq -c '[.drift, .stuck] | map(length)' <<<"$out")" "[0,0]"
expect_eq "a key acknowledged before the failover replays on the new primary" \
  "$(set +e; "$WALLETCTL" -q -o json transfer --from u1 --to u2 --asset "$A" --amount 7 --key "ha-first-$A" | jq -r .replayed)" true
pass

echo "failover: old primary $old_primary killed; $new_primary writable after $(( (promoted - killed) )) ms"
echo "failover: write outage $(awk -v m="$outage_ms" 'BEGIN { printf "%.1f", m / 1000 }') s (kill to first successful write started after it)"
echo "failover: $acked movements acknowledged ($acked_before before the kill, $after started after it), 0 lost, $retried retried attempts"
finish
