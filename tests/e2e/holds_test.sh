#!/usr/bin/env bash
# Two-phase holds, reversals, settlement, reconcile and retry, end to end.
source "$(dirname "$0")/lib.sh"

A=$(fresh_asset)
run 0 asset add "$A" --scale 2
run 0 wallet create --user alice --asset "$A"
run 0 wallet create --user bob --asset "$A"
run 0 deposit --user alice --asset "$A" --amount 100

# Hold, partial post, replays and conflicts.
run 0 transfer --from alice --to bob --asset "$A" --amount 30 --pending --timeout 1h -o json
expect_eq "hold status" "$(jq -r .status <<<"$out")" pending
hold=$(jq -r .transaction_id <<<"$out")
run 0 balance --user alice --asset "$A" -o json
expect_eq "reserved" "$(jq -r '.[0].reserved' <<<"$out")" "30.00"
expect_eq "available" "$(jq -r '.[0].available' <<<"$out")" "70.00"
expect_eq "balance unchanged" "$(jq -r '.[0].balance' <<<"$out")" "100.00"
run 0 history --user alice --asset "$A" --status pending -o json
expect_eq "pending in history" "$(jq -r '.entries[0].transaction_id' <<<"$out")" "$hold"
run 2 post "$hold" --amount 30.01
run 2 post "$hold" --amount 0
run 0 post "$hold" --amount 12.50 -o json
expect_eq "posted" "$(jq -r .status <<<"$out")" posted
expect_eq "posted amount" "$(jq -r .posted_amount <<<"$out")" "12.50"
run 0 post "$hold" --amount 12.50 -o json
expect_eq "post replayed" "$(jq -r .replayed <<<"$out")" true
run 5 post "$hold" --amount 10
run 5 void "$hold"
expect_contains "void after post" "$err" "reverse it instead"
run 0 balance --user alice --asset "$A" -o json
expect_eq "partial post released the rest" "$(jq -r '.[0].available' <<<"$out")" "87.50"

# Void, then the opposite action.
run 0 withdraw --user alice --asset "$A" --amount 10 --pending -o json
h2=$(jq -r .transaction_id <<<"$out")
run 0 void "$h2" --reason "customer cancelled" -o json
expect_eq "voided" "$(jq -r .status <<<"$out")" voided
run 0 void "$h2" -o json
expect_eq "void replayed" "$(jq -r .replayed <<<"$out")" true
run 5 post "$h2"
run 0 show "$h2" -o json
expect_eq "reason kept" "$(jq -r .last_error <<<"$out")" "customer cancelled"
run 2 --output json post abc
run 4 void 999999999
run 2 transfer --from alice --to bob --asset "$A" --amount 1 --timeout 1h
expect_contains "timeout needs pending" "$err" "--timeout needs --pending"
run 2 transfer --from alice --to bob --asset "$A" --amount 1 --pending --timeout soon

# An expired hold: post refused, retry voids it.
run 0 transfer --from alice --to bob --asset "$A" --amount 5 --pending --timeout 1s -o json
h3=$(jq -r .transaction_id <<<"$out")
sleep 1.2
run 5 post "$h3"
expect_contains "expired" "$err" "expired"
run 11 reconcile --stuck-after 1h -o json
expect_eq "stuck listed" "$(jq --argjson id "$h3" '[.stuck[] | select(.transaction == $id)] | length' <<<"$out")" 1
run 11 retry --dry-run -o json
expect_eq "dry run lists it" "$(jq --argjson id "$h3" '[.actions[] | select(.transaction == $id)] | .[0].action' -r <<<"$out")" would-void
run 0 show "$h3" -o json
expect_eq "dry run changed nothing" "$(jq -r .status <<<"$out")" pending
run 0 retry -o json
expect_eq "retry voided it" "$(jq --argjson id "$h3" -r '[.actions[] | select(.transaction == $id)] | .[0].status' <<<"$out")" voided
run 5 post "$h3"

# Reverse: once.
run 0 transfer --from alice --to bob --asset "$A" --amount 7 --key "rv-$A" -o json
t=$(jq -r .transaction_id <<<"$out")
run 0 reverse "$t" --key "rv-back-$A" -o json
expect_eq "reversal kind" "$(jq -r .kind <<<"$out")" reversal
expect_eq "reversal direction" "$(jq -r '.from + ">" + .to' <<<"$out")" "bob>alice"
run 0 reverse "$t" --key "rv-back-$A" -o json
expect_eq "reversal replayed" "$(jq -r .replayed <<<"$out")" true
run 5 reverse "$t"
expect_contains "reversed once" "$err" "already reversed"
run 5 reverse "$h2"

run_one_of "0 11" reconcile --full -o json
expect_eq "clean after holds" "$(jq -r '.drift | length' <<<"$out")" 0

# Settlement through a command.
cmd="$tmp/payout.sh"
cat >"$cmd" <<'SH'
#!/bin/sh
id=$(sed -n 's/.*"transaction_id":\([0-9]*\).*/\1/p')
mode=$(cat "$(dirname "$0")/mode")
echo "$mode $id" >> "$(dirname "$0")/calls"
case "$mode" in
  ok) echo "paid $id"; exit 0 ;;
  later) echo "bank busy"; exit 75 ;;
  no) echo "account closed"; exit 1 ;;
  hang) exec sleep 30 ;;
esac
SH
chmod +x "$cmd"
printf '[settlement]\ncommand = "%s"\ntimeout = "1s"\n' "$cmd" >"$tmp/settle.toml"
S=(-c "$tmp/settle.toml")
echo ok >"$tmp/mode"
run 0 "${S[@]}" withdraw --user alice --asset "$A" --amount 3 -o json
expect_eq "settled withdrawal" "$(jq -r .status <<<"$out")" posted
# The command sees only the allowlist and [settlement.env], never the
# ledger's own secrets, whatever walletctl's environment holds.
printf '[settlement]\ncommand = "env > %s/env.out"\ntimeout = "5s"\n[settlement.env]\nPAYOUT_URL = "https://payout.example/v1"\n' \
  "$tmp" >"$tmp/env.toml"
PGPASSWORD=hunter2 AWS_SECRET_ACCESS_KEY=s3cr3t LANG=C.UTF-8 TZ=UTC \
  run 0 -c "$tmp/env.toml" withdraw --user alice --asset "$A" --amount 1 -o json
expect_eq "settled by the env command" "$(jq -r .status <<<"$out")" posted
names=$(cut -d= -f1 "$tmp/env.out" | grep -vxE 'PWD|SHLVL|_' | sort | tr '\n' ' ')
expect_eq "the command's variables" "$names" "HOME LANG ${LC_ALL+LC_ALL }PATH PAYOUT_URL TZ "
expect_eq "no secret reached the command" "$(grep -cE 'hunter2|s3cr3t|WALLETCTL|^PG' "$tmp/env.out" || true)" 0
expect_contains "configured variable" "$(cat "$tmp/env.out")" "PAYOUT_URL=https://payout.example/v1"
[ -n "${WALLETCTL_DATABASE:-}" ] || fail "the test needs WALLETCTL_DATABASE set, to show it is not passed on"
echo no >"$tmp/mode"
run 5 "${S[@]}" withdraw --user alice --asset "$A" --amount 3 -o json
expect_eq "rejected withdrawal" "$(jq -r .error.status <<<"$out")" voided
expect_contains "rejection reason" "$err" "account closed"
run 0 "${S[@]}" withdraw --user alice --asset "$A" --amount 3 --kind purchase -o json
expect_eq "purchase needs no settlement" "$(jq -r .status <<<"$out")" posted
echo hang >"$tmp/mode"
start=$(date +%s)
run 0 "${S[@]}" withdraw --user alice --asset "$A" --amount 3 -o json
expect_eq "hung settlement stays pending" "$(jq -r .status <<<"$out")" pending
hung=$(jq -r .transaction_id <<<"$out")
[ $(( $(date +%s) - start )) -lt 10 ] || fail "the hanging command was not killed at its timeout"
pass
run 0 show "$hung" -o json
expect_contains "timeout recorded" "$(jq -r .last_error <<<"$out")" "timed out"
run 0 void "$hung" --reason "e2e cleanup"

# 200 stuck withdrawals, 4 retry processes at once: after the command starts
# succeeding it is called exactly once per transaction, and all end posted.
run 0 wallet create --user payer --asset "$A"
run 0 deposit --user payer --asset "$A" --amount 10000
sql "SELECT count(*) FROM generate_series(1, 200) i,
     LATERAL wallet_move('stuck-$A-' || i, 'stuck-' || i, 'withdraw', 'payer', '@settlement', '$A', 100,
                         '', true, NULL, 'e2e', '{}', true, interval '1 millisecond')" >/dev/null
sql "select id from transactions where idempotency_key like 'stuck-$A-%'" | sort >"$tmp/ours"
ours_only() { sort | join - "$tmp/ours"; }  # keeps lines whose first field is one of our ids
echo later >"$tmp/mode"
: >"$tmp/calls"
run 11 "${S[@]}" retry --limit 100000 -o json
expect_eq "first pass deferred all 200" \
  "$(sql "select count(*) from transactions where idempotency_key like 'stuck-$A-%' and status = 'pending' and attempts = 1")" 200
echo ok >"$tmp/mode"
: >"$tmp/calls"
sleep 1.1  # the first backoff is at most 1 s
for i in 1 2 3 4; do
  ( set +e; "$WALLETCTL" "${S[@]}" -q retry --limit 100000 -o json >"$tmp/retry.$i" 2>&1; echo $? >"$tmp/retry.$i.rc" ) &
done
wait
for i in 1 2 3 4; do
  rc=$(cat "$tmp/retry.$i.rc")
  [ "$rc" -eq 0 ] || fail "retry process $i exited $rc: $(cat "$tmp/retry.$i")"
  pass
done
posted=$(cat "$tmp"/retry.[1-4] | jq -s -r '.[].actions[] | select(.status == "posted") | .transaction' | ours_only | wc -l)
expect_eq "posted across the 4 processes" "$posted" 200
calls=$(awk '$1 == "ok" {print $2}' "$tmp/calls" | ours_only)
expect_eq "settlement calls after success started" "$(wc -l <<<"$calls")" 200
expect_eq "no transaction settled twice" "$(uniq -d <<<"$calls" | wc -l)" 0
expect_eq "all 200 posted" "$(sql "select count(*) from transactions where idempotency_key like 'stuck-$A-%' and status = 'posted'")" 200
echo "retry: 4 processes over 200 stuck withdrawals, posted per process: $(for i in 1 2 3 4; do jq -r '.actions[] | select(.status == "posted") | .transaction' "$tmp/retry.$i" | ours_only | wc -l; done | tr '\n' ' ')"

run_one_of "0 11" reconcile --full -o json
expect_eq "clean at the end" "$(jq -r '.drift | length' <<<"$out")" 0
check_ledger "$A"
finish
