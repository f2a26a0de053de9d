-- pgbench script: the same transfer as bench/wrk_transfers.lua, straight
-- into the core's server-side function (no HTTP): the core's own figure.
\set a random(1, 10000)
\set r random(1, 9999)
SELECT transaction_id FROM wallet_move('pgb-' || :client_id || '-' || random()::text, 'bench', 'transfer',
    'h' || :a, 'h' || ((:a - 1 + :r) % 10000 + 1), 'HB', 1, '', false, NULL, 'bench', '{}');
