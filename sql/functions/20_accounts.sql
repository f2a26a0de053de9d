-- Assets, wallets, and the audit rows of refused actions.

-- Adds an asset with its system accounts (@treasury, @revenue, @settlement,
-- wallet_system_shards() rows each) and audits it. Returns the asset.
-- Conflict (WL409) if it exists; a bad code, scale or name is a
-- check_violation of the assets table.
CREATE OR REPLACE FUNCTION wallet_asset_add(p_code text, p_scale integer, p_name text, p_actor text)
RETURNS SETOF assets LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO assets(code, scale, name) VALUES (p_code, p_scale, coalesce(p_name, ''))
        ON CONFLICT (code) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'asset % already exists', p_code USING ERRCODE = 'WL409';
    END IF;
    INSERT INTO wallets(user_id, asset, shard)
        SELECT u, p_code, s
        FROM unnest(ARRAY['@treasury', '@revenue', '@settlement']) AS u,
             generate_series(0, wallet_system_shards() - 1) AS s;
    INSERT INTO audit_log(actor, action, arguments, outcome)
        VALUES (p_actor, 'asset.add',
                jsonb_build_object('code', p_code, 'scale', p_scale, 'name', p_name), 'ok');
    RETURN QUERY SELECT * FROM assets WHERE code = p_code;
END $$;

-- Creates a user's wallet for an asset and audits it. Returns the wallet.
-- WL404 when the asset does not exist, WL409 when the wallet exists, WL400
-- for a system account id (starting with @).
CREATE OR REPLACE FUNCTION wallet_create(p_user text, p_asset text, p_actor text)
RETURNS SETOF wallets LANGUAGE plpgsql AS $$
BEGIN
    IF left(p_user, 1) = '@' THEN
        RAISE EXCEPTION 'user ids starting with @ are reserved for system accounts' USING ERRCODE = 'WL400';
    END IF;
    PERFORM 1 FROM assets WHERE code = p_asset;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'asset % not found', p_asset USING ERRCODE = 'WL404';
    END IF;
    INSERT INTO wallets(user_id, asset) VALUES (p_user, p_asset) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'wallet %/% already exists', p_user, p_asset USING ERRCODE = 'WL409';
    END IF;
    INSERT INTO audit_log(actor, action, arguments, outcome)
        VALUES (p_actor, 'wallet.create', jsonb_build_object('user', p_user, 'asset', p_asset), 'ok');
    RETURN QUERY SELECT * FROM wallets WHERE user_id = p_user AND asset = p_asset AND shard = 0;
END $$;

-- Records an operator or API action that was refused before it changed
-- anything (Store::audit_failure). Only refusals: the outcomes that
-- successful operations write are refused here (WL400), so the
-- application role cannot forge a successful-looking audit row.
CREATE OR REPLACE FUNCTION wallet_audit_failure(p_actor text, p_action text, p_arguments jsonb, p_outcome text,
                                                p_message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_outcome NOT IN ('internal', 'invalid_input', 'insufficient_funds', 'not_found', 'conflict',
                         'unavailable') THEN
        RAISE EXCEPTION 'outcome "%" is not a refusal', left(p_outcome, 40) USING ERRCODE = 'WL400';
    END IF;
    INSERT INTO audit_log(actor, action, arguments, outcome, message)
        VALUES (p_actor, left(p_action, 40), p_arguments, p_outcome, left(p_message, 2000));
END $$;
