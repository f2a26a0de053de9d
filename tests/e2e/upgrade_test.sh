#!/usr/bin/env bash
# Upgrade from the previous release: a database created by the released
# migrations 0001-0006 (as the walletctl of that release applied them), with
# data written through the functions of that release, and then migrated by
# this walletctl, ends with the same schema as a database migrated from
# empty, reconciles clean over the data written before the upgrade, and
# takes new movements. Runs as the superuser of PG* (scripts/test), on two
# databases of its own.
source "$(dirname "$0")/lib.sh"
root="$(cd "$(dirname "$0")/../.." && pwd)"

suffix="$$_$RANDOM"
fresh="wallet_upgrade_fresh_$suffix"
old="wallet_upgrade_old_$suffix"
cleanup() {
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS $old WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $fresh" -c "CREATE DATABASE $old"
on() { local db=$1; shift; psql -X -Atq -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# The released migrations, byte for byte as in the release (commit 2609b91).
released=(
  "9463b4be5f53ba3f8dd17c0bf6d500a3fceb1709876a6f319c54289e8a4265f6 0001_ledger.sql"
  "959ea0a70a8de9f02ac70166b9ee8aa2eb72b012b226ebf69178a6236075eb0e 0002_holds.sql"
  "7ae0aa0494d1f171d0478ec2689be6c89e345eefef98abaaf0be6a03fb48f071 0003_import.sql"
  "4f9a280519ce28dc2cd15aad7114e53f48914ab73fddd479f09b530d63038f70 0004_move_speed.sql"
  "7bf6ca71609f52afc633648208a37268399c6d5bb7b48b4f57faca65f1e9715b 0005_roles.sql"
  "b2c35989b99275ef96ac1b15c53c255fa734e9a6917df0d5ce5340ceac0d6dc7 0006_hot_path.sql"
)
for entry in "${released[@]}"; do
  expect_eq "released migration ${entry#* } is unchanged" \
    "$(sha256sum "$root/sql/migrations/${entry#* }" | cut -c1-64)" "${entry%% *}"
done

# Database A: migrated from empty by this walletctl.
run 0 -d "dbname=$fresh" migrate -o json
expect_eq "A: every migration and function file applied" \
  "$(jq '[.applied[] | select(.applied_at == null)] | length' <<<"$out")" "$(jq '.applied | length' <<<"$out")"

# One live definition: the database's functions are exactly those of
# sql/functions, each defined once there, and each one used (called by the
# programs' statements, or by another function or a trigger).
defined=$(grep -ohE '^CREATE OR REPLACE FUNCTION [a-z_0-9]+' "$root"/sql/functions/*.sql | awk '{print $5}' | LC_ALL=C sort)
expect_eq "no function is defined twice in sql/functions" "$(uniq -d <<<"$defined")" ""
expect_eq "the database's functions are those of sql/functions" \
  "$(on "$fresh" -c "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace" | LC_ALL=C sort)" \
  "$defined"
for f in $defined; do
  uses=$( (grep -rhow "$f" "$root"/core "$root"/reconcile "$root"/cli "$root"/daemon || true;
           grep -hw "$f" "$root"/sql/functions/[0-8]*.sql | grep -v "^CREATE OR REPLACE FUNCTION $f" \
             | grep -v '^ *--' || true) | wc -l)
  [ "$uses" -gt 0 ] || fail "function $f is defined but never used"
done
pass

# Database B: what the previous walletctl did -- one transaction under the
# advisory lock: schema_migrations, each migration and its row, then the
# privilege map.
{
  echo "SELECT pg_advisory_xact_lock(727411001);"
  echo "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
  echo "  applied_at timestamptz NOT NULL DEFAULT now());"
  for entry in "${released[@]}"; do
    file=${entry#* }
    cat "$root/sql/migrations/$file"
    echo ";"
    echo "INSERT INTO schema_migrations(version, name) VALUES (${file:0:4}, '$(basename "${file:5}" .sql)');"
  done
  echo "SELECT wallet_apply_privileges();"
} >"$tmp/release.sql"
on "$old" -1 -f "$tmp/release.sql" >/dev/null

# Data written through the release's functions: deposits, a transfer, holds
# (pending, posted, voided), a withdrawal, a settlement still pending, a
# reversal, a failed movement, an import batch.
move() {  # KEY KIND FROM TO AMOUNT PENDING [TIMEOUT]
  on "$old" -c "SELECT transaction_id FROM wallet_move('$1', 'fp-$1', '$2', '$3', '$4', 'UPG', $5, 'before', $6,
                  ${7:-NULL}, 'upgrade-test', '{}')"
}
on "$old" -c "SELECT code FROM wallet_asset_add('UPG', 2, 'Upgrade', 'upgrade-test')" >/dev/null
for u in alice bob carol; do on "$old" -c "SELECT id FROM wallet_create('$u', 'UPG', 'upgrade-test')" >/dev/null; done
move d1 deposit @treasury alice 100000 false >/dev/null
move d2 bonus @treasury bob 5000 false >/dev/null
transfer=$(move t1 transfer alice bob 2500 false)
hold=$(move h1 transfer alice carol 1000 true "'1 hour'")
posted=$(move h2 transfer alice carol 700 true "'1 hour'")
voided=$(move h3 transfer bob carol 300 true "'1 hour'")
on "$old" -c "SELECT status FROM wallet_post($posted, 500, 'upgrade-test', '{}')" >/dev/null
on "$old" -c "SELECT status FROM wallet_void($voided, 'no', 'upgrade-test', '{}')" >/dev/null
move w1 withdraw bob @settlement 400 false >/dev/null
move p1 purchase bob @revenue 100 false >/dev/null
on "$old" -c "SELECT status FROM wallet_move('s1', 'fp-s1', 'withdraw', 'alice', '@settlement', 'UPG', 900, '', true,
                NULL, 'upgrade-test', '{}', true, NULL, '1 hour')" >/dev/null
on "$old" -c "SELECT status FROM wallet_reverse($transfer, 'r1', 'upgrade-test', '{}')" >/dev/null
expect_eq "B: a failed movement before the upgrade" \
  "$(on "$old" -c "SELECT status FROM wallet_move('f1', 'fp-f1', 'withdraw', 'carol', '@settlement', 'UPG', 99999999,
                     '', false, NULL, 'upgrade-test', '{}')")" failed
on "$old" -c "SELECT count(*) FROM wallet_import_batch(ARRAY[1,2]::bigint[], ARRAY[true,false], ARRAY['i1','i2'],
                ARRAY['fp-i1','fp-i2'], ARRAY['deposit','transfer'], ARRAY['@treasury','dave'], ARRAY['dave','alice'],
                ARRAY['UPG','UPG'], ARRAY[800,200]::bigint[], ARRAY['',''], 'upgrade-test', 'upgrade')" >/dev/null
# (This walletctl's reconcile needs the new schema's functions, e.g. the
# entry hash of version 2, so the data is reconciled after the upgrade below.)

# The upgrade.
run 0 -d "dbname=$old" migrate --status -o json
expect_eq "B: the new migrations and every function file are pending" \
  "$(jq -c '[.[] | select(.applied_at == null) | .name]' <<<"$out")" \
  "$(jq -c '[.[] | select(.type == "functions" or .version > 6) | .name]' <<<"$out")"
run 0 -d "dbname=$old" migrate -o json
run 0 -d "dbname=$old" migrate -o json
expect_eq "B: a second migrate has nothing to do" "$(jq -c .applied <<<"$out")" "[]"

# Same schema: pg_dump --schema-only, without comments, blank lines and
# pg_dump's per-run \restrict keys.
schema() {
  pg_dump --schema-only --no-comments -d "$1" | grep -vE '^(--|\\(un)?restrict |$)'
}
schema "$fresh" >"$tmp/fresh.schema"
schema "$old" >"$tmp/old.schema"
diff -u "$tmp/fresh.schema" "$tmp/old.schema" >"$tmp/schema.diff" || fail "schemas differ: $(head -40 "$tmp/schema.diff")"
pass
expect_eq "the same function files recorded in both" \
  "$(on "$fresh" -c "SELECT string_agg(name || ':' || sha256, ',' ORDER BY name) FROM schema_functions")" \
  "$(on "$old" -c "SELECT string_agg(name || ':' || sha256, ',' ORDER BY name) FROM schema_functions")"

# The data written before the upgrade reconciles clean, and B takes new movements.
run 0 -d "dbname=$old" reconcile --full -o json
expect_eq "B: no drift after the upgrade" "$(jq '.drift | length' <<<"$out")" 0
run 0 -d "dbname=$old" deposit --user carol --asset UPG --amount 12.34 --key after-1
run 0 -d "dbname=$old" transfer --from bob --to carol --asset UPG --amount 1.00 --key after-2
run 0 -d "dbname=$old" post "$hold"
run 0 -d "dbname=$old" reverse "$posted" --key after-3
run 3 -d "dbname=$old" withdraw --user carol --asset UPG --amount 100000 --key after-4
run 0 -d "dbname=$old" reconcile --full
expect_eq "B: balances after the upgrade" \
  "$(on "$old" -c "SELECT string_agg(user_id || '=' || balance || '/' || reserved, ' ' ORDER BY user_id)
                   FROM wallets WHERE asset = 'UPG' AND NOT is_system")" \
  "alice=99200/900 bob=4400/0 carol=2334/0 dave=600/0"
# Audit rows written before the upgrade keep no hash (hash version 0);
# those after are chained (0011_audit_chain), and reconcile --full
# verified them above.
expect_eq "B: audit rows before the upgrade are not chained, those after are" \
  "$(on "$old" -c "SELECT string_agg(DISTINCT (actor = 'upgrade-test')::text || ':' || hash_version
                                    || ':' || (hash IS NOT NULL)::text, ' ') FROM audit_log")" \
  "false:1:true true:0:false"

# A function file whose content changed (here: its recorded checksum) is
# pending, and migrate applies that file alone.
on "$fresh" -c "UPDATE schema_functions SET sha256 = 'changed' WHERE name = '40_holds.sql'"
run 0 -d "dbname=$fresh" migrate --status -o json
expect_eq "a changed function file is pending" "$(jq -c '[.[] | select(.applied_at == null) | .name]' <<<"$out")" \
  '["40_holds.sql"]'
run 0 -d "dbname=$fresh" migrate -o json
expect_eq "migrate applies the changed file only" "$(jq -c '[.applied[] | .type + ":" + .name]' <<<"$out")" \
  '["functions:40_holds.sql"]'
run 0 -d "dbname=$fresh" migrate --status -o json
expect_eq "nothing pending after" "$(jq '[.[] | select(.applied_at == null)] | length' <<<"$out")" 0

# A database migrated by a newer release is refused by every command,
# migrate included (exit 1, naming the migration), and nothing changes.
on "$fresh" -c "INSERT INTO schema_migrations(version, name) VALUES (9999, 'from_the_future')"
on "$fresh" -c "UPDATE schema_functions SET sha256 = 'changed' WHERE name = '30_movement.sql'"
for command in "migrate" "migrate --status" "asset list" "reconcile --full"; do
  run 1 -d "dbname=$fresh" $command
  expect_contains "$command refuses a newer schema" "$err" "9999_from_the_future, newer than this binary knows"
done
expect_eq "the refused migrate applied nothing" \
  "$(on "$fresh" -c "SELECT name FROM schema_functions WHERE sha256 = 'changed'")" 30_movement.sql
finish
