#!/usr/bin/env bash
# walletctl bench smoke test: the JSON fields, both modes, option bounds, and
# a ledger that reconciles afterwards.
source "$(dirname "$0")/lib.sh"

B=$(fresh_asset)
for mode in "" --hot; do
  # shellcheck disable=SC2086
  run 0 bench --clients 2 --duration 2s --wallets 5 --asset "$B" $mode -o json
  for field in ops errors tps p50_ms p95_ms p99_ms; do
    expect_eq "bench$mode has numeric $field" "$(jq -r --arg f "$field" '.[$f] | type' <<<"$out")" number
  done
  expect_eq "bench$mode without errors" "$(jq -r .errors <<<"$out")" 0
  expect_eq "bench$mode did something" "$(jq -r '.ops > 0' <<<"$out")" true
  expect_eq "bench$mode percentiles ordered" "$(jq -r '.p50_ms <= .p95_ms and .p95_ms <= .p99_ms' <<<"$out")" true
  expect_eq "bench$mode mode" "$(jq -r .mode <<<"$out")" "$([ -n "$mode" ] && echo hot || echo uniform)"
done
expect_eq "wallets funded once across runs" \
  "$(sql "select count(*) from transactions where asset='$B' and memo='opening balance'")" 5
run 0 bench --clients 1 --duration 1s --wallets 2 --asset "$B"
expect_contains "table output" "$out" "p99_ms:"

run 2 bench --clients 0 --asset "$B"
run 2 bench --wallets 1 --asset "$B"
run 2 bench --duration 0s --asset "$B"
run 2 bench --duration soon --asset "$B"
run 2 bench --asset lower

run_one_of "0 11" reconcile -o json
expect_eq "reconcile finds no drift after bench" "$(jq -r '.drift | length' <<<"$out")" 0
check_ledger "$B"
finish
