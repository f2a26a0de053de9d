#!/usr/bin/env bash
# Entry hash version 2 (0009_entry_hash_v2): every entry point writes
# entries whose hash covers the entry's time and its transaction's fixed
# fields, so an owner who changes what a movement was (memo, actor, time,
# amount, kind) breaks both wallets' chains, which reconcile --full and
# digest verify report; entries of hash version 1 (released before 0009)
# verify as before. On a database of its own: it tampers with the ledger.
source "$(dirname "$0")/lib.sh"

own_database wallet_entry_hash_e2e

run 0 asset add GC --scale 0
for u in alice bob; do run 0 wallet create --user $u --asset GC; done
run 0 -o json deposit --user alice --asset GC --amount 1000 --key eh-dep --memo "first"
deposit=$(jq -r .transaction_id <<<"$out")
run 0 transfer --from alice --to bob --asset GC --amount 100 --key eh-tr
run 0 -o json transfer --from alice --to bob --asset GC --amount 10 --key eh-hold --pending
run 0 post "$(jq -r .transaction_id <<<"$out")" --amount 7
run 0 -o json withdraw --user bob --asset GC --amount 5 --key eh-wd
run 0 reverse "$(jq -r .transaction_id <<<"$out")" --key eh-rev
printf 'type,user,to,asset,amount,kind,key,memo\ntransfer,alice,bob,GC,3,,eh-imp-1,\ndeposit,bob,,GC,4,,eh-imp-2,imported\nwallet,dave,,GC,9,,,\n' >"$tmp/m.csv"
run 0 import "$tmp/m.csv"
expect_eq "every entry point writes hash version 2" \
  "$(dsql "select string_agg(distinct hash_version::text, ',') from ledger_entries")" 2
expect_eq "entries carry their transaction's time or later" \
  "$(dsql "select count(*) from ledger_entries e join transactions t on t.id = e.transaction_id where e.created_at < t.created_at")" 0
run 0 reconcile --full
run 0 digest --out "$tmp/anchor.json"

# tamper SQL: as the owner, with the transactions' rules trigger disabled.
tamper() {
  owner_sql "begin; alter table transactions disable trigger user; $1;
             alter table transactions enable trigger user; commit"
}
alice_id=$(dsql "select id from wallets where user_id = 'alice'")
for change in "memo = 'changed'" "actor = 'someone-else'" "created_at = created_at - interval '1 day'" \
              "amount = 2000" "kind = 'bonus'"; do
  saved=$(dsql "select ${change%% =*}::text from transactions where id = $deposit")
  tamper "update transactions set $change where id = $deposit"
  run 10 -o json reconcile --full
  expect_eq "reconcile --full names the deposit's wallets after $change" \
    "$(jq -c '[.drift[] | select(.check == "hash") | .wallet] | unique | length' <<<"$out")" 2
  expect_contains "alice's chain is broken after $change" "$(jq -c '[.drift[].wallet]' <<<"$out")" "$alice_id"
  run 10 digest verify "$tmp/anchor.json"
  expect_contains "digest verify names alice after $change" "$out" "wallet $alice_id"
  tamper "update transactions set ${change%% =*} = '$saved' where id = $deposit"
  run 0 reconcile --full
done
# An entry's own time is covered too.
owner_sql "begin; alter table ledger_entries disable trigger ledger_entries_append_only;
           update ledger_entries set created_at = created_at + interval '1 second' where transaction_id = $deposit and amount > 0;
           alter table ledger_entries enable trigger ledger_entries_append_only; commit"
run 10 -o json reconcile --full
expect_eq "a changed entry time breaks alice's chain" "$(jq -c '[.drift[] | select(.check == "hash") | .wallet] | unique' <<<"$out")" "[$alice_id]"
owner_sql "begin; alter table ledger_entries disable trigger ledger_entries_append_only;
           update ledger_entries set created_at = created_at - interval '1 second' where transaction_id = $deposit and amount > 0;
           alter table ledger_entries enable trigger ledger_entries_append_only; commit"
run 0 reconcile --full

# Entries released before 0009 (hash version 1) verify as before: rewrite a
# wallet's chain the way 0001..0008 wrote it, and reconcile is clean.
run 0 wallet create --user carol --asset GC
run 0 deposit --user carol --asset GC --amount 50 --key eh-v1-a
run 0 deposit --user carol --asset GC --amount 60 --key eh-v1-b
carol_id=$(dsql "select id from wallets where user_id = 'carol'")
owner_sql "begin; alter table ledger_entries disable trigger ledger_entries_append_only;
do \$\$ declare r record; prev bytea := '\\x'; begin
  for r in select * from ledger_entries where wallet_id = $carol_id order by version loop
    update ledger_entries set hash_version = 1,
           hash = wallet_entry_hash(prev, r.wallet_id, r.version, r.transaction_id, r.amount, r.balance_before, r.balance_after)
     where id = r.id returning hash into prev;
  end loop;
  update wallets set last_hash = prev where id = $carol_id;
end \$\$;
alter table ledger_entries enable trigger ledger_entries_append_only; commit"
expect_eq "carol's entries are of version 1" "$(dsql "select string_agg(distinct hash_version::text, ',') from ledger_entries where wallet_id = $carol_id")" 1
run 0 reconcile --full
run 0 deposit --user carol --asset GC --amount 70 --key eh-v1-c
expect_eq "a version-2 entry continues a version-1 chain" \
  "$(dsql "select string_agg(hash_version::text, ',' order by version) from ledger_entries where wallet_id = $carol_id")" "1,1,2"
run 0 reconcile --full
run 0 digest --out "$tmp/mixed.json"
run 0 digest verify "$tmp/mixed.json"
finish
