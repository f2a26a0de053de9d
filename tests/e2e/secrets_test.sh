#!/usr/bin/env bash
# Secrets are never printed: walletctl and walletd given connection strings
# with passwords (a malformed URI, a malformed keyword/value string, a
# well-formed URI to a server that is not there) print no password on
# stderr, in stdout JSON, in HTTP bodies or in log lines; a malformed string
# is refused at once, not retried.
source "$(dirname "$0")/lib.sh"
: "${WALLETD:?set WALLETD to the walletd binary}"
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT

# no_secret WHAT TEXT: fails when TEXT holds any of the test's passwords.
no_secret() {
  for secret in pw-URI-5ecret pw-KV-5ecret 5ecret-word pw-TCP-5ecret; do
    [[ "$2" != *"$secret"* ]] || fail "$1 prints the password $secret: $2"
  done
  pass
}

malformed_uri='postgresql://u:pw-URI-5ecret@[::1/wallet'
malformed_keywords='host=127.0.0.1 dbname=wallet password=pw-KV-5ecret 5ecret-word'
unreachable='postgresql://u:pw-TCP-5ecret@127.0.0.1:1/wallet?connect_timeout=1'

# walletctl: a malformed string is a usage error (exit 2), at once and
# without a retry, in the table and in JSON, from the flag or the environment.
for conninfo in "$malformed_uri" "$malformed_keywords"; do
  started=$(date +%s%N)
  run 2 -v -d "$conninfo" balance --user alice
  elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  no_secret "walletctl stderr" "$err"
  no_secret "walletctl stdout" "$out"
  expect_contains "walletctl names the problem" "$err" "invalid database connection string"
  [[ "$err" != *retrying* ]] || fail "a malformed connection string was retried: $err"
  pass
  [ "$elapsed_ms" -lt 2000 ] || fail "a malformed connection string took $elapsed_ms ms"
  pass
  run 2 -o json -d "$conninfo" balance --user alice
  no_secret "walletctl JSON" "$out$err"
  expect_eq "JSON error code" "$(jq -r .error.code <<<"$out")" invalid_input
  WALLETCTL_DATABASE="$conninfo" run 2 -o json reconcile
  no_secret "walletctl reconcile JSON" "$out$err"
done
# The URI form shows what it can: the user and host, not the password.
run 2 -d "$malformed_uri" balance --user alice
expect_contains "redacted URI" "$err" 'postgresql://u:***@[::1/wallet'

# A well-formed string to a server that is not there: retried (75), and the
# debug lines of each attempt print no password either.
run 75 -v -d "$unreachable" balance --user alice
no_secret "walletctl retries" "$out$err"
expect_contains "attempts logged" "$err" "retrying"
run 75 -o json -d "$unreachable" retry
no_secret "walletctl retry JSON" "$out$err"

# walletd refuses a malformed database or read_database at start (exit 2).
# (Its configuration file names the database: WALLETCTL_DATABASE, which
# would override it, is left out of its environment.)
write_config() {
  cat >"$tmp/walletd.toml" <<TOML
database = "$1"
read_database = "$2"
[daemon]
listen = "127.0.0.1:0"
tokens = ["tok-alpha"]
worker_interval = "200ms"
TOML
}
for bad in "$malformed_uri" "$malformed_keywords"; do
  for key in database read_database; do
    if [ "$key" = database ]; then write_config "$bad" ""; else write_config "$WALLETCTL_DATABASE" "$bad"; fi
    set +e
    timeout 10 env -u WALLETCTL_DATABASE "$WALLETD" -c "$tmp/walletd.toml" >"$tmp/walletd.out" 2>"$tmp/walletd.err"
    rc=$?
    set -e
    expect_eq "walletd with a malformed $key exits" "$rc" 2
    no_secret "walletd stderr ($key)" "$(cat "$tmp/walletd.out" "$tmp/walletd.err")"
    expect_contains "walletd names the key" "$(cat "$tmp/walletd.err")" "$key: invalid database connection string"
  done
done

# walletd with a password URI to a server that is not there: 503 bodies
# from /health and from a route, and its log lines (debug included), carry
# no password.
write_config "$unreachable" ""
env -u WALLETCTL_DATABASE "$WALLETD" -v -c "$tmp/walletd.toml" --log-file "$tmp/walletd.log" >"$tmp/walletd.out" 2>&1 &
pid=$!
pids+=("$pid")
port=""
for _ in $(seq 100); do
  port=$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$tmp/walletd.log" 2>/dev/null | grep -oE '[0-9]+$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "walletd did not start: $(cat "$tmp/walletd.out" "$tmp/walletd.log" 2>/dev/null)"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/health")
expect_eq "/health without a database" "$code" 503
no_secret "/health body" "$(cat "$tmp/body")"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer tok-alpha" \
  "http://127.0.0.1:$port/v1/users/alice/balances")
expect_eq "a route without a database" "$code" 503
no_secret "route body" "$(cat "$tmp/body")"
expect_contains "the body says what failed" "$(cat "$tmp/body")" "attempts"
sleep 0.5  # a worker round or two
kill "$pid"; wait "$pid" 2>/dev/null || true
log="$(cat "$tmp/walletd.log" "$tmp/walletd.out")"
no_secret "walletd log" "$log"
expect_contains "the log has the failed attempts" "$log" "retrying"
finish
