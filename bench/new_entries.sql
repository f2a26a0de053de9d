-- :transfers transfers through wallet_move() between random BENCH wallets:
-- 2 * :transfers new ledger entries, written as the application would.
\set ON_ERROR_STOP on
DO $$
DECLARE
    n integer := current_setting('bench.transfers')::integer;
    wallets integer := (SELECT count(*) FROM wallets WHERE asset = 'BENCH' AND NOT is_system);
    run text := md5(random()::text);
    a integer;
    b integer;
BEGIN
    FOR i IN 1..n LOOP
        a := 1 + floor(random() * wallets)::integer;
        b := 1 + (a + floor(random() * (wallets - 1))::integer) % wallets;
        PERFORM wallet_move('bench-new-' || run || '-' || i, 'bench', 'transfer',
                            'b' || lpad(a::text, 7, '0'), 'b' || lpad(b::text, 7, '0'), 'BENCH',
                            1 + (i % 50), '', false, NULL, 'bench', '{}'::jsonb);
    END LOOP;
END $$;
