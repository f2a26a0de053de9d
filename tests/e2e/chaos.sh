#!/usr/bin/env bash
# The bank invariant test under faults (DESIGN §9), Jepsen style.
#
# Concurrent clients -- walletctl processes and curl through walletd -- move
# random amounts between a few wallets of two assets (transfers, deposits,
# withdrawals), each under a fresh idempotency key that the client retries
# unchanged until it gets a definite answer: posted (exit 0, HTTP 201/200)
# or refused for funds (exit 3, HTTP 422). Exit 75, HTTP 503, a refused
# connection or a killed request mean "unknown": retry the same key.
# They also place holds (pending transfers that expire after $hold_timeout),
# then post them (all or part), void them or leave them to expire (walletd's
# worker voids them); reverse movements they saw posted; and the walletctl
# clients import small files of keyed movements, re-running a file until
# walletctl import gives a definite answer for every line.
# Every client appends its history to a log: "B" before a key's first
# attempt, "E" with the definite outcome and transaction id; "H" before a
# hold's post or void, "F" with its definite outcome. A client that is
# killed leaves its last key without an "E" (or "F"): unknown.
#
# Meanwhile, at random times, a fault injector kills -9 requests in flight,
# whole clients (replaced by new ones), walletd (restarted), crashes
# PostgreSQL with an immediate stop (restarted), and terminates backends
# with pg_terminate_backend.
#
# Afterwards the faults stop, every surviving client must reach a definite
# answer, and the histories are loaded into the database and checked:
# every acknowledged movement is there exactly once with its outcome and
# transaction id, no transaction exists that no client asked for, balances
# equal the starting balances plus what the applied movements imply, each
# asset sums to zero, no user wallet is below zero, replaying acknowledged
# keys gives the same answers, and `walletctl reconcile --full` is clean.
# Holds: one acknowledged posted is posted once with the posted amount;
# voided and expired ones are voided with their reservation released, and
# none is left pending. Reversals: one acknowledged is there once, reverses
# the transaction it named, and no transaction is reversed twice. Imports:
# every line of an acknowledged run is there exactly once with its outcome.
# Then it checks that the checks can fail: on copies of the database, a
# corrupted balance, a deleted acknowledged transaction and a well-formed
# transaction that no client asked for must each be caught.
#
# It runs against a PostgreSQL cluster of its own (scripts/pg with
# WALLET_PG_DIR in a temporary directory), so crashing it disturbs nobody.
#
# Usage: WALLETCTL=... WALLETD=... tests/e2e/chaos.sh [options]
#   --duration DUR        how long clients run and faults are injected (30s, 5m; default 30s)
#   --cli-clients N       concurrent walletctl clients (default 4)
#   --http-clients N      concurrent HTTP clients through walletd (default 4)
#   --wallets N           user wallets per asset (default 6: contention and refusals)
#   --fault-every SEC     mean seconds between faults (default 2)
#   --fsync on|off        the cluster's fsync (default on). Off only shortens crash
#                         recovery: the faults are process crashes, not power
#                         loss, and commits still reach the OS before they are
#                         acknowledged (synchronous_commit stays on)
#   --sabotage KIND       corrupt the real database before checking (balance|lose-ack|phantom),
#                         to see the checks fail; exits 1 when they catch it
#   --keep                keep the working directory (logs, cluster) afterwards
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

duration_s=30 cli_clients=4 http_clients=4 wallets=6 fault_every_s=2 sabotage="" keep=0 fsync=on
seconds_of() {
  case "$1" in
    *m) echo $((${1%m} * 60)) ;;
    *s) echo "${1%s}" ;;
    *h) echo $((${1%h} * 3600)) ;;
    *) echo "$1" ;;
  esac
}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration_s=$(seconds_of "$2"); shift 2 ;;
    --cli-clients) cli_clients=$2; shift 2 ;;
    --http-clients) http_clients=$2; shift 2 ;;
    --wallets) wallets=$2; shift 2 ;;
    --fault-every) fault_every_s=$2; shift 2 ;;
    --sabotage) sabotage=$2; shift 2 ;;
    --fsync) fsync=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "chaos: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
: "${WALLETCTL:?set WALLETCTL to the walletctl binary}"
: "${WALLETD:?set WALLETD to the walletd binary}"
[[ "$duration_s" =~ ^[0-9]+$ && "$duration_s" -ge 1 && "$duration_s" -le 86400 ]] \
  || { echo "chaos: --duration must be 1s..24h" >&2; exit 2; }
for n in "$cli_clients" "$http_clients" "$wallets" "$fault_every_s"; do
  [[ "$n" =~ ^[0-9]+$ && "$n" -le 64 ]] || { echo "chaos: counts must be 0..64" >&2; exit 2; }
done
[ "$fault_every_s" -ge 1 ] || { echo "chaos: --fault-every must be at least 1" >&2; exit 2; }
[ "$wallets" -ge 2 ] || { echo "chaos: --wallets must be at least 2" >&2; exit 2; }
[ $((cli_clients + http_clients)) -ge 1 ] || { echo "chaos: no clients" >&2; exit 2; }
case "$fsync" in on | off) ;; *) echo "chaos: --fsync must be on or off" >&2; exit 2 ;; esac
case "$sabotage" in "" | balance | lose-ack | phantom) ;; *) echo "chaos: unknown --sabotage $sabotage" >&2; exit 2 ;; esac

# Limits. Every loop below is bounded by one of these.
readonly drain_s=40           # after the faults stop, clients get this long to settle their last key
readonly attempts_max=400     # attempts per key before a client gives up (a liveness failure)
readonly request_timeout_s=20 # curl --max-time; walletctl is bounded by its own retry budget
readonly replays_max=60       # acknowledged keys replayed after the run
readonly hold_timeout_s=3     # holds expire this soon, so that expiry happens during the run
readonly import_lines_max=6   # lines per imported file
readonly holds_settle_s=20    # after the drain, expired holds must be voided within this

# A working directory the postgres user can reach (scripts/pg runs the
# cluster as postgres when we are root).
work="$(mktemp -d "${TMPDIR:-/tmp}/walletctl-chaos.XXXXXX")"
chmod 755 "$work"
mkdir -p "$work/log" "$work/inflight" "$work/pids" "$work/home" "$work/import"
export HOME="$work/home"
unset WALLETCTL_CONFIG
export WALLET_PG_DIR="$work/pg" WALLET_PG_FSYNC=$fsync WALLET_PG_SYNC_COMMIT=on
export PGCONNECT_TIMEOUT=5
pg() { "$root/scripts/pg" "$@"; }

walletd_pid=""
client_pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${client_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  for f in "$work"/inflight/*.pid; do [ -f "$f" ] && kill_inflight "$(cat "$f" 2>/dev/null)" "" 2>/dev/null; done
  [ -n "$walletd_pid" ] && kill -9 "$walletd_pid" 2>/dev/null
  wait 2>/dev/null
  pg stop >/dev/null 2>&1
  if [ "$keep" -eq 1 ]; then echo "chaos: kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
set -E
trap 'echo "chaos: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR
trap 'exit 130' INT TERM

say() { echo "chaos: $*"; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

pg start >/dev/null
eval "$(pg env)"
export PGDATABASE=chaos
psql -X -q -d postgres -c "CREATE DATABASE chaos"
export WALLETCTL_DATABASE="host=$PGHOST port=$PGPORT dbname=chaos user=$PGUSER"
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -Atq -v ON_ERROR_STOP=1 -c "$1"; }

# --- Setup: two assets, funded wallets, the starting balances ---------------
CH=CHAOS_D  # scale 2 (like a currency)
CG=CHAOS_C  # scale 0 (like coins)
"$WALLETCTL" -q migrate >/dev/null
"$WALLETCTL" -q asset add $CH --scale 2 >/dev/null
"$WALLETCTL" -q asset add $CG --scale 0 >/dev/null
users=()
for i in $(seq 1 "$wallets"); do
  u=$(printf 'u%02d' "$i")
  users+=("$u")
  for a in $CH $CG; do
    "$WALLETCTL" -q wallet create --user "$u" --asset $a >/dev/null
    "$WALLETCTL" -q deposit --user "$u" --asset $a --amount 500 --key "seed-$u-$a" >/dev/null
  done
done
sql "CREATE SCHEMA chaos;
     CREATE TABLE chaos.start AS SELECT user_id, asset, sum(balance)::bigint AS balance
       FROM wallets GROUP BY user_id, asset;"

# --- walletd -----------------------------------------------------------------
cat >"$work/walletd.toml" <<TOML
database = "$WALLETCTL_DATABASE"
[log]
level = "info"
[daemon]
listen = "127.0.0.1:0"
tokens = ["chaos"]
rate_limit_per_second = 1000000
threads = 16
pool_size = 8
worker_interval = "1s"
TOML
walletd_starts=0
# Starts walletd on a free loopback port and publishes its URL for the
# clients in $work/walletd.url (each request reads it again).
start_walletd() {
  walletd_starts=$((walletd_starts + 1))
  local log="$work/walletd.$walletd_starts.log" port=""
  "$WALLETD" -c "$work/walletd.toml" --log-file "$log" 2>>"$work/walletd.stderr" &
  walletd_pid=$!
  for _ in $(seq 200); do
    port=$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$log" 2>/dev/null | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && break
    kill -0 "$walletd_pid" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$port" ] || { say "walletd did not start: $(cat "$log" "$work/walletd.stderr" 2>/dev/null)"; exit 1; }
  echo "http://127.0.0.1:$port" >"$work/walletd.url.new"
  mv "$work/walletd.url.new" "$work/walletd.url"
}
start_walletd

# --- Clients -------------------------------------------------------------------
run_id="r$(date +%s)"
start_ms=$(now_ms)
stop_ms=$((start_ms + duration_s * 1000))
drain_ms=$((stop_ms + drain_s * 1000))
export CH CG run_id stop_ms drain_ms work hold_timeout_s

# amount_text ASSET MINOR: the decimal string of an amount in minor units.
amount_text() {
  if [ "$1" = "$CH" ]; then printf '%d.%02d' $(($2 / 100)) $(($2 % 100)); else echo "$2"; fi
}

# send_cli and send_http ID KEY OP ASSET FROM TO AMOUNT REF set: result
# (posted|pending|voided|refused|conflict|retry|anomaly; the client decides
# which are definite for OP), txid, detail. OP is a movement (transfer,
# deposit, withdraw), hold (a pending transfer), post or void (of the hold
# REF, post with AMOUNT), or reverse (of the transaction REF).
# The request runs in the background so that the fault injector can find
# it ($work/inflight/CLIENT holds its pid) and kill it mid-request.
send_cli() {
  local id=$1 key=$2 op=$3 asset=$4 from=$5 to=$6 amount=$7 ref=$8 out rc status
  local args a
  a=$(amount_text "$asset" "$amount")
  case "$op" in
    transfer) args=(transfer --from "$from" --to "$to" --asset "$asset" --amount "$a" --key "$key") ;;
    deposit) args=(deposit --user "$to" --asset "$asset" --amount "$a" --key "$key") ;;
    withdraw) args=(withdraw --user "$from" --asset "$asset" --amount "$a" --key "$key") ;;
    hold) args=(transfer --from "$from" --to "$to" --asset "$asset" --amount "$a" --key "$key"
                --pending --timeout "${hold_timeout_s}s") ;;
    post) args=(post "$ref" --amount "$a") ;;
    void) args=(void "$ref" --reason chaos) ;;
    reverse) args=(reverse "$ref" --key "$key") ;;
  esac
  "$WALLETCTL" -q -o json "${args[@]}" >"$work/inflight/$id.out" 2>"$work/inflight/$id.err" &
  echo $! >"$work/inflight/$id.pid"
  wait $! && rc=0 || rc=$?
  rm -f "$work/inflight/$id.pid"
  out=$(<"$work/inflight/$id.out")
  txid="-"
  [[ "$out" =~ \"transaction_id\":\ *([0-9]+) ]] && txid=${BASH_REMATCH[1]}
  status=-
  [[ "$out" =~ \"status\":\ *\"([a-z]+)\" ]] && status=${BASH_REMATCH[1]}
  case "$rc" in
    0) if [[ "$status" =~ ^(posted|pending|voided)$ && "$txid" != - ]]; then result=$status; else result=anomaly; fi ;;
    3) if [[ "$txid" != - ]]; then result=refused; else result=anomaly; fi ;;
    5) result=conflict ;;
    75) result=retry ;;  # unavailable, safe to retry
    137) result=retry rc=killed ;;  # killed by the fault injector
    *) result=anomaly ;;
  esac
  detail="walletctl exit $rc: $(head -c 300 "$work/inflight/$id.err" | tr '\n' ' ')"
}

send_http() {
  local id=$1 key=$2 op=$3 asset=$4 from=$5 to=$6 amount=$7 ref=$8 out code path body url rc status
  local a
  a=$(amount_text "$asset" "$amount")
  case "$op" in
    transfer) path=transfers body="{\"from\":\"$from\",\"to\":\"$to\",\"asset\":\"$asset\",\"amount\":\"$a\"}" ;;
    deposit) path=deposits body="{\"user\":\"$to\",\"asset\":\"$asset\",\"amount\":\"$a\"}" ;;
    withdraw) path=withdrawals body="{\"user\":\"$from\",\"asset\":\"$asset\",\"amount\":\"$a\"}" ;;
    hold) path=transfers body="{\"from\":\"$from\",\"to\":\"$to\",\"asset\":\"$asset\",\"amount\":\"$a\",\"pending\":true,\"timeout\":\"${hold_timeout_s}s\"}" ;;
    post) path="transactions/$ref/post" body="{\"amount\":\"$a\"}" ;;
    void) path="transactions/$ref/void" body='{"reason":"chaos"}' ;;
    reverse) path="transactions/$ref/reverse" body='{}' ;;
  esac
  url=$(<"$work/walletd.url")
  : >"$work/inflight/$id.out"
  curl -s -o "$work/inflight/$id.out" -w '%{http_code}' --max-time "$request_timeout_s" \
    -H "Authorization: Bearer chaos" -H "Idempotency-Key: $key" -H 'Content-Type: application/json' \
    --data-binary "$body" "$url/v1/$path" >"$work/inflight/$id.code" 2>/dev/null &
  echo $! >"$work/inflight/$id.pid"
  wait $! && rc=0 || rc=$?
  rm -f "$work/inflight/$id.pid"
  code=$(<"$work/inflight/$id.code")
  # A failed transfer is no answer, even with a status line: walletd killed
  # after sending its headers leaves "201" and half a body (curl exit 18).
  # curl exits 7: refused, 18: partial body, 28: timeout, 52: empty reply, 56: reset.
  if [ "$rc" -eq 137 ]; then code=killed; elif [ "$rc" -ne 0 ]; then code="$code-curl-exit-$rc"; fi
  out=$(<"$work/inflight/$id.out")
  txid="-"
  [[ "$out" =~ \"transaction_id\":\ *([0-9]+) ]] && txid=${BASH_REMATCH[1]}
  status=-
  [[ "$out" =~ \"status\":\ *\"([a-z]+)\" ]] && status=${BASH_REMATCH[1]}
  case "$code" in
    200 | 201) if [[ "$status" =~ ^(posted|pending|voided)$ && "$txid" != - ]]; then result=$status; else result=anomaly; fi ;;
    # A refused reversal answers without its transaction id (unlike a refused movement).
    422) if [[ "$txid" != - || "$op" == reverse ]]; then result=refused; else result=anomaly; fi ;;
    409) result=conflict ;;
    503 | *-curl-exit-* | killed) result=retry ;;  # database unavailable, no (whole) answer, or killed
    *) result=anomaly ;;
  esac
  detail="HTTP $code: $(head -c 300 "$work/inflight/$id.out" | tr '\n' ' ')"
}

# send_import ID KEY FILE: runs walletctl import on FILE (one run, in the
# background like a request) and sets result (imported|retry|anomaly),
# detail, and refused_lines: the file's line numbers refused for funds.
send_import() {
  local id=$1 key=$2 file=$3 rc
  "$WALLETCTL" -q -o json import "$file" >"$work/inflight/$id.out" 2>"$work/inflight/$id.err" &
  echo $! >"$work/inflight/$id.pid"
  wait $! && rc=0 || rc=$?
  rm -f "$work/inflight/$id.pid"
  txid=- refused_lines=" "
  case "$rc" in
    0 | 3)
      # Exit 3: some lines refused for funds; every other line is posted.
      if refused_lines=" $(jq -r '[.errors[] | select(.message | startswith("insufficient funds")) | .line]
                                   | map(tostring) | join(" ")' "$work/inflight/$id.out" 2>/dev/null) " \
         && [ "$(jq -r '.invalid' "$work/inflight/$id.out" 2>/dev/null)" = 0 ]; then
        result=imported
      else
        result=anomaly
      fi ;;
    75) result=retry ;;
    137) result=retry rc=killed ;;
    *) result=anomaly ;;
  esac
  detail="walletctl import exit $rc: $(head -c 300 "$work/inflight/$id.err" | tr '\n' ' ')"
}

# until_definite KEY DEFINITE SENDER ARGS...: calls SENDER ARGS... until its
# result is one of DEFINITE (space-separated), logging each "retry" (R) and
# each answer outside the contract; then result=gaveup after attempts_max
# attempts or at drain_ms. Sets attempts.
until_definite() {
  local key=$1 definite=" $2 " r
  shift 2
  attempts=0
  while :; do
    attempts=$((attempts + 1))
    "$@"
    [[ "$definite" == *" $result "* ]] && return
    case "$result" in
      retry) r=${detail%%:*}; echo "R $key ${r// /-} ." >>"$log" ;;
      *) echo "A $key $result: $detail" >>"$work/log/$id.anomalies" ;;
    esac
    if [ "$attempts" -ge "$attempts_max" ] || [ "$(now_ms)" -ge "$drain_ms" ]; then
      result=gaveup
      return
    fi
    sleep "$(printf '0.%03d' $((RANDOM % 200 + 50)))"  # 50-250 ms between attempts
  done
}

# random_movement: sets op, asset, from, to, amount for a random movement.
random_movement() {
  if [ $((RANDOM % 2)) -eq 0 ]; then asset=$CH; amount=$((RANDOM % 20000 + 1)); else asset=$CG; amount=$((RANDOM % 200 + 1)); fi
  from=${users[RANDOM % ${#users[@]}]}
  to=${users[RANDOM % ${#users[@]}]}
  r=$((RANDOM % 100))
  if [ $r -lt 20 ]; then op=deposit from=@treasury
  elif [ $r -lt 40 ]; then op=withdraw to=@settlement
  else
    op=transfer
    while [ "$to" = "$from" ]; do to=${users[RANDOM % ${#users[@]}]}; done
  fi
}

# client KIND ID: moves money until stop_ms; one key at a time, retried
# with the same key until a definite answer (or until drain_ms: gave up).
# Of its requests about 55% are movements, 20% holds, 15% reversals of
# movements it saw posted, and (walletctl clients) 10% imports.
client() {
  set +e
  trap - EXIT INT TERM ERR
  local kind=$1 id=$2 log="$work/log/$2.log" n=0 key op asset from to amount r ref pick j file lines line_key
  local -a posted=()  # "txid asset from to amount" of its own posted movements, not yet reversed
  RANDOM=$((BASHPID ^ ${EPOCHREALTIME/./} % 32768))
  while [ "$(now_ms)" -lt "$stop_ms" ]; do
    n=$((n + 1))
    key="$run_id-$id-$n"
    ref=-
    random_movement
    pick=$((RANDOM % 100))
    if [ $pick -lt 20 ]; then
      op=hold
      [ "$from" != @treasury ] || from=${users[RANDOM % ${#users[@]}]}
      to=${users[RANDOM % ${#users[@]}]}
      while [ "$to" = "$from" ]; do to=${users[RANDOM % ${#users[@]}]}; done
    elif [ $pick -lt 35 ] && [ ${#posted[@]} -gt 0 ]; then
      j=$((RANDOM % ${#posted[@]}))
      read -r ref asset to from amount <<<"${posted[j]}"  # the reversal moves it back
      posted=("${posted[@]:0:j}" "${posted[@]:j+1}")
      op=reverse
    elif [ $pick -ge 90 ] && [ "$kind" = cli ]; then
      op=import
    fi

    if [ "$op" = import ]; then
      # A small file of keyed movements; each line is a request of its own.
      file="$work/import/$key.csv" lines=$((RANDOM % (import_lines_max - 1) + 2))
      echo "type,user,to,asset,amount,key" >"$file.new"
      for j in $(seq 1 "$lines"); do
        random_movement
        line_key="$key-l$j"
        case "$op" in
          transfer) echo "transfer,$from,$to,$asset,$(amount_text "$asset" "$amount"),$line_key" ;;
          deposit) echo "deposit,$to,,$asset,$(amount_text "$asset" "$amount"),$line_key" ;;
          withdraw) echo "withdraw,$from,,$asset,$(amount_text "$asset" "$amount"),$line_key" ;;
        esac >>"$file.new"
        echo "B $line_key import $op $asset $from $to $amount $key ." >>"$log"
      done
      mv "$file.new" "$file"
      until_definite "$key" imported send_import "$id" "$key" "$file"
      for j in $(seq 1 "$lines"); do
        case "$result" in
          imported) if [[ "$refused_lines" == *" $((j + 1)) "* ]]; then r=refused; else r=posted; fi ;;
          *) r=gaveup ;;
        esac
        echo "E $key-l$j $r - $attempts ." >>"$log"
      done
      continue
    fi

    echo "B $key $kind $op $asset $from $to $amount $ref ." >>"$log"
    case "$op" in
      hold) until_definite "$key" "pending voided refused" "send_$kind" "$id" "$key" hold "$asset" "$from" "$to" "$amount" - ;;
      *) until_definite "$key" "posted refused" "send_$kind" "$id" "$key" "$op" "$asset" "$from" "$to" "$amount" "$ref" ;;
    esac
    echo "E $key $result $txid $attempts ." >>"$log"
    [ "$result" != gaveup ] || return
    if [ "$result" = posted ] && [ "$op" != reverse ]; then posted+=("$txid $asset $from $to $amount"); fi

    # A hold acknowledged pending: post all or part of it, void it, or
    # leave it to expire; sometimes only after it has expired.
    if [ "$result" = pending ]; then
      ref=$txid
      r=$((RANDOM % 100))
      if [ $r -lt 20 ]; then continue; fi
      sleep "$(printf '%d.%03d' $((RANDOM % 4)) $((RANDOM % 1000)))"
      if [ $r -lt 65 ]; then
        op=post
        [ $((RANDOM % 2)) -eq 0 ] || amount=$((RANDOM % amount + 1))
      else
        op=void
      fi
      echo "H $key $op $amount ." >>"$log"
      until_definite "$key" "$([ $op = post ] && echo posted || echo voided) conflict" \
        "send_$kind" "$id" "$key" "$op" "$asset" "$from" "$to" "$amount" "$ref"
      echo "F $key $op $result $attempts ." >>"$log"
      [ "$result" != gaveup ] || return
    fi
  done
}

# Client slots: slot i runs one client at a time; a killed client is
# replaced by the next generation.
declare -a slot_kind slot_gen
start_client() {
  local slot=$1
  slot_gen[$slot]=$((${slot_gen[$slot]:-0} + 1))
  local id="${slot_kind[$slot]}$slot.${slot_gen[$slot]}"
  # (stderr to a file: bash reports each killed request there)
  client "${slot_kind[$slot]}" "$id" 2>>"$work/log/$id.stderr" &
  client_pids[$slot]=$!
  echo "$id" >"$work/pids/$slot.id"
}
slots=$((cli_clients + http_clients))
for s in $(seq 0 $((slots - 1))); do
  if [ "$s" -lt "$cli_clients" ]; then slot_kind[$s]=cli; else slot_kind[$s]=http; fi
  start_client "$s"
done

# --- Faults ----------------------------------------------------------------------
declare -A faults=([kill-request]=0 [kill-client]=0 [kill-walletd]=0 [pg-crash]=0 [pg-terminate]=0)
fault_log() { echo "$(( $(now_ms) - start_ms )) ms $*" >>"$work/faults.log"; }

# kill_inflight PID PARENT: kill -9 a request in flight, if PID is still a
# walletctl or curl (child of PARENT when given) -- never another process.
kill_inflight() {
  local pid=$1 parent=$2 comm ppid
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ "$comm" == walletctl || "$comm" == curl ]] || return 1
  if [ -n "$parent" ]; then
    ppid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$ppid" = "$parent" ] || return 1
  fi
  kill -9 "$pid" 2>/dev/null
}

fault_kill_request() {
  local s id
  for _ in 1 2 3 4 5 6 7 8; do
    s=$((RANDOM % slots))
    id=$(<"$work/pids/$s.id")
    if kill_inflight "$(cat "$work/inflight/$id.pid" 2>/dev/null)" "${client_pids[$s]}"; then
      fault_log "kill-request $id"
      faults[kill-request]=$((faults[kill-request] + 1))
      return
    fi
    sleep 0.02
  done
  fault_log "kill-request: found no request in flight"
}

fault_kill_client() {
  local s=$((RANDOM % slots)) id
  id=$(<"$work/pids/$s.id")
  # Stopped first, so that it cannot react to its request's death; the
  # request is killed while it is still the client's child.
  kill -STOP "${client_pids[$s]}" 2>/dev/null || true
  kill_inflight "$(cat "$work/inflight/$id.pid" 2>/dev/null)" "${client_pids[$s]}" || true
  kill -9 "${client_pids[$s]}" 2>/dev/null || true
  wait "${client_pids[$s]}" 2>/dev/null || true
  rm -f "$work/inflight/$id.pid"
  fault_log "kill-client $id"
  faults[kill-client]=$((faults[kill-client] + 1))
  start_client "$s"
}

fault_kill_walletd() {
  kill -9 "$walletd_pid" 2>/dev/null || true
  wait "$walletd_pid" 2>/dev/null || true
  fault_log "kill-walletd pid $walletd_pid"
  faults[kill-walletd]=$((faults[kill-walletd] + 1))
  sleep "0.$((RANDOM % 9 + 1))"
  start_walletd
}

fault_pg_crash() {
  local down_ms
  pg crash >/dev/null
  down_ms=$(now_ms)
  faults[pg-crash]=$((faults[pg-crash] + 1))
  sleep "$((RANDOM % 3)).$((RANDOM % 10))"
  # Sometimes walletd dies too, and starts again while the database is down.
  [ $((RANDOM % 3)) -ne 0 ] || fault_kill_walletd
  pg start >/dev/null
  fault_log "pg-crash: down for $(( $(now_ms) - down_ms )) ms including recovery"
}

fault_pg_terminate() {
  local n
  n=$(sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
           WHERE datname = 'chaos' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
             AND (random() < 0.7 OR state = 'active')" 2>/dev/null || echo failed)
  fault_log "pg-terminate $n backends"
  [ "$n" = failed ] || faults[pg-terminate]=$((faults[pg-terminate] + 1))
}

# walletd must only die when the injector kills it; a death of its own
# (a crash, a sanitizer report) is a finding. It is restarted either way.
walletd_deaths=0
check_walletd_alive() {
  kill -0 "$walletd_pid" 2>/dev/null && return
  walletd_deaths=$((walletd_deaths + 1))
  wait "$walletd_pid" 2>/dev/null || true
  fault_log "walletd $walletd_pid died on its own"
  start_walletd
}

deck=()
say "$cli_clients walletctl + $http_clients HTTP clients, $wallets wallets x 2 assets, ${duration_s}s, a fault every ~${fault_every_s}s"
while :; do
  # Uniform in [0.5, 1.5] x the mean interval.
  pause_ms=$((fault_every_s * 500 + RANDOM % (fault_every_s * 1000 + 1)))
  [ $(($(now_ms) + pause_ms)) -lt "$stop_ms" ] || break
  sleep "$((pause_ms / 1000)).$(printf '%03d' $((pause_ms % 1000)))"
  check_walletd_alive
  # Dealt from a shuffled deck: every ten faults have every kind.
  [ ${#deck[@]} -gt 0 ] || deck=(kill_request kill_request kill_request kill_client kill_client
                                 kill_walletd kill_walletd pg_crash pg_terminate pg_terminate)
  i=$((RANDOM % ${#deck[@]}))
  "fault_${deck[i]}"
  deck=("${deck[@]:0:i}" "${deck[@]:i+1}")
done

# --- Drain: no more faults; every surviving client must settle its key -----
while [ "$(now_ms)" -lt "$stop_ms" ]; do sleep 0.2; done
stuck_clients=0
for s in $(seq 0 $((slots - 1))); do
  while kill -0 "${client_pids[$s]}" 2>/dev/null && [ "$(now_ms)" -lt $((drain_ms + 5000)) ]; do sleep 0.2; done
  if kill -0 "${client_pids[$s]}" 2>/dev/null; then
    stuck_clients=$((stuck_clients + 1))
    kill -9 "${client_pids[$s]}" 2>/dev/null || true
  fi
  wait "${client_pids[$s]}" 2>/dev/null || true
done
for f in "$work"/inflight/*.pid; do
  [ -f "$f" ] && kill_inflight "$(cat "$f")" "" || true
done
client_pids=()
# Holds left to expire (or whose client died) are voided by walletd's worker
# within a few seconds; the checks then find none pending.
settle_deadline_ms=$(( $(now_ms) + holds_settle_s * 1000 ))
while [ "$(sql "SELECT count(*) FROM transactions WHERE status = 'pending'" 2>/dev/null || echo 1)" != 0 ] \
      && [ "$(now_ms)" -lt "$settle_deadline_ms" ]; do
  check_walletd_alive
  sleep 0.5
done
elapsed_s=$(( ($(now_ms) - start_ms) / 1000 ))

# --- Checks ----------------------------------------------------------------
source "$root/tests/e2e/chaos_check.sh"
load_histories
replay_acknowledged >"$work/replays.txt"
check_walletd_alive
kill -TERM "$walletd_pid" 2>/dev/null || true
walletd_exit=0
wait "$walletd_pid" 2>/dev/null || walletd_exit=$?
walletd_pid=""
[ -z "$sabotage" ] || { say "sabotage: $sabotage (the checks below must fail)"; sabotage chaos "$sabotage"; }

report
