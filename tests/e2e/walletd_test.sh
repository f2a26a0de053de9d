#!/usr/bin/env bash
# walletd end to end: real HTTP against a running walletd and the private
# PostgreSQL. Every route with its errors, idempotent replays, 200
# concurrent withdrawals, a PostgreSQL crash and restart, SIGTERM under load.
source "$(dirname "$0")/lib.sh"
: "${WALLETD:?set WALLETD to the walletd binary}"
root="$(cd "$(dirname "$0")/../.." && pwd)"

A=$(fresh_asset)
run 0 asset add "$A" --scale 2
pids=()
cleanup_daemons() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap 'cleanup_daemons; if [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi' EXIT

# start_walletd NAME RATE: starts a walletd on a free port; sets $url and $pid.
start_walletd() {
  cat >"$tmp/$1.toml" <<TOML
database = "$WALLETCTL_DATABASE"
[daemon]
listen = "127.0.0.1:0"
tokens = ["tok-alpha", "tok-beta"]
rate_limit_per_second = $2
body_bytes_max = 4096
worker_interval = "500ms"
pool_size = 8
threads = 16
TOML
  "$WALLETD" -c "$tmp/$1.toml" >"$tmp/$1.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    port=$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$tmp/$1.log" | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || fail "walletd did not start: $(cat "$tmp/$1.log")"
  url="http://127.0.0.1:$port"
}

# http CODE METHOD PATH [BODY] [extra curl args...]: stores the body in $out.
http() {
  local want=$1 method=$2 path=$3 body=${4:-}
  shift 4 || shift $#
  local code
  code=$(curl -s -o "$tmp/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer tok-alpha" \
    -H 'Content-Type: application/json' ${body:+--data-binary "$body"} "$@" "$url$path")
  out="$(cat "$tmp/body")"
  [ "$code" = "$want" ] || fail "$method $path: HTTP $code, expected $want: $out"
  pass
}

start_walletd main 100000
main_pid=$pid

# Authentication: /health needs no token, everything else does.
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/health"); expect_eq "health without token" "$code" 200
# Keep-alive: one connection serves many requests (walletd's first HTTP
# library closed it after 5, which cost a reconnect every 5 requests).
connects=$(curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
  -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' $(printf "$url/health %.0s" $(seq 10)) |
  awk '{ n += $1 } END { print n }')
expect_eq "10 requests over one keep-alive connection" "$connects" 1
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "$url/v1/users/alice/balances"); expect_eq "no token" "$code" 401
expect_eq "401 body" "$(jq -r .error.code "$tmp/body")" unauthorized
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer tok-alphaX" "$url/metrics"); expect_eq "wrong token" "$code" 401
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic tok-alpha" "$url/metrics"); expect_eq "wrong scheme" "$code" 401
grep -q "tok-alpha" "$tmp/main.log" && fail "a token appears in the log"
pass

# Wallets
http 201 POST /v1/wallets "{\"user\":\"alice\",\"asset\":\"$A\"}"
expect_eq "wallet balance" "$(jq -r .balance <<<"$out")" "0.00"
http 201 POST /v1/wallets "{\"user\":\"bob\",\"asset\":\"$A\"}"
http 409 POST /v1/wallets "{\"user\":\"alice\",\"asset\":\"$A\"}"
http 404 POST /v1/wallets '{"user":"alice","asset":"NOSUCHASSET"}'
http 400 POST /v1/wallets '{"user":"alice"}'
http 400 POST /v1/wallets "{\"user\":\"alice\",\"asset\":\"$A\",\"extra\":1}"

# Deposits: replay through Idempotency-Key, key reuse, bad amounts.
http 201 POST /v1/deposits "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"100.00\"}" -H "Idempotency-Key: dep-$A"
dep=$(jq -r .transaction_id <<<"$out")
expect_eq "deposit replayed flag" "$(jq -r .replayed <<<"$out")" false
http 200 POST /v1/deposits "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"100.00\"}" -H "Idempotency-Key: dep-$A"
expect_eq "replay same transaction" "$(jq -r .transaction_id <<<"$out")" "$dep"
expect_eq "replay flagged" "$(jq -r .replayed <<<"$out")" true
http 409 POST /v1/deposits "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"100.01\"}" -H "Idempotency-Key: dep-$A"
for amount in '"0"' '"-1"' '"1.001"' '"1e3"' '"abc"' '""' '10.5' 'null' '"99999999999999999999"'; do
  http 400 POST /v1/deposits "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":$amount}"
done
http 400 POST /v1/deposits '{"user":"alice",'
http 400 POST /v1/deposits '[1,2]'
http 400 POST /v1/deposits "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"1\",\"kind\":\"purchase\"}"
http 404 POST /v1/deposits "{\"user\":\"ghost\",\"asset\":\"$A\",\"amount\":\"1\"}"
big=$(head -c 5000 /dev/zero | tr '\0' x)
http 413 POST /v1/deposits "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"1\",\"memo\":\"$big\"}"
http 201 POST /v1/deposits "{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"5\",\"kind\":\"bonus\",\"memo\":\"welcome\"}"
expect_eq "generated key" "$(jq -r .key_generated <<<"$out")" true

# Bounds (walletd(8), LIMITS): each value at its bound is accepted, one past
# it is refused and changes nothing.
rep() { printf "%${2}s" "" | tr ' ' "$1"; }
bob_entries() { sql "select count(*) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$A' and w.user_id='bob'"; }
before=$(bob_entries)
body="{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"0.01\",\"memo\":\"$(rep m 500)\""
http 201 POST /v1/deposits "$body$(rep ' ' $((4096 - ${#body} - 1)))}" -H "Idempotency-Key: body-at-$A"
http 413 POST /v1/deposits "$body$(rep ' ' $((4097 - ${#body} - 1)))}" -H "Idempotency-Key: body-past-$A"
expect_eq "413 code" "$(jq -r .error.code <<<"$out")" too_large
# A chunked body has no length to check against the bound: refused unread.
http 400 POST /v1/deposits "$body$(rep ' ' $((4097 - ${#body} - 1)))}" -H "Idempotency-Key: body-chunked-$A" \
  -H "Transfer-Encoding: chunked"
expect_contains "chunked body refused" "$(jq -r .error.message <<<"$out")" "needs Content-Length"
http 400 POST /v1/deposits "{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"0.01\",\"memo\":\"$(rep m 501)\"}"
expect_contains "memo bound named" "$out" "at most 500 bytes"
key="$A-$(rep k $((127 - ${#A})))"
http 201 POST /v1/deposits "{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"0.01\"}" -H "Idempotency-Key: $key"
expect_eq "128-character key kept" "$(jq -r .idempotency_key <<<"$out")" "$key"
http 400 POST /v1/deposits "{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"0.01\"}" -H "Idempotency-Key: ${key}k"
expect_eq "only the deposits at the bounds moved money" "$(bob_entries)" "$((before + 2))"
expect_eq "no key recorded past the bounds" \
  "$(sql "select count(*) from transactions where idempotency_key in ('body-past-$A', 'body-chunked-$A', '${key}k')")" 0
u64=$(rep u 64)
http 201 POST /v1/wallets "{\"user\":\"$u64\",\"asset\":\"$A\"}"
http 400 POST /v1/wallets "{\"user\":\"${u64}u\",\"asset\":\"$A\"}"
http 200 GET "/v1/users/$u64/balances?asset=$A"
http 400 GET "/v1/users/${u64}u/balances"
http 200 GET "/v1/users/bob/history?asset=$A&limit=1000"
http 400 GET "/v1/users/bob/history?asset=$A&limit=1001"
http 201 POST /v1/transfers "{\"from\":\"bob\",\"to\":\"alice\",\"asset\":\"$A\",\"amount\":\"0.01\",\"pending\":true}"
held=$(jq -r .transaction_id <<<"$out")
http 400 POST "/v1/transactions/$held/void" "{\"reason\":\"$(rep r 501)\"}"
expect_eq "hold still pending" "$(sql "select status from transactions where id=$held")" pending
http 200 POST "/v1/transactions/$held/void" "{\"reason\":\"$(rep r 500)\"}"
http 400 GET "/v1/users/bob/history?asset=$A&kind=$(rep x 8200)"
expect_contains "request line bound named" "$(jq -r .error.message <<<"$out")" "request line longer than 8192 bytes"
http 400 GET "/v1/users/bob/balances" "" -H "X-Padding: $(rep x 8200)"
expect_contains "header line bound named" "$(jq -r .error.message <<<"$out")" "header line longer than 8192 bytes"
headers=()
for i in $(seq 59); do headers+=(-H "X-Field-$i: $i"); done   # with curl's and ours: 64 fields
http 200 GET "/v1/users/bob/balances?asset=$A" "" "${headers[@]}"
http 400 GET "/v1/users/bob/balances?asset=$A" "" "${headers[@]}" -H "X-Field-60: 60"
expect_contains "header count bound named" "$(jq -r .error.message <<<"$out")" "more than 64 header fields"

# Transfers, withdrawals, insufficient funds.
http 201 POST /v1/transfers "{\"from\":\"alice\",\"to\":\"bob\",\"asset\":\"$A\",\"amount\":\"20\"}"
tr=$(jq -r .transaction_id <<<"$out")
http 422 POST /v1/transfers "{\"from\":\"alice\",\"to\":\"bob\",\"asset\":\"$A\",\"amount\":\"1000\"}"
expect_eq "422 code" "$(jq -r .error.code <<<"$out")" insufficient_funds
http 400 POST /v1/transfers "{\"from\":\"alice\",\"to\":\"alice\",\"asset\":\"$A\",\"amount\":\"1\"}"
http 201 POST /v1/withdrawals "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"1\",\"kind\":\"purchase\"}"
expect_eq "purchase to revenue" "$(jq -r .to <<<"$out")" "@revenue"

# Reads.
http 200 GET "/v1/users/alice/balances?asset=$A"
expect_eq "alice available" "$(jq -r '.[0].available' <<<"$out")" "79.00"
# ?at=: the balances as they were then, from the ledger entries.
http 200 GET "/v1/users/alice/balances?asset=$A&at=2100-01-01"
expect_eq "alice available at a later instant" "$(jq -r '.[0].available' <<<"$out")" "79.00"
http 200 GET "/v1/users/alice/balances?asset=$A&at=2000-01-01"
expect_eq "alice had no wallet in 2000" "$(jq -c . <<<"$out")" "[]"
http 404 GET "/v1/users/nobody/balances?at=2000-01-01"
# reference: in the body, shown, and found by ?reference=.
http 201 POST /v1/deposits "{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"1\",\"reference\":\"BANK-$A\"}"
expect_eq "deposit answers with its reference" "$(jq -r .reference <<<"$out")" "BANK-$A"
http 200 GET "/v1/users/bob/history?asset=$A&reference=BANK-$A"
expect_eq "history ?reference= finds it only" "$(jq -c '[.entries[] | .reference]' <<<"$out")" "[\"BANK-$A\"]"
http 400 POST /v1/deposits "{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"1\",\"reference\":7}"
http 400 GET "/v1/users/alice/balances?at=yesterday"
expect_contains "a bad at= is named" "$(jq -r .error.message <<<"$out")" 'invalid field "at" "yesterday"'
http 404 GET "/v1/users/nobody/balances"
http 200 GET "/v1/users/alice/history?asset=$A&limit=2"
expect_eq "history page" "$(jq -r '.entries | length' <<<"$out")" 2
cursor=$(jq -r .next_cursor <<<"$out")
http 200 GET "/v1/users/alice/history?asset=$A&limit=2&cursor=$cursor"
http 400 GET "/v1/users/alice/history?limit=abc"
http 400 GET "/v1/users/alice/history?since=yesterday"
http 200 GET "/v1/transactions/$tr"
expect_eq "entries" "$(jq -r '.entries | length' <<<"$out")" 2
http 404 GET /v1/transactions/999999999
http 400 GET /v1/transactions/abc
http 404 GET /v1/nowhere

# History reads from read_database when one is set (as walletctl history
# does), everything else from the main database: with a read database that
# cannot be reached, history is 503 while balances and transactions answer;
# with a reachable one (here the same database), history answers the same.
main_url=$url
saved_pid=$pid
expected_history=$(curl -s -H "Authorization: Bearer tok-alpha" "$url/v1/users/alice/history?asset=$A&limit=50")
WALLETCTL_READ_DATABASE="host=$tmp/nowhere port=1 dbname=nowhere connect_timeout=1" start_walletd unreadable 100000
http 503 GET "/v1/users/alice/history?asset=$A"
expect_eq "history without its read database" "$(jq -r .error.code <<<"$out")" unavailable
http 200 GET "/v1/users/alice/balances?asset=$A"
http 200 GET "/v1/transactions/$tr"
kill "$pid"; wait "$pid" 2>/dev/null || true
WALLETCTL_READ_DATABASE="$WALLETCTL_DATABASE" start_walletd readable 100000
http 200 GET "/v1/users/alice/history?asset=$A&limit=50"
expect_eq "history from the read database" "$out" "$expected_history"
kill "$pid"; wait "$pid" 2>/dev/null || true
url=$main_url
pid=$saved_pid

# Holds: post, void, reverse; expiry handled by the worker.
http 201 POST /v1/transfers "{\"from\":\"alice\",\"to\":\"bob\",\"asset\":\"$A\",\"amount\":\"10\",\"pending\":true,\"timeout\":\"1h\"}"
hold=$(jq -r .transaction_id <<<"$out")
http 200 POST "/v1/transactions/$hold/post" '{"amount":"4"}'
expect_eq "partial post" "$(jq -r .posted_amount <<<"$out")" "4.00"
http 409 POST "/v1/transactions/$hold/void" '{}'
http 400 POST "/v1/transactions/$hold/post" '{"amount":4}'
http 201 POST /v1/withdrawals "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"3\",\"pending\":true}"
h2=$(jq -r .transaction_id <<<"$out")
http 200 POST "/v1/transactions/$h2/void" '{"reason":"changed mind"}'
expect_eq "voided" "$(jq -r .status <<<"$out")" voided
http 201 POST "/v1/transactions/$tr/reverse" "{}" -H "Idempotency-Key: rev-$A"
expect_eq "reversal" "$(jq -r .kind <<<"$out")" reversal
http 200 POST "/v1/transactions/$tr/reverse" "{}" -H "Idempotency-Key: rev-$A"
http 409 POST "/v1/transactions/$tr/reverse" "{}"
http 201 POST /v1/transfers "{\"from\":\"alice\",\"to\":\"bob\",\"asset\":\"$A\",\"amount\":\"2\",\"pending\":true,\"timeout\":\"1s\"}"
h3=$(jq -r .transaction_id <<<"$out")
sleep 2.5  # expires after 1 s; the worker runs every 500 ms
http 200 GET "/v1/transactions/$h3"
expect_eq "worker voided the expired hold" "$(jq -r .status <<<"$out")" voided

# Metrics and OpenAPI.
http 200 GET /metrics
for m in walletd_requests_total walletd_request_duration_seconds_bucket walletd_movements_total \
         walletd_retry_actions_total walletd_stuck_transactions walletd_pool_in_use; do
  expect_contains "metric $m" "$out" "$m"
done
expect_contains "expired hold counted" "$out" 'walletd_retry_actions_total{action="voided"}'
http 200 GET /openapi.json
expect_eq "openapi version" "$(jq -r .openapi <<<"$out")" "3.0.3"
expect_eq "openapi routes" "$(jq -r '.paths | keys | length' <<<"$out")" 13
expect_eq "the served document is docs/openapi.json" "$(jq -S . <<<"$out" | sha256sum)" \
  "$(jq -S . "$root/docs/openapi.json" | sha256sum)"

# 200 concurrent withdrawals of 1 against a wallet of 50: exactly 50 succeed.
http 201 POST /v1/wallets "{\"user\":\"spender\",\"asset\":\"$A\"}"
http 201 POST /v1/deposits "{\"user\":\"spender\",\"asset\":\"$A\",\"amount\":\"50\"}"
seq 1 200 | xargs -P 50 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer tok-beta" \
  -H "Idempotency-Key: w-$A-{}" -d "{\"user\":\"spender\",\"asset\":\"$A\",\"amount\":\"1\"}" "$url/v1/withdrawals" >"$tmp/codes"
expect_eq "withdrawals accepted" "$(grep -cx 201 "$tmp/codes")" 50
expect_eq "withdrawals refused" "$(grep -cx 422 "$tmp/codes")" 150
http 200 GET "/v1/users/spender/balances?asset=$A"
expect_eq "spender at zero" "$(jq -r '.[0].balance' <<<"$out")" "0.00"
echo "walletd: 200 concurrent withdrawals, $(grep -cx 201 "$tmp/codes") accepted, $(grep -cx 422 "$tmp/codes") refused"

# Rate limiting, per token, with Retry-After.
start_walletd limited 5
for i in $(seq 1 20); do
  curl -s -o /dev/null -D "$tmp/h.$i" -w '%{http_code}\n' -H "Authorization: Bearer tok-alpha" "$url/metrics"
done >"$tmp/limited"
limited=$(grep -cx 429 "$tmp/limited" || true)
[ "$limited" -ge 10 ] || fail "expected at least 10 of 20 requests over 5/s to be limited, got $limited"
pass
grep -qi '^retry-after: [0-9]' "$tmp"/h.* || fail "429 without Retry-After"
pass
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer tok-beta" "$url/metrics")
expect_eq "another token has its own bucket" "$code" 200
url="http://127.0.0.1:$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$tmp/main.log" | grep -oE '[0-9]+$')"

# PostgreSQL crashes and comes back: 503 with Retry-After meanwhile, then
# correct answers, without restarting walletd.
"$root/scripts/pg" crash >/dev/null
start=$(date +%s%N)
code=$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -H "Authorization: Bearer tok-alpha" \
  -d "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"1\"}" -H "Idempotency-Key: down-$A" "$url/v1/deposits")
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "503 while the database is down" "$code" 503
grep -qi '^retry-after:' "$tmp/headers" || fail "503 without Retry-After"
pass
[ "$took_ms" -lt 3000 ] || fail "503 took $took_ms ms: it should come quickly"
pass
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/health"); expect_eq "health while down" "$code" 503
"$root/scripts/pg" start >/dev/null
http 201 POST /v1/deposits "{\"user\":\"alice\",\"asset\":\"$A\",\"amount\":\"1\"}" -H "Idempotency-Key: down-$A"
# /health caches its answer for a second: the 503 from while it was down
# may be served once more, then it answers 200.
for _ in $(seq 30); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url/health")
  [ "$code" = 200 ] && break
  sleep 0.2
done
expect_eq "health after restart (within the 1 s cache)" "$code" 200
echo "walletd: database down -> 503 in $took_ms ms; recovered without a restart"

# SIGTERM under load: requests in flight complete, exit status 0.
load=()
for c in 1 2 3 4; do
  (
    for i in $(seq 1 200); do
      curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer tok-beta" -H "Idempotency-Key: t-$A-$c-$i" \
        -d "{\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"0.01\"}" "$url/v1/deposits" || true
    done >"$tmp/load.$c"
  ) &
  load+=($!)
done
sleep 1
kill -TERM "$main_pid"
set +e
wait "$main_pid"
status=$?
set -e
wait "${load[@]}"
[ "$status" = 0 ] || tail -40 "$tmp/main.log" >&2
expect_eq "walletd exit status after SIGTERM" "$status" 0
# Every answer is a success or no connection at all (000): nothing half done.
bad=$(cat "$tmp"/load.* | grep -cvE '^(201|000)$' || true)
expect_eq "answers during shutdown that were neither 201 nor refused" "$bad" 0
answered=$(cat "$tmp"/load.* | grep -cx 201 || true)
[ "$answered" -gt 0 ] || fail "no request was served before the shutdown"
pass
expect_eq "every 201 is in the ledger" \
  "$(sql "select count(*) from transactions where idempotency_key like 't-$A-%' and status = 'posted'")" "$answered"
grep -q "draining" "$tmp/main.log" || fail "no shutdown message in the log"
pass
echo "walletd: SIGTERM under load: $answered deposits answered 201 and all are in the ledger; exit 0"

# --log-file, and SIGHUP reopening it after a rotation.
"$WALLETD" -c "$tmp/main.toml" --log-file "$tmp/walletd.log" 2>"$tmp/stderr.log" &
logpid=$!
pids+=("$logpid")
for _ in $(seq 100); do grep -q "listening on" "$tmp/walletd.log" 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$tmp/walletd.log" | grep -oE '[0-9]+$')"
mv "$tmp/walletd.log" "$tmp/walletd.log.1"
kill -HUP "$logpid"
sleep 0.3
http 200 GET /metrics
sleep 0.2
grep -q "log file reopened" "$tmp/walletd.log" || fail "SIGHUP did not reopen the log file"
pass
grep -q "GET /metrics" "$tmp/walletd.log" || fail "requests after SIGHUP are not in the new log file"
pass
kill -TERM "$logpid"
wait "$logpid" || fail "walletd with --log-file did not exit cleanly"
pass

run_one_of "0 11" reconcile --full -o json
expect_eq "no drift" "$(jq -r '.drift | length' <<<"$out")" 0
check_ledger "$A"
finish
