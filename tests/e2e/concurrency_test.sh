#!/usr/bin/env bash
# Many walletctl processes at once on the same wallets; then the invariants.
source "$(dirname "$0")/lib.sh"

A=$(fresh_asset)
run 0 asset add "$A" --scale 0
run 0 wallet create --user spender --asset "$A"
run 0 deposit --user spender --asset "$A" --amount 200

# 64 concurrent withdrawals of 10 from a wallet of 200: exactly 20 succeed.
for i in $(seq 1 64); do
  ( set +e; "$WALLETCTL" -q withdraw --user spender --asset "$A" --amount 10 --key "w-$A-$i" >/dev/null 2>&1
    echo $? >"$tmp/w.$i" ) &
done
wait
ok=$(cat "$tmp"/w.* | grep -cx 0 || true)
refused=$(cat "$tmp"/w.* | grep -cx 3 || true)
expect_eq "withdrawals that succeeded" "$ok" 20
expect_eq "withdrawals refused for funds" "$refused" 44
run 0 balance --user spender --asset "$A" -o json
expect_eq "spender balance" "$(jq -r '.[0].balance' <<<"$out")" 0
echo "withdrawals: 64 concurrent, $ok succeeded, $refused refused"

# Two wallets transferring to each other in both directions from 24
# processes: no deadlock reaches the user, the total is conserved.
run 0 wallet create --user west --asset "$A"
run 0 wallet create --user east --asset "$A"
run 0 deposit --user west --asset "$A" --amount 100
run 0 deposit --user east --asset "$A" --amount 100
for p in $(seq 1 24); do
  (
    set +e
    for i in $(seq 1 8); do
      if [ $(((p + i) % 2)) -eq 0 ]; then from=west to=east; else from=east to=west; fi
      "$WALLETCTL" -q transfer --from $from --to $to --asset "$A" --amount $(((p * 7 + i * 13) % 90 + 1)) \
        --key "t-$A-$p-$i" >/dev/null 2>"$tmp/t.$p.$i.err"
      echo $? >>"$tmp/rc.$p"
    done
  ) &
done
wait
codes=$(cat "$tmp"/rc.* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
bad=$(cat "$tmp"/rc.* | grep -cvx '[03]' || true)
[ "$bad" -eq 0 ] || { cat "$tmp"/t.*.err >&2; fail "transfers ended with codes other than 0 or 3: $codes"; }
pass
run 0 balance --user west --asset "$A" -o json
west=$(jq -r '.[0].balance' <<<"$out")
run 0 balance --user east --asset "$A" -o json
east=$(jq -r '.[0].balance' <<<"$out")
expect_eq "total conserved" $((west + east)) 200
expect_eq "no deadlock errors" "$(cat "$tmp"/t.*.err | grep -ci deadlock || true)" 0
echo "transfers: 24 processes x 8 in both directions, exit codes (count code): $codes"

check_ledger "$A"
finish
