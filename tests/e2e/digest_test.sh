#!/usr/bin/env bash
# walletctl digest and digest verify, end to end, on a database of their own
# (a digest covers the whole ledger): a clean anchor verifies; an owner's
# rewrite of history that reconcile cannot see, and an entry forged into
# the anchored past, are caught and named; movements after the anchor and
# entries that commit out of id order are not findings; the audit chain:
# an owner who rewrites or deletes an audit row is named by reconcile --full
# and by digest verify of an earlier anchor, one who recomputes the chain
# by digest verify, a row inserted past the chain trigger by reconcile;
# format 1 anchors still verify; a bad, tampered, truncated or wrongly
# signed anchor exits 2.
source "$(dirname "$0")/lib.sh"

own_database wallet_digest_e2e

openssl genpkey -algorithm ed25519 -out "$tmp/key.pem" 2>/dev/null
openssl pkey -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem"
openssl genpkey -algorithm ed25519 -out "$tmp/other.pem" 2>/dev/null
openssl pkey -in "$tmp/other.pem" -pubout -out "$tmp/other_pub.pem"

run 0 asset add GC --scale 0
for u in alice bob carol; do run 0 wallet create --user $u --asset GC; done
run 0 -o json deposit --user alice --asset GC --amount 1000 --key dig-dep-1
old_deposit=$(jq -r .transaction_id <<<"$out")
run 0 deposit --user bob --asset GC --amount 500 --key dig-dep-2
run 0 transfer --from alice --to carol --asset GC --amount 300 --key dig-tr-1
run 0 transfer --from bob --to alice --asset GC --amount 50 --key dig-tr-2
# A rolled-back movement leaves two unused entry ids below the anchor's highest.
dsql "begin; select wallet_move('dig-gap', 'f', 'deposit', '@treasury', 'carol', 'GC', 7, '', false, NULL, 'e2e', '{}'); rollback" >/dev/null
run 0 transfer --from bob --to carol --asset GC --amount 5 --key dig-tr-3

# --- a clean anchor, signed ---------------------------------------------------
run 0 digest --out "$tmp/d1.json" --sign-key "$tmp/key.pem"
[ -s "$tmp/d1.json.heads" ] || fail "digest wrote no heads file beside the anchor"
pass
expect_eq "anchor format" "$(jq -r .format "$tmp/d1.json")" "walletctl-digest/2"
expect_eq "anchor holds every audit stripe" "$(jq -r '.audit.stripes | length' "$tmp/d1.json")" 16
expect_eq "anchor holds the highest audit id" "$(jq -r .audit.max_id "$tmp/d1.json")" "$(dsql "select max(id) from audit_log")"
expect_eq "anchored audit heads are the chain heads" \
  "$(jq -r '[.audit.stripes[] | "\(.stripe) \(.seq) \(.hash)"] | join(",")' "$tmp/d1.json")" \
  "$(dsql "select string_agg(stripe || ' ' || seq || ' ' || encode(hash, 'hex'), ',' order by stripe) from audit_chains")"
expect_eq "anchor counts every wallet" "$(jq -r .wallets "$tmp/d1.json")" "$(dsql "select count(*) from wallets")"
expect_eq "anchor holds the highest entry id" "$(jq -r .max_entry_id "$tmp/d1.json")" "$(dsql "select max(id) from ledger_entries")"
expect_eq "anchored user balance of GC" "$(jq -r .assets.GC.user_balance "$tmp/d1.json")" 1500
expect_eq "one heads line per wallet" "$(wc -l <"$tmp/d1.json.heads")" "$(jq -r .wallets "$tmp/d1.json")"
alice_id=$(dsql "select id from wallets where user_id = 'alice'")
expect_eq "alice's head is her last entry" "$(grep "^$alice_id " "$tmp/d1.json.heads")" \
  "$(dsql "select wallet_id || ' ' || version || ' ' || encode(hash, 'hex') from ledger_entries where wallet_id = $alice_id order by version desc limit 1")"
run 0 digest verify "$tmp/d1.json" --pub "$tmp/pub.pem"
expect_contains "clean verify" "$out" "the ledger extends the anchor"
run 0 -o json digest verify "$tmp/d1.json"
expect_eq "json: extends" "$(jq -r .extends <<<"$out")" true
expect_eq "json: entries verified" "$(jq -r .checked.entries <<<"$out")" "$(jq -r .entries "$tmp/d1.json")"
# Without --out: one JSON document with the heads inline, which verifies too.
run 0 -o table digest
jq -e '.heads | length > 0' <<<"$out" >/dev/null || fail "digest without --out printed no inline heads"
pass
printf '%s\n' "$out" >"$tmp/inline.json"
run 0 digest verify "$tmp/inline.json"

# --- movements after the anchor, and entries committing out of id order -------
run 0 deposit --user carol --asset GC --amount 20 --key dig-after-1
# A movement that takes its entry ids, then waits before committing, while
# a later one commits and a digest is taken: the digest does not see the
# first (lower ids), which commits after it and is no finding.
psql -X -q -d "$WALLETCTL_DATABASE" -c "begin" \
  -c "select wallet_move('dig-slow', 'f', 'transfer', 'alice', 'bob', 'GC', 1, '', false, NULL, 'e2e', '{}')" \
  -c "select pg_sleep(3)" -c "commit" >/dev/null &
slow=$!
for _ in $(seq 50); do
  [ "$(dsql "select count(*) from pg_stat_activity where query like '%pg_sleep(3)%' and state = 'active' and pid <> pg_backend_pid()")" = 1 ] && break
  sleep 0.1
done
run 0 transfer --from carol --to bob --asset GC --amount 2 --key dig-fast
run 0 digest --out "$tmp/d2.json"
wait "$slow"
slow_entry=$(dsql "select max(e.id) from ledger_entries e join transactions t on t.id = e.transaction_id where t.idempotency_key = 'dig-slow'")
[ "$slow_entry" -lt "$(jq -r .max_entry_id "$tmp/d2.json")" ] || fail "the slow movement's entries should have ids below the anchor's highest"
pass
run 0 digest verify "$tmp/d2.json"
run 0 -o json digest verify "$tmp/d1.json" --pub "$tmp/pub.pem"
[ "$(jq -r .entries_after <<<"$out")" -ge 6 ] || fail "entries after the anchor not counted: $out"
pass

# --- the owner rewrites an old deposit (1000 -> 100000) -----------------------
# As the issue describes: disable the append-only trigger (the table owner
# may), change the amount, recompute both wallets' chains with the
# ledger's own hash functions, fix the wallets and the transaction.
owner_sql "
begin;
alter table ledger_entries disable trigger ledger_entries_append_only;
alter table transactions disable trigger user;
do \$\$
declare w bigint; r record; prev bytea; bal bigint; amt bigint;
begin
  update transactions set amount = 100000, posted_amount = 100000 where id = $old_deposit;
  for w in select distinct wallet_id from ledger_entries where transaction_id = $old_deposit loop
    prev := '\\x'; bal := 0;
    for r in select * from ledger_entries where wallet_id = w order by version loop
      amt := case when r.transaction_id = $old_deposit then sign(r.amount) * 100000 else r.amount end;
      update ledger_entries set amount = amt, balance_before = bal, balance_after = bal + amt where id = r.id;
      update ledger_entries e set hash = wallet_entry_expected_hash(prev, e, t) from transactions t
       where e.id = r.id and t.id = e.transaction_id returning e.hash into prev;
      bal := bal + amt;
    end loop;
    update wallets set balance = bal, last_hash = prev where id = w;
  end loop;
end \$\$;
alter table transactions enable trigger user;
alter table ledger_entries enable trigger ledger_entries_append_only;
commit"
run 0 balance --user alice --asset GC
run 0 reconcile --full
expect_contains "reconcile --full sees nothing today" "$out" "0 drift"
run 10 digest verify "$tmp/d1.json" --pub "$tmp/pub.pem"
expect_contains "verify names alice's wallet" "$out" "wallet $alice_id"
expect_contains "verify says history was rewritten" "$out" "history was rewritten"
run 10 -o json digest verify "$tmp/d1.json"
treasury_id=$(dsql "select debit_wallet_id from transactions where id = $old_deposit")
expect_eq "json: the rewritten wallets are named" \
  "$(jq -c '[.findings[] | select(.check == "digest_head") | .wallet] | sort' <<<"$out")" \
  "$(jq -cn --argjson a "$alice_id" --argjson t "$treasury_id" '[$a, $t] | sort')"
expect_eq "json: the asset's totals differ" \
  "$(jq -r '[.findings[] | select(.check == "digest_asset") | .asset] | unique | join(",")' <<<"$out")" GC
expect_eq "json: extends is false" "$(jq -r .extends <<<"$out")" false

# --- an entry forged into the anchored past -----------------------------------
# On a fresh anchor of the rewritten ledger, the owner appends a correctly
# hashed movement to carol's and a treasury shard's chains, with the two
# unused entry ids below the anchor's highest: reconcile is clean, the
# digest names both wallets.
run 0 digest --out "$tmp/d3.json"
run 0 digest verify "$tmp/d3.json"
read -r gap1 gap2 <<<"$(dsql "select string_agg(g::text, ' ') from (select g from generate_series(1, (select max(id) from ledger_entries)) g where not exists (select from ledger_entries where id = g) order by g limit 2) s")"
[ -n "$gap2" ] || fail "no unused entry ids below the anchor's highest"
pass
owner_sql "
begin;
do \$\$
declare c wallets; t wallets; v_id bigint;
begin
  select * into c from wallets where user_id = 'carol' and asset = 'GC';
  select * into t from wallets where user_id = '@treasury' and asset = 'GC' order by id limit 1;
  insert into transactions(idempotency_key, fingerprint, kind, status, asset, debit_wallet_id, credit_wallet_id,
                           amount, posted_amount, actor)
       values ('forged-past', 'f', 'deposit', 'posted', 'GC', t.id, c.id, 777, 777, 'nobody') returning id into v_id;
  insert into ledger_entries(id, wallet_id, transaction_id, amount, version, balance_before, balance_after, hash)
       overriding system value
       values ($gap1, t.id, v_id, -777, t.version + 1, t.balance, t.balance - 777,
               wallet_entry_hash(t.last_hash, t.id, t.version + 1, v_id, -777, t.balance, t.balance - 777)),
              ($gap2, c.id, v_id, 777, c.version + 1, c.balance, c.balance + 777,
               wallet_entry_hash(c.last_hash, c.id, c.version + 1, v_id, 777, c.balance, c.balance + 777));
  update wallets set balance = balance - 777, version = version + 1,
         last_hash = (select hash from ledger_entries where id = $gap1) where id = t.id;
  update wallets set balance = balance + 777, version = version + 1,
         last_hash = (select hash from ledger_entries where id = $gap2) where id = c.id;
end \$\$;
commit"
run 0 reconcile --full
expect_contains "reconcile --full sees nothing of the forged entry" "$out" "0 drift"
run 10 -o json digest verify "$tmp/d3.json"
carol_id=$(dsql "select id from wallets where user_id = 'carol'")
expect_eq "json: both forged entries are named" \
  "$(jq -c '[.findings[] | select(.check == "digest_past") | .wallet] | sort' <<<"$out")" \
  "$(jq -cn --argjson c "$carol_id" --argjson t "$(dsql "select id from wallets where user_id = '@treasury' and asset = 'GC' order by id limit 1")" '[$c, $t] | sort')"
expect_contains "json: the forged transaction is named" "$(jq -c '[.findings[].transaction]' <<<"$out")" \
  "$(dsql "select id from transactions where idempotency_key = 'forged-past'")"

# --- the audit chain: an owner rewrites or removes audit rows -----------------
# More movements, so that some stripe holds several rows, then an anchor
# of the audit chain as it is. A format 1 copy of it (no "audit", as
# anchors written before the chain) still verifies, and says so.
for i in $(seq 20); do run 0 deposit --user bob --asset GC --amount 1 --key "dig-audit-$i"; done
run 0 reconcile --full
expect_contains "reconcile --full verifies the audit chain" "$out" "audit rows"
run 0 digest --out "$tmp/d4.json"
jq 'del(.audit) | .format = "walletctl-digest/1"' "$tmp/d4.json" >"$tmp/v1.json"
cp "$tmp/d4.json.heads" "$tmp/v1.json.heads"
jq '.heads = "v1.json.heads"' "$tmp/v1.json" >"$tmp/v1b.json" && mv "$tmp/v1b.json" "$tmp/v1.json"
run 0 digest verify "$tmp/v1.json"
expect_contains "a format 1 anchor verifies without the audit log" "$out" "audit log not anchored (format 1 anchor)"
run 0 -o json digest verify "$tmp/d4.json"
expect_eq "json: audit rows verified" "$(jq -r .checked.audit_rows <<<"$out")" \
  "$(jq -r '[.audit.stripes[].seq] | add' "$tmp/d4.json")"

# An old audit row's outcome rewritten, its append-only trigger disabled:
# the row of the old deposit, anchored by d1 and d4.
audit_x=$(dsql "select id from audit_log where transaction_id = $old_deposit order by id limit 1")
read -r stripe_x seq_x outcome_x <<<"$(dsql "select stripe || ' ' || seq || ' ' || outcome from audit_log where id = $audit_x")"
owner_sql "begin;
alter table audit_log disable trigger audit_log_append_only;
update audit_log set outcome = 'failed' where id = $audit_x;
alter table audit_log enable trigger audit_log_append_only;
commit"
run 10 -o json reconcile --full
expect_contains "reconcile --full names the rewritten audit row" \
  "$(jq -r '.drift[] | select(.check == "audit") | .detail' <<<"$out")" \
  "audit stripe $stripe_x: row seq $seq_x (audit id $audit_x) has a hash that does not match"
run 10 -o json digest verify "$tmp/d4.json"
expect_contains "verify names the rewritten audit row" \
  "$(jq -r '.findings[] | select(.check == "digest_audit") | .detail' <<<"$out")" \
  "row seq $seq_x (audit id $audit_x) has a hash that does not match its contents and predecessor: it was changed"
run 10 -o json digest verify "$tmp/d1.json"
expect_contains "the oldest anchor names it too" "$(jq -r '.findings[] | .detail' <<<"$out")" "(audit id $audit_x)"
# Put back: the row's hash matches again.
owner_sql "begin;
alter table audit_log disable trigger audit_log_append_only;
update audit_log set outcome = '$outcome_x' where id = $audit_x;
alter table audit_log enable trigger audit_log_append_only;
commit"
run 0 reconcile --full
expect_contains "clean again once put back" "$out" "0 drift"
run 0 digest verify "$tmp/d4.json"

# An anchored audit row deleted (one with a later row in its stripe).
read -r audit_y stripe_y seq_y <<<"$(dsql "select a.id || ' ' || a.stripe || ' ' || a.seq from audit_log a
  where a.seq < (select max(seq) from audit_log b where b.stripe = a.stripe) order by a.id limit 1")"
[ -n "$seq_y" ] || fail "no stripe holds two rows"
pass
saved_y=$(dsql "select row_to_json(a) from audit_log a where id = $audit_y")
owner_sql "begin;
alter table audit_log disable trigger audit_log_append_only;
delete from audit_log where id = $audit_y;
alter table audit_log enable trigger audit_log_append_only;
commit"
run 10 -o json reconcile --full
expect_contains "reconcile --full names the removed audit row" \
  "$(jq -r '.drift[] | select(.check == "audit") | .detail' <<<"$out")" \
  "audit stripe $stripe_y: rows seq $seq_y to $seq_y are missing (removed)"
run 10 -o json digest verify "$tmp/d4.json"
expect_contains "verify names the removed audit row" \
  "$(jq -r '.findings[] | select(.check == "digest_audit") | .detail' <<<"$out")" \
  "audit stripe $stripe_y: rows seq $seq_y to $seq_y are missing (removed)"
run 10 digest verify "$tmp/d4.json"
expect_contains "table output names the stripe" "$out" "audit stripe $stripe_y"
# Put back, past the chain trigger, as it was.
owner_sql "begin;
alter table audit_log disable trigger audit_log_append_only, disable trigger audit_log_chain;
insert into audit_log overriding system value select * from json_populate_record(null::audit_log, '$saved_y');
alter table audit_log enable trigger audit_log_append_only, enable trigger audit_log_chain;
commit"
run 0 reconcile --full
run 0 digest verify "$tmp/d4.json"

# A consistent rewrite: the owner changes the row and recomputes its
# stripe's hashes and head with wallet_audit_hash. reconcile cannot see it
# (as with ledger entries); the anchor can.
owner_sql "begin;
alter table audit_log disable trigger audit_log_append_only;
update audit_log set outcome = 'voided' where id = $audit_x;
do \$\$
declare r record; prev bytea;
begin
  select coalesce((select hash from audit_log where stripe = $stripe_x and seq = $seq_x - 1), '\\x') into prev;
  for r in select id from audit_log where stripe = $stripe_x and seq >= $seq_x order by seq loop
    update audit_log a set hash = wallet_audit_hash(prev, a) where a.id = r.id returning a.hash into prev;
  end loop;
  update audit_chains set hash = prev where stripe = $stripe_x;
end \$\$;
alter table audit_log enable trigger audit_log_append_only;
commit"
run 0 reconcile --full
expect_contains "a consistent audit rewrite reconciles clean" "$out" "0 drift"
run 10 -o json digest verify "$tmp/d4.json"
expect_contains "verify catches the consistent audit rewrite" \
  "$(jq -r '.findings[] | select(.check == "digest_audit") | .detail' <<<"$out")" \
  "audit stripe $stripe_x: the row at the anchored seq"

# A row inserted past the chain trigger (no stripe, seq or hash) after the
# chain began: reconcile --full names it.
forged_audit=$(owner_sql "begin;
alter table audit_log disable trigger audit_log_chain;
insert into audit_log(actor, action, outcome) values ('nobody', 'deposit', 'posted') returning id;
alter table audit_log enable trigger audit_log_chain;
commit" | head -n 1)
run 10 -o json reconcile --full
expect_contains "reconcile --full names the unchained audit row" \
  "$(jq -r '.drift[] | select(.check == "audit") | .detail' <<<"$out")" \
  "audit row $forged_audit has no chain hash"

# An audit row forged into the anchored past: chained correctly by the
# trigger (reconcile cannot tell), but with an unused id below the anchor's
# highest audit id (the rolled-back movement above left one).
audit_gap=$(dsql "select min(g) from generate_series($(jq -r .audit.chained_from "$tmp/d4.json"),
  $(jq -r .audit.max_id "$tmp/d4.json")) g where not exists (select from audit_log where id = g)")
[ -n "$audit_gap" ] || fail "no unused audit id below the anchor's highest"
pass
owner_sql "insert into audit_log(id, actor, action, outcome) overriding system value
           values ($audit_gap, 'nobody', 'deposit', 'posted')"
run 10 -o json digest verify "$tmp/d4.json"
expect_contains "verify names the audit row forged into the anchored past" \
  "$(jq -r '.findings[] | select(.check == "digest_audit_past") | .detail' <<<"$out")" \
  "audit row $audit_gap has an id at or below the anchor's highest audit id"

# --- bad anchors: exit 2 --------------------------------------------------------
run 2 digest verify "$tmp/missing.json"
expect_contains "unreadable anchor" "$err" "cannot read digest anchor"
head -c 100 "$tmp/d3.json" >"$tmp/truncated.json"
run 2 digest verify "$tmp/truncated.json"
expect_contains "truncated anchor" "$err" "malformed digest anchor"
cp "$tmp/d3.json" "$tmp/short.json"
head -n 3 "$tmp/d3.json.heads" >"$tmp/short.json.heads"
jq '.heads = "short.json.heads"' "$tmp/d3.json" >"$tmp/short.json"
run 2 digest verify "$tmp/short.json"
expect_contains "truncated heads" "$err" "heads hold 3 wallets"
# A heads file changed to hide the rewrite no longer hashes to the root.
sed "s/^$alice_id .*/$alice_id $(grep "^$alice_id " "$tmp/d1.json.heads" | cut -d' ' -f2) $(dsql "select encode(hash, 'hex') from ledger_entries where wallet_id = $alice_id order by version desc limit 1 offset 3")/" \
  "$tmp/d1.json.heads" >"$tmp/edited.json.heads"
jq '.heads = "edited.json.heads"' "$tmp/d1.json" >"$tmp/edited.json"
run 2 digest verify "$tmp/edited.json"
expect_contains "edited heads" "$err" "do not hash to the anchor's merkle_root"
# A signed anchor changed after signing; another key; an unsigned anchor.
jq '.assets.GC.user_balance = "1"' "$tmp/d1.json" >"$tmp/forged.json"
cp "$tmp/d1.json.heads" "$tmp/forged.json.heads"
jq '.heads = "forged.json.heads"' "$tmp/forged.json" >"$tmp/forged2.json" && mv "$tmp/forged2.json" "$tmp/forged.json"
run 2 digest verify "$tmp/forged.json" --pub "$tmp/pub.pem"
expect_contains "bad signature" "$err" "signature does not verify"
run 2 digest verify "$tmp/d1.json" --pub "$tmp/other_pub.pem"
expect_contains "wrong key" "$err" "signed by another key"
run 2 digest verify "$tmp/d3.json" --pub "$tmp/pub.pem"
expect_contains "unsigned anchor" "$err" "not signed"
run 2 digest verify "$tmp/d1.json" --pub "$tmp/key.pem"
expect_contains "a private key is no public key" "$err" "is not a PEM Ed25519 public key"
run 2 digest --out "$tmp/x.json" --sign-key "$tmp/pub.pem"
expect_contains "a public key cannot sign" "$err" "is not a PEM Ed25519 private key"
[ ! -e "$tmp/x.json" ] || fail "a failed digest left a file"
pass
run 2 digest verify
finish
