#!/usr/bin/env bash
# walletctl import end to end: a file with good and bad lines, every bad one
# reported with its line number, the ledger reconciled, re-runs that change
# nothing, dry runs that write nothing, exit codes, formats and stdin.
source "$(dirname "$0")/lib.sh"

A=$(fresh_asset)
run 0 asset add "$A" --scale 2

entries() { sql "select count(*) from ledger_entries e join wallets w on w.id=e.wallet_id where w.asset='$A'"; }
balance_of() { run 0 balance --user "$1" --asset "$A" -o json; jq -r '.[0].balance' <<<"$out"; }
no_drift() {
  run_one_of "0 11" reconcile -o json
  expect_eq "reconcile finds no drift" "$(jq -r '.drift | length' <<<"$out")" 0
}

# Lines 1-13 (11 records); the bad ones are 7 (bad amount), 8 (unknown asset), 9 (overdraw),
# 10 (malformed quoting), 11 (unknown wallet), 12 (bad kind).
cat >"$tmp/mixed.csv" <<EOF
type,user,to,asset,amount,kind,key,memo
wallet,alice,,$A,100,,,
wallet,bob,,$A,,,,

deposit,alice,,$A,5.50,bonus,,"welcome, alice"
transfer,alice,bob,$A,30,,,"say ""hi"""
deposit,bob,,$A,1.234,,,
deposit,bob,,NOSUCH,1,,,
withdraw,bob,,$A,1000,,,
deposit,alice,,$A,"2,,,
transfer,alice,carol,$A,1,,,
deposit,alice,,$A,1,refund,,
withdraw,alice,,$A,0.50,purchase,k-$A,
EOF
run 2 import "$tmp/mixed.csv" -o json
expect_eq "lines" "$(jq -r .lines <<<"$out")" 11
expect_eq "applied" "$(jq -r .applied <<<"$out")" 5
expect_eq "refused" "$(jq -r .refused <<<"$out")" 1
expect_eq "invalid" "$(jq -r .invalid <<<"$out")" 5
expect_eq "error lines in order" "$(jq -r '[.errors[].line] | join(",")' <<<"$out")" "7,8,9,10,11,12"
expect_contains "bad amount" "$err" "$tmp/mixed.csv:7: invalid amount \"1.234\": at most 2 decimals"
expect_contains "unknown asset" "$err" "$tmp/mixed.csv:8: asset NOSUCH not found"
expect_contains "overdraw" "$err" "$tmp/mixed.csv:9: insufficient funds: wallet bob/$A has 30.00 available, 1000.00 requested"
expect_contains "malformed quoting" "$err" "$tmp/mixed.csv:10: unterminated quoted field"
expect_contains "unknown wallet" "$err" "$tmp/mixed.csv:11: wallet carol/$A not found"
expect_contains "bad kind" "$err" "$tmp/mixed.csv:12: invalid kind \"refund\""
expect_eq "alice" "$(balance_of alice)" "75.00"
expect_eq "bob" "$(balance_of bob)" "30.00"
expect_eq "treasury" "$(sql "select sum(balance) from wallets where user_id='@treasury' and asset='$A'")" -10550
run 0 history --user alice --asset "$A" -o json
expect_eq "memo with a comma kept" "$(jq -r '[.entries[].memo] | index("welcome, alice") != null' <<<"$out")" true
expect_eq "refusal recorded as failed" \
  "$(sql "select count(*) from transactions where asset='$A' and status='failed' and error_code='insufficient_funds'")" 1
no_drift
check_ledger "$A"

# A re-run changes nothing and reports replays (the refusal stays a refusal).
before=$(entries)
run 2 import "$tmp/mixed.csv" -o json
expect_eq "re-run applies nothing" "$(jq -r .applied <<<"$out")" 0
expect_eq "re-run replays" "$(jq -r .replayed <<<"$out")" 5
expect_eq "re-run refused again" "$(jq -r .refused <<<"$out")" 1
expect_eq "entries unchanged by the re-run" "$(entries)" "$before"
expect_eq "alice unchanged" "$(balance_of alice)" "75.00"

# Exit codes: 0 when every line applied or replayed, 3 with refusals only.
cat >"$tmp/good.jsonl" <<EOF
{"type":"deposit","user":"bob","asset":"$A","amount":"2","memo":"jsonl"}
{"type":"transfer","from":"bob","to":"alice","asset":"$A","amount":1}
EOF
run 0 import "$tmp/good.jsonl"
expect_contains "table summary" "$out" "2 applied, 0 replayed"
run 0 import "$tmp/good.jsonl" -o json
expect_eq "replayed jsonl" "$(jq -r .replayed <<<"$out")" 2
printf '{"type":"withdraw","user":"bob","asset":"%s","amount":"999"}\n' "$A" >"$tmp/overdraw.jsonl"
run 3 import "$tmp/overdraw.jsonl" -o json
expect_eq "refused only" "$(jq -r '[.refused, .invalid] | join(",")' <<<"$out")" "1,0"

# JSON Lines errors: truncated JSON, unknown member, fractional number.
cat >"$tmp/bad.jsonl" <<EOF
{"type":"deposit","user":"bob","asset":"$A","amount":"3"
{"type":"deposit","user":"bob","asset":"$A","amount":"3","amout":"4"}
{"type":"deposit","user":"bob","asset":"$A","amount":3.5}
EOF
run 2 import "$tmp/bad.jsonl" -o json
expect_eq "jsonl invalid" "$(jq -r .invalid <<<"$out")" 3
expect_contains "truncated json" "$err" "$tmp/bad.jsonl:1: invalid JSON"
expect_contains "unknown member" "$err" "$tmp/bad.jsonl:2: unknown member \"amout\""
expect_contains "fraction" "$err" "$tmp/bad.jsonl:3: amount must be exact decimal text"

# --dry-run checks against the database and writes nothing.
cat >"$tmp/new.csv" <<EOF
type,user,to,asset,amount
wallet,dora,,$A,10
transfer,dora,alice,$A,4
transfer,dora,alice,$A,7
deposit,ghost,,$A,1
EOF
before=$(entries)
wallets_before=$(sql "select count(*) from wallets where asset='$A'")
audit_before=$(sql "select count(*) from audit_log")
run 2 import "$tmp/new.csv" --dry-run -o json
expect_eq "dry run flag" "$(jq -r .dry_run <<<"$out")" true
expect_eq "dry run would apply" "$(jq -r .applied <<<"$out")" 2
expect_eq "dry run sees funds" "$(jq -r .refused <<<"$out")" 1
expect_eq "dry run sees missing wallets" "$(jq -r .invalid <<<"$out")" 1
expect_eq "dry run wrote no entries" "$(entries)" "$before"
expect_eq "dry run created no wallet" "$(sql "select count(*) from wallets where asset='$A'")" "$wallets_before"
expect_eq "dry run wrote no audit row" "$(sql "select count(*) from audit_log")" "$audit_before"
expect_eq "dry run recorded no key" "$(sql "select count(*) from transactions where asset='$A' and idempotency_key like 'import:transfer:%' and amount=400")" 0

# Standard input needs --format; a bad header or a missing file is exit 2.
run 2 import - --format csv -o json <"$tmp/new.csv"
expect_eq "stdin applied" "$(jq -r .applied <<<"$out")" 2
expect_contains "stdin lines are named -" "$err" "-:5: wallet ghost/$A not found"
expect_eq "dora after the real run" "$(balance_of dora)" "6.00"
run 2 import - <"$tmp/new.csv"
expect_contains "stdin needs a format" "$err" "give --format"
printf 'type,user,asset,amout\n' >"$tmp/header.csv"
run 2 import "$tmp/header.csv"
expect_contains "bad header" "$err" "$tmp/header.csv:1: header: unknown column \"amout\""
run 2 import "$tmp/does-not-exist.csv"
expect_contains "missing file" "$err" "cannot open"

# A line of exactly 65536 bytes is read (JSON may be padded with blanks);
# one byte longer is reported with its line number and changes nothing.
bob_before=$(balance_of bob)
rec1="{\"type\":\"deposit\",\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"1\",\"key\":\"long1-$A\"}"
rec2="{\"type\":\"deposit\",\"user\":\"bob\",\"asset\":\"$A\",\"amount\":\"1\",\"key\":\"long2-$A\"}"
{ printf "%$((65536 - ${#rec1}))s%s\n" "" "$rec1"; printf "%$((65537 - ${#rec2}))s%s\n" "" "$rec2"; } >"$tmp/long.jsonl"
expect_eq "first line is 65536 bytes" "$(head -1 "$tmp/long.jsonl" | tr -d '\n' | wc -c)" 65536
run 2 import "$tmp/long.jsonl" -o json
expect_eq "line at the bound applied" "$(jq -r .applied <<<"$out")" 1
expect_eq "line past the bound invalid" "$(jq -r .invalid <<<"$out")" 1
expect_contains "too long, with its line" "$err" "$tmp/long.jsonl:2: line is longer than 65536 bytes"
expect_eq "only the line at the bound moved money" "$(sql "select count(*) from transactions where idempotency_key in ('long1-$A', 'long2-$A')")" 1
expect_eq "bob got 1" "$(balance_of bob)" "$(awk -v b="$bob_before" 'BEGIN { printf "%.2f", b + 1 }')"

# A dry run locks nothing: a transfer on a wallet the file touches completes
# while a dry run of a large file is in progress, and the dry run changes
# nothing in any table or sequence.
run 0 wallet create --user erin --asset "$A"
run 0 deposit --user erin --asset "$A" --amount 1000 --key "erin-$A"
awk -v a="$A" 'BEGIN {
  print "type,user,to,asset,amount,key"
  print "wallet,fred,," a ",50,"
  for (i = 1; i <= 120000; i++) {
    if (i % 3 == 0) print "transfer,erin,fred," a ",0.01,dry-" a "-" i
    else if (i % 3 == 1) print "transfer,fred,erin," a ",0.01,dry-" a "-" i
    else print "deposit,fred,," a ",0.01,dry-" a "-" i
  }
}' >"$tmp/large.csv"
# Every table and sequence of the schema, as one checksum.
checksum() {
  local parts
  parts=$(sql "select string_agg(format('(select coalesce(md5(string_agg(t::text, chr(10) order by t::text)), %L) from %I.%I t)',
                                        '-', schemaname, tablename), ' || ' order by tablename)
               from pg_tables where schemaname = 'public'")
  sql "select md5($parts || (select string_agg(sequencename || '=' || coalesce(last_value, 0), ',' order by sequencename)
                             from pg_sequences where schemaname = 'public'))"
}
sum_before=$(checksum)
run 0 import "$tmp/large.csv" --dry-run -o json
expect_eq "large dry run would apply every line" "$(jq -r .applied <<<"$out")" 120001
expect_eq "large dry run changed no table or sequence" "$(checksum)" "$sum_before"

"$WALLETCTL" import "$tmp/large.csv" --dry-run -o json >"$tmp/dry.out" 2>"$tmp/dry.err" &
dry_pid=$!
# Wait until the dry run is inside the database with its first batches.
for _ in $(seq 300); do
  [ "$(sql "select count(*) from pg_stat_activity where query like '%wallet_import_batch%' and pid <> pg_backend_pid()")" -gt 0 ] && break
  sleep 0.05
done
sleep 0.5
kill -0 "$dry_pid" 2>/dev/null || fail "the dry run ended before the concurrent transfer could start (file too small?)"
started=$(date +%s%N)
run 0 transfer --from erin --to alice --asset "$A" --amount 1 --key "during-dry-$A"
waited_ms=$(( ($(date +%s%N) - started) / 1000000 ))
kill -0 "$dry_pid" 2>/dev/null || fail "the dry run ended before the concurrent transfer did: the test proves nothing"
[ "$waited_ms" -lt 2000 ] || fail "a transfer waited ${waited_ms} ms for a dry-run import"
pass
wait "$dry_pid" || fail "the concurrent dry run failed: $(cat "$tmp/dry.err")"
expect_eq "concurrent dry run would apply every line" "$(jq -r .applied "$tmp/dry.out")" 120001
expect_eq "the dry run recorded none of its keys" "$(sql "select count(*) from transactions where idempotency_key like 'dry-$A-%'")" 0

no_drift
check_ledger "$A"
finish
