# Shared helpers for the end-to-end tests: they run the walletctl binary as
# an operator would, against the private PostgreSQL (PG* and
# WALLETCTL_DATABASE come from scripts/test), and check stdout, stderr and
# exit codes. Source this file; it sets -euo pipefail.
set -euo pipefail

: "${WALLETCTL:?set WALLETCTL to the walletctl binary}"
: "${WALLETCTL_DATABASE:?set WALLETCTL_DATABASE (scripts/test does)}"
export WALLETCTL_CONFIG=/dev/null/none  # never read a developer's config file...
unset WALLETCTL_CONFIG                  # ...and none is set: HOME points nowhere below
export HOME="${TMPDIR:-/tmp}/walletctl-e2e-home-$$"

# walletctl and walletd run as the application role (scripts/test points
# WALLETCTL_DATABASE at a login that is only a member of wallet_app); the
# schema is migrated by the admin (WALLET_TEST_ADMIN_DATABASE, the
# superuser), and sql() below checks the ledger as the superuser of PG*.
admin_database="${WALLET_TEST_ADMIN_DATABASE:-$WALLETCTL_DATABASE}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
checks=0

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { checks=$((checks + 1)); }

# run CODE ARGS...: runs walletctl, stores stdout in $out and stderr in $err,
# and fails unless it exited with CODE.
run() { run_one_of "$@"; }

# run_one_of "CODES" ARGS...: like run, accepting any of the space-separated
# exit codes (for whole-ledger commands that see other tests' data too).
run_one_of() {
  local want=$1; shift
  set +e
  "$WALLETCTL" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  out="$(cat "$tmp/out")"
  err="$(cat "$tmp/err")"
  [[ " $want " == *" $rc "* ]] || fail "walletctl $* exited $rc, expected one of $want; stderr: $err"
  pass
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  [ "$2" == "$3" ] || fail "$1: got '$2', expected '$3'"
  pass
}

# expect_contains WHAT HAYSTACK NEEDLE
expect_contains() {
  [[ "$2" == *"$3"* ]] || fail "$1: '$2' does not contain '$3'"
  pass
}

# A fresh asset code for this test run: tests never share data.
fresh_asset() { echo "E$(tr -dc 'A-Z' </dev/urandom | head -c 8)"; }

sql() { psql -X -Atq -v ON_ERROR_STOP=1 -c "$1"; }
# app_sql SQL: runs SQL as the programs' role; prints the SQLSTATE of its error, or "ok".
app_sql() {
  local state
  state=$(psql -X -Atq -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$WALLETCTL_DATABASE" -c "$1" 2>&1 >/dev/null) \
    && echo ok || echo "${state#ERROR:  }"
}

# The ledger invariants of one asset (see tests/integration/support.hpp).
check_ledger() {
  local a=$1
  expect_eq "entries of $a sum to zero" \
    "$(sql "select coalesce(sum(e.amount),0) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$a'")" 0
  expect_eq "stored balances of $a equal their entries" \
    "$(sql "select count(*) from wallets w where w.asset='$a' and w.balance <> (select coalesce(sum(amount),0) from ledger_entries where wallet_id=w.id)")" 0
  expect_eq "no user wallet of $a ever went below zero" \
    "$(sql "select count(*) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$a' and not w.is_system and e.balance_after < 0")" 0
  expect_eq "posted transactions of $a have two entries" \
    "$(sql "select count(*) from transactions t where t.asset='$a' and t.status='posted' and (select count(*) from ledger_entries where transaction_id=t.id) <> 2")" 0
}

finish() { echo "ok: $checks checks"; }

# own_database NAME: for a test that checks or tampers with the whole ledger.
# Creates database NAME afresh (dropped again on exit), migrates it as the
# admin, points WALLETCTL_DATABASE at it, and sets $admin (the superuser's
# conninfo there) and $owner (a login that is a member of wallet_owner and
# no superuser, created if missing, as issue 12's attacker).
own_database() {
  local name=$1 base="${WALLET_TEST_ADMIN_DATABASE:?scripts/test sets WALLET_TEST_ADMIN_DATABASE}"
  export PGOPTIONS="-c client_min_messages=warning"
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS '"$name"' WITH (FORCE)" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
  admin="${base/dbname=wallet_test/dbname=$name}"
  owner="${admin/user=$PGUSER/user=wallet_test_owner}"
  export WALLETCTL_DATABASE="${WALLETCTL_DATABASE/dbname=wallet_test/dbname=$name}"
  "$WALLETCTL" -q -d "$admin" migrate >/dev/null
  psql -X -q -v ON_ERROR_STOP=1 -d "$admin" \
    -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'wallet_test_owner') THEN CREATE ROLE wallet_test_owner LOGIN; END IF; END \$\$" \
    -c "GRANT wallet_owner TO wallet_test_owner"
  expect_eq "the owner is no superuser" "$(psql -X -Atq -d "$owner" -c "select rolsuper from pg_roles where rolname = current_user")" f
}
# dsql SQL / owner_sql SQL: SQL in the test's own database, as the superuser / as the owner.
dsql() { psql -X -Atq -v ON_ERROR_STOP=1 -d "$admin" -c "$1"; }
owner_sql() { psql -X -Atq -v ON_ERROR_STOP=1 -d "$owner" -c "$1"; }

# walletd_port LOG: waits up to 10 s for the walletd writing LOG to say where
# it listens, and prints the port (nothing if it never did).
walletd_port() {
  local port=""
  for _ in $(seq 100); do
    port=$(grep -oE 'listening on http://127.0.0.1:[0-9]+' "$1" 2>/dev/null | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  printf '%s' "$port"
}
