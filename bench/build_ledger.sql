-- Builds a valid ledger for asset BENCH, set-based: :wallets user wallets,
-- one deposit each from a @treasury shard, then :rounds rounds in which
-- every wallet n sends 1..100 to wallet n+round (mod :wallets). Entries:
-- 2 * :wallets * (1 + :rounds). Every rule reconcile checks holds: running
-- balances, versions, hash chains, two balanced entries per transaction.
-- Run as the superuser after `walletctl asset add BENCH --scale 0`.
\set ON_ERROR_STOP on
SET session_replication_role = replica;  -- no FK triggers while bulk loading
SET work_mem = '256MB';

INSERT INTO wallets(user_id, asset)
SELECT 'b' || lpad(i::text, 7, '0'), 'BENCH' FROM generate_series(1, :wallets) i;
CREATE TEMP TABLE uw AS
SELECT row_number() OVER (ORDER BY id) AS n, id FROM wallets WHERE asset = 'BENCH' AND NOT is_system;
CREATE UNIQUE INDEX ON uw (n);
CREATE TEMP TABLE sw AS SELECT shard, id FROM wallets WHERE asset = 'BENCH' AND user_id = '@treasury';
SELECT coalesce(max(id), 0) AS base FROM transactions \gset

-- Transactions: deposit n has id base+n; round r's transfer from n has id base + wallets*r + n.
CREATE TEMP TABLE tx AS
SELECT :base + u.n AS id, 'deposit' AS kind, s.id AS debit, u.id AS credit, 1000000::bigint AS amount
FROM uw u JOIN sw s ON s.shard = u.n % 8
UNION ALL
SELECT :base + :wallets * r + u.n, 'transfer', u.id, v.id, 1 + (u.n * r) % 100
FROM generate_series(1, :rounds) r CROSS JOIN uw u JOIN uw v ON v.n = (u.n - 1 + r) % :wallets + 1;

INSERT INTO transactions (id, idempotency_key, fingerprint, kind, status, asset, debit_wallet_id,
                          credit_wallet_id, amount, posted_amount, actor)
OVERRIDING SYSTEM VALUE
SELECT id, 'bench-' || id, 'bench', kind, 'posted', 'BENCH', debit, credit, amount, amount, 'bench' FROM tx;
SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) FROM transactions));

-- Entry skeleton: user wallets get version 1 (deposit), 2r (send), 2r+1
-- (receive); treasury shards number their deposits in order.
CREATE TEMP TABLE skel AS
SELECT u.id AS wallet_id, 1::bigint AS version, :base + u.n AS transaction_id, 1000000::bigint AS amount FROM uw u
UNION ALL
SELECT t.debit, 2 * ((t.id - :base - 1) / :wallets), t.id, -t.amount FROM tx t WHERE t.kind = 'transfer'
UNION ALL
SELECT t.credit, 2 * ((t.id - :base - 1) / :wallets) + 1, t.id, t.amount FROM tx t WHERE t.kind = 'transfer'
UNION ALL
SELECT t.debit, row_number() OVER (PARTITION BY t.debit ORDER BY t.id), t.id, -t.amount FROM tx t WHERE t.kind = 'deposit';

CREATE TEMP TABLE entries AS
SELECT wallet_id, version, transaction_id, amount,
       (sum(amount) OVER w - amount)::bigint AS balance_before, (sum(amount) OVER w)::bigint AS balance_after
FROM skel WINDOW w AS (PARTITION BY wallet_id ORDER BY version);
CREATE UNIQUE INDEX ON entries (wallet_id, version);
ANALYZE entries;

-- Hash chains, one version level at a time for all wallets at once.
SET enable_hashjoin = off;
SET enable_mergejoin = off;
CREATE TEMP TABLE hashed AS
WITH RECURSIVE h AS (
    SELECT e.wallet_id, e.version, wallet_entry_hash('\x'::bytea, e.wallet_id, e.version, e.transaction_id,
                                                     e.amount, e.balance_before, e.balance_after) AS hash
    FROM entries e WHERE e.version = 1
    UNION ALL
    SELECT e.wallet_id, e.version, wallet_entry_hash(h.hash, e.wallet_id, e.version, e.transaction_id,
                                                     e.amount, e.balance_before, e.balance_after)
    FROM h JOIN entries e ON e.wallet_id = h.wallet_id AND e.version = h.version + 1)
SELECT * FROM h;
RESET enable_hashjoin;
RESET enable_mergejoin;

INSERT INTO ledger_entries (wallet_id, transaction_id, amount, version, balance_before, balance_after, hash)
SELECT e.wallet_id, e.transaction_id, e.amount, e.version, e.balance_before, e.balance_after, h.hash
FROM entries e JOIN hashed h USING (wallet_id, version) ORDER BY e.wallet_id, e.version;

UPDATE wallets w SET balance = l.balance_after, version = l.version, last_hash = l.hash
FROM (SELECT DISTINCT ON (e.wallet_id) e.wallet_id, e.version, e.balance_after, h.hash
      FROM entries e JOIN hashed h USING (wallet_id, version)
      ORDER BY e.wallet_id, e.version DESC) l
WHERE w.id = l.wallet_id;
RESET session_replication_role;
