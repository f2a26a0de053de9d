-- Demo data: assets with their system accounts, two users with some history.
-- Safe to load twice: assets and wallets are only added when missing, and
-- every movement has a fixed idempotency key, so a second load replays them.
-- Load after `walletctl migrate`:  psql -f sql/seed.sql
\set ON_ERROR_STOP on

SELECT wallet_asset_add(code, scale, name, 'seed')
FROM (VALUES ('GC', 0, 'Gold Coins'), ('DI', 0, 'Diamonds'), ('LP', 0, 'Loyalty Points'),
             ('SGD', 2, 'Singapore dollar'), ('JPY', 0, 'Japanese yen')) AS a(code, scale, name)
WHERE NOT EXISTS (SELECT 1 FROM assets WHERE assets.code = a.code);

SELECT wallet_create(u, asset, 'seed')
FROM (VALUES ('alice', 'GC'), ('alice', 'SGD'), ('alice', 'LP'),
             ('bob', 'GC'), ('bob', 'SGD'), ('bob', 'JPY')) AS w(u, asset)
WHERE NOT EXISTS (SELECT 1 FROM wallets WHERE user_id = u AND wallets.asset = w.asset);

-- Movements, in order. The fingerprint text matches what walletctl builds
-- (core/ledger/ledger.cpp fingerprint_of), so replaying a key from the CLI with
-- the same request is recognised as the same request.
SELECT m.transaction_id, m.status, m.kind, m.asset, m.amount, m.from_user, m.to_user
FROM (VALUES
    (1, 'seed-alice-gc-1',  'deposit',  '@treasury', 'alice', 'GC',  1000::bigint, 'welcome pack'),
    (2, 'seed-bob-gc-1',    'deposit',  '@treasury', 'bob',   'GC',   500::bigint, 'welcome pack'),
    (3, 'seed-alice-sgd-1', 'topup',    '@treasury', 'alice', 'SGD', 5000::bigint, 'card top-up'),
    (4, 'seed-bob-sgd-1',   'topup',    '@treasury', 'bob',   'SGD', 2550::bigint, 'card top-up'),
    (5, 'seed-alice-lp-1',  'bonus',    '@treasury', 'alice', 'LP',   120::bigint, 'loyalty bonus'),
    (6, 'seed-bob-jpy-1',   'deposit',  '@treasury', 'bob',   'JPY', 12000::bigint, 'bank transfer'),
    (7, 'seed-gc-gift',     'transfer', 'alice',     'bob',   'GC',   150::bigint, 'birthday gift'),
    (8, 'seed-gc-shop',     'purchase', 'bob',       '@revenue', 'GC', 80::bigint, 'sword of demo'),
    (9, 'seed-sgd-split',   'transfer', 'bob',       'alice', 'SGD',  1275::bigint, 'dinner split'),
    (10, 'seed-sgd-cashout','withdraw', 'alice',     '@settlement', 'SGD', 2000::bigint, 'to bank')
) AS s(n, key, kind, from_user, to_user, asset, amount, memo)
CROSS JOIN LATERAL wallet_move(
    s.key,
    concat(length(s.kind), ':', s.kind, ';', length(s.from_user), ':', s.from_user, ';',
           length(s.to_user), ':', s.to_user, ';', length(s.asset), ':', s.asset, ';',
           length(s.amount::text), ':', s.amount, ';', length(s.memo), ':', s.memo, ';6:posted;'),
    s.kind, s.from_user, s.to_user, s.asset, s.amount, s.memo, false, NULL, 'seed',
    jsonb_build_object('seed', true)) AS m
ORDER BY s.n;
