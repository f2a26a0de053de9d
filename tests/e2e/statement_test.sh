#!/usr/bin/env bash
# walletctl reconcile statement as an operator runs it: the fixtures of two
# providers (tests/fixtures/statements) with a profile file, exit codes 0, 12,
# 2 and 4, -o json|csv, re-runs, --list and --run.
source "$(dirname "$0")/lib.sh"
fixtures="$(cd "$(dirname "$0")/../fixtures/statements" && pwd)"

A=$(fresh_asset)
p="$(fresh_asset | tr A-Z a-z)-"
today=$(date -u +%F)
today_dotted=$(date -u +%d.%m.%Y)
config="$tmp/walletctl.toml"
cp "$fixtures/profiles.toml" "$config"

run 0 asset add "$A" --scale 2
run 0 wallet create --user alice --asset "$A"
run 0 deposit --user alice --asset "$A" --amount 20000 --key "${p}fund"
for payout in PF-9001:1250.00 PF-9002:80.25 PF-9003:12000.00 PF-9004:5.00 ZW-501:1250.00 ZW-502:80.25; do
  run 0 withdraw --user alice --asset "$A" --amount "${payout#*:}" --key "${p}${payout%%:*}"
done

# The statements of the day, as the providers sent them, for this run's asset and keys.
sed -e "s/2026-11-02/$today/g" -e "s/,SGD,/,$A,/g" -e "s/PF-/${p}PF-/g" "$fixtures/payflow.csv" >"$tmp/payflow.csv"
sed -e "s/0[23]\.11\.2026/$today_dotted/g" -e "s/;SGD;/;$A;/g" -e "s/ZW-/${p}ZW-/g" "$fixtures/zahlwerk.csv" >"$tmp/zahlwerk.csv"

# PayFlow: every payout found by its reference.
run 0 -c "$config" -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/payflow.csv" --profile payflow --account @settlement --asset "$A" -o json
expect_eq "payflow: four groups matched by reference" "$(jq -c '[.matched[] | .rule] | unique' <<<"$out")" '["reference"]'
expect_eq "payflow: lines 2 to 5" "$(jq -c '[.matched[].lines[]] | sort' <<<"$out")" '[2,3,4,5]'
expect_eq "payflow: nothing unmatched" "$(jq -c '[.unmatched_lines, .unmatched_transactions, .mismatched]' <<<"$out")" '[[],[],[]]'
run_id=$(jq -r .run_id <<<"$out")

# The same file again: recognised, its lines not added again, still clean.
run 0 -c "$config" -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/payflow.csv" --profile payflow --account @settlement --asset "$A" -o json
expect_eq "payflow again: imported before" "$(jq -r .file.imported_before <<<"$out")" true
expect_eq "payflow again: one copy of its lines" \
  "$(sql "select count(*) from statement_lines l join statement_files f on f.id = l.file_id where f.asset = '$A'")" 4

# Zahlwerk: two payouts matched; carol's and the credit line never happened in the ledger: exit 12, lines named.
run 12 -c "$config" -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/zahlwerk.csv" --profile zahlwerk --account @settlement --asset "$A" -o json
expect_eq "zahlwerk: unmatched lines named" "$(jq -c '[.unmatched_lines[] | .line]' <<<"$out")" '[4,5]'
expect_eq "zahlwerk: amounts as the statement has them" "$(jq -c '[.unmatched_lines[] | .amount]' <<<"$out")" '["-12000.00","40.00"]'
run 12 -c "$config" -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/zahlwerk.csv" --profile zahlwerk --account @settlement --asset "$A" -o csv
expect_contains "csv header" "$(head -1 <<<"$out")" "finding,transactions,lines,rule,reference,amount,date,detail"
expect_contains "csv unmatched line" "$out" "unmatched_line,,4,,${p}ZW-503,-12000.00,$today,"

# --list and --run.
run 0 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --list --account @settlement --asset "$A" -o json
expect_eq "list: four runs" "$(jq length <<<"$out")" 4
run 0 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --run "$run_id" -o json
expect_eq "run shown again" "$(jq -c '[.run_id, (.matched | length)]' <<<"$out")" "[$run_id,4]"
run 4 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --run 999999999
# Statement matches are the verifier's to record (a transaction matched once
# is not offered again): the application role is refused and records nothing.
runs_before_app="$(sql "select count(*) from statement_runs")"
run 1 reconcile statement --file "$fixtures/topups.jsonl" --account @treasury --asset "$A"
expect_contains "the application role is refused" "$err" "permission denied"
expect_eq "nothing recorded by the application role" "$(sql "select count(*) from statement_runs")" "$runs_before_app"

# Bad files and options: exit 2, the line named, nothing recorded.
runs_before=$(sql "select count(*) from statement_runs")
run 2 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$fixtures/bad-encoding.csv" --account @settlement --asset "$A"
expect_contains "wrong encoding names the line" "$err" "bad-encoding.csv:2: not valid UTF-8"
run 2 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$fixtures/bad-missing-column.csv" --account @settlement --asset "$A"
expect_contains "missing column" "$err" "bad-missing-column.csv:1: header: missing column \"amount\""
run 2 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$fixtures/bad-decimals.csv" --account @settlement --asset "$A" -o json
expect_eq "too many decimals, as a JSON error" "$(jq -r .error.code <<<"$out")" invalid_input
expect_contains "too many decimals names the line" "$err" "bad-decimals.csv:3: invalid amount \"-10.005\""
run 2 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$fixtures/bad-truncated.camt053.xml" --account @settlement --asset "$A"
expect_contains "truncated XML names the line" "$err" "bad-truncated.camt053.xml:63: malformed XML"
run 2 -c "$config" -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/payflow.csv" --profile nosuch --account @settlement --asset "$A"
expect_contains "unknown profile" "$err" "unknown statement profile \"nosuch\""
run 2 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/payflow.csv" --account @settlement --asset "$A" --date-window 40d
run 2 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/payflow.csv" --account @settlement --asset "$A" --amount-tolerance -1
run 2 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --account @settlement --asset "$A"
expect_eq "nothing recorded by refused runs" "$(sql "select count(*) from statement_runs")" "$runs_before"
run 4 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$fixtures/topups.jsonl" --account @nobody --asset "$A"

# A dry run reports and records nothing.
run 12 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$fixtures/topups.jsonl" --account @treasury --asset "$A" --dry-run -o json
expect_eq "dry run: no run id" "$(jq -r .run_id <<<"$out")" null
expect_eq "dry run recorded nothing" "$(sql "select count(*) from statement_runs")" "$runs_before"

# The ledger as it was: balance --at, statement, reconcile --assert.
run 0 balance --user alice --asset "$A" --at 2000-01-01 -o json
expect_eq "no wallet in 2000" "$out" "[]"
run 0 balance --user alice --asset "$A" --at 2100-01-01 -o json
expect_eq "balance far ahead is today's" "$(jq -r '.[0].balance' <<<"$out")" "$("$WALLETCTL" balance --user alice --asset "$A" -o json | jq -r '.[0].balance')"
run 0 statement --user alice --asset "$A" --since 2000-01-01 --until 2100-01-01 -o json
expect_eq "statement: opening + in - out = closing" \
  "$(jq -r '[.opening_balance, .total_in, .total_out, .closing_balance] | map(tonumber) | (.[0] + .[1] - .[2] == .[3])' <<<"$out")" true
expect_eq "statement: seven entries" "$(jq '.entries | length' <<<"$out")" 7
closing=$(jq -r .closing_balance <<<"$out")
printf '# from the bank\nalice %s %s 2100-01-01\nalice,%s,1.00,2100-01-01\n' "$A" "$closing" "$A" >"$tmp/assert"
run 10 reconcile --assert "$tmp/assert"
expect_contains "failing assertion named" "$out" "assertion $tmp/assert:3 fails"
printf 'alice %s %s 2100-01-01\n' "$A" "$closing" >"$tmp/assert"
run 0 reconcile --assert "$tmp/assert"
run 4 statement --user nobody --asset "$A" --since 2000-01-01 --until 2100-01-01

# References (issue 13 part C): given with the movement, shown, found by
# history --reference, and matched by reconcile statement.
B=$(fresh_asset)
run 0 asset add "$B" --scale 2
run 0 wallet create --user alice --asset "$B"
run 0 deposit --user alice --asset "$B" --amount 100 --key "${p}ref-fund" --reference "BANK-${p}1" -o json
expect_eq "deposit shows its reference" "$(jq -r .reference <<<"$out")" "BANK-${p}1"
fund=$(jq -r .transaction_id <<<"$out")
run 0 withdraw --user alice --asset "$B" --amount 40 --key "${p}ref-out" --reference "PO-${p}7" -o json
run 5 withdraw --user alice --asset "$B" --amount 40 --key "${p}ref-out" --reference "PO-${p}8"
expect_contains "another reference is another request" "$err" "different request"
run 0 show "$fund" -o json
expect_eq "show: reference" "$(jq -r .reference <<<"$out")" "BANK-${p}1"
run 0 history --user alice --asset "$B" --reference "PO-${p}7" -o json
expect_eq "history --reference: the withdrawal only" "$(jq -c '[.entries[] | .reference]' <<<"$out")" "[\"PO-${p}7\"]"
run 2 history --user alice --reference "$(printf 'a\tb')"
# From an import file too; a reference needs a movement.
printf 'type,user,asset,amount,key,reference\ndeposit,alice,%s,5,%simp-1,IMP-%s1\n' "$B" "$p" "$p" >"$tmp/imp.csv"
run 0 import "$tmp/imp.csv"
run 0 history --user alice --asset "$B" --reference "IMP-${p}1" -o json
expect_eq "import: the line's reference stored" "$(jq -r '.entries[0].amount' <<<"$out")" "5.00"
printf 'type,user,asset,reference\nwallet,zoe,%s,IMP-%s2\n' "$B" "$p" >"$tmp/imp-bad.csv"
run 2 import "$tmp/imp-bad.csv"
expect_contains "import: a reference needs an amount" "$err" "a reference needs an amount"
printf 'date,amount,reference\n%s,-40.00,PO-%s7\n' "$today" "$p" >"$tmp/by-reference.csv"
run 0 -d "$WALLET_TEST_VERIFIER_DATABASE" reconcile statement --file "$tmp/by-reference.csv" --account @settlement --asset "$B" -o json
expect_eq "matched by the movement's reference" "$(jq -c '[.matched[] | .rule]' <<<"$out")" '["reference"]'
finish
