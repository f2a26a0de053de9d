-- The privilege map: who may do what (the roles wallet_owner and wallet_app
-- are described in 0005_roles.sql, wallet_verifier in
-- 0010_reconcile_verifier.sql, all three in the README, "Database roles").
--
-- Every write goes through an entry point, which is SECURITY DEFINER (it
-- runs with wallet_owner's rights) with a fixed search_path (pg_catalog, the
-- schema, then pg_temp last, so that neither a caller's search_path nor its
-- temporary tables can redirect a name inside). Only entry points get these
-- attributes: a SET clause costs a configuration save and restore on every
-- call and keeps a SQL function from being inlined, so inner helpers
-- (wallet_apply_entry per entry, wallet_entry_hash inlined by reconcile,
-- ...) stay plain and run with whatever rights their caller has.
--
-- Idempotent. `walletctl migrate` runs it after every run that applied a
-- migration or a function file, as the migrating admin (a superuser, or a
-- member of wallet_owner once a superuser has run it the first time): CREATE
-- OR REPLACE resets SECURITY DEFINER and SET clauses, and a new object
-- belongs to whoever created it, so both are put back under the map in the
-- same transaction. An entry point or a table the programs read is added
-- to the lists below. Objects that belong to an extension are left alone.
CREATE OR REPLACE FUNCTION wallet_apply_privileges() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    -- The functions the programs call. Everything that writes is here.
    v_entry_points text[] := ARRAY[
        'wallet_asset_add(text, integer, text, text)',
        'wallet_create(text, text, text)',
        'wallet_move(text, text, text, text, text, text, bigint, text, boolean, interval, text, jsonb, '
            'boolean, interval, text)',
        'wallet_post(bigint, bigint, text, jsonb)',
        'wallet_void(bigint, text, text, jsonb)',
        'wallet_reverse(bigint, text, text, jsonb)',
        'wallet_settlement_deferred(bigint, text, interval, text)',
        'wallet_settlement_attempted(bigint)',
        'wallet_settlement_reference(bigint, text)',
        'wallet_import_batch(bigint[], boolean[], text[], text[], text[], text[], text[], text[], bigint[], '
            'text[], text, text, text[])',
        'wallet_audit_failure(text, text, jsonb, text, text)',
        'wallet_claim_transaction(bigint)',
        'wallet_claim_due(boolean, timestamptz)'];
    -- The entry points of the verifier (walletctl reconcile as a member of
    -- wallet_verifier): only it advances the reconcile checkpoint, records
    -- runs, and records statement matches (a transaction matched once is not
    -- offered to later statements, so a forged statement recorded by the
    -- application could hide an unpaid payout). wallet_app may not call them.
    v_verifier_points text[] := ARRAY[
        'wallet_reconcile_save_wallets(bigint)',
        'wallet_reconcile_save_asset(text, numeric)',
        'wallet_reconcile_record(boolean, bigint, integer, integer)',
        'wallet_statement_run(text, text, text, text, text, timestamptz, timestamptz, bigint, interval, text, '
            'jsonb)'];
    -- Read-only helpers that the programs' own queries call: they run with
    -- the caller's rights (SELECT) and stay inlinable.
    v_readers text[] := ARRAY[
        'wallet_rfc3339(timestamptz)',
        'wallet_movement_of(bigint, boolean)',
        'wallet_entry_hash(bytea, bigint, bigint, bigint, bigint, bigint, bigint)',
        'wallet_hash_text(text)',
        'wallet_transaction_digest(bigint, text, text, bigint, bigint, bigint, text, text, text, timestamptz, bigint)',
        'wallet_entry_hash_v2(bytea, bigint, bigint, bigint, bigint, bigint, timestamptz, bytea)',
        'wallet_entry_expected_hash(bytea, ledger_entries, transactions)',
        'wallet_format_amount(bigint, integer)',
        'wallet_audit_hash(bytea, audit_log)',
        'wallet_audit_expected_hash(bytea, audit_log)'];
    -- The tables the programs read. (audit_chains only read: the audit
    -- trigger, running with an entry point's rights, advances its heads.)
    v_read_tables text[] := ARRAY['assets', 'wallets', 'transactions', 'ledger_entries', 'audit_log',
                                  'audit_chains', 'reconcile_wallets', 'reconcile_assets', 'reconcile_high_water',
                                  'schema_migrations', 'schema_functions', 'statement_files', 'statement_lines',
                                  'statement_runs', 'statement_matched_transactions', 'statement_run_findings'];
    v_schema      oid := (SELECT relnamespace FROM pg_class WHERE oid = 'wallets'::regclass);
    v_schema_name text := (SELECT nspname FROM pg_namespace WHERE oid = v_schema);
    v_owner       oid;
    v_app         oid;
    v_reader      text;
    v_name        text;
    o             record;
BEGIN
    -- 1. The roles. A migration of another database of the cluster may be
    --    creating them at this moment (an advisory lock is per database):
    --    then ours fails as a duplicate, which means the role exists.
    FOREACH v_name IN ARRAY ARRAY['wallet_owner', 'wallet_app', 'wallet_verifier'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = v_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', v_name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
    v_owner := (SELECT oid FROM pg_roles WHERE rolname = 'wallet_owner');
    v_app := (SELECT oid FROM pg_roles WHERE rolname = 'wallet_app');

    -- 2. The schema: the owner may create in it (it owns objects there),
    --    the application may only look names up, PUBLIC may not create.
    IF NOT (has_schema_privilege(v_owner, v_schema, 'USAGE') AND has_schema_privilege(v_owner, v_schema, 'CREATE')) THEN
        EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO wallet_owner', v_schema_name);
    END IF;
    FOREACH v_reader IN ARRAY ARRAY['wallet_app', 'wallet_verifier'] LOOP
        IF NOT EXISTS (SELECT FROM pg_namespace n, aclexplode(n.nspacl) a
                        WHERE n.oid = v_schema AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = v_reader)
                          AND a.privilege_type = 'USAGE') THEN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_schema_name, v_reader);
        END IF;
    END LOOP;
    IF EXISTS (SELECT FROM pg_namespace n, aclexplode(n.nspacl) a
                WHERE n.oid = v_schema AND a.grantee = 0 AND a.privilege_type = 'CREATE') THEN
        EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', v_schema_name);
    END IF;

    -- 3. Every object of the schema: owned by wallet_owner, and no
    --    privileges for PUBLIC or wallet_app but those granted in 4. (A
    --    table takes its indexes and identity sequences along.)
    FOR o IN SELECT c.oid::regclass::text AS name, c.reltype::regtype::text AS type_name, c.relowner,
                    CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                                   WHEN 'S' THEN 'SEQUENCE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END AS kind,
                    c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                        AND d.objid = c.oid AND d.deptype IN ('i', 'a')) AS follows_table
               FROM pg_class c
              WHERE c.relnamespace = v_schema AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
                AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                                   AND d.objid = c.oid AND d.deptype = 'e')
              ORDER BY c.relkind = 'S', c.oid LOOP
        IF o.kind = 'TYPE' THEN
            IF o.relowner <> v_owner THEN
                EXECUTE format('ALTER TYPE %s OWNER TO wallet_owner', o.type_name);
            END IF;
            CONTINUE;
        END IF;
        IF o.relowner <> v_owner AND NOT o.follows_table THEN
            EXECUTE format('ALTER %s %s OWNER TO wallet_owner', o.kind, o.name);
        END IF;
        EXECUTE format('REVOKE ALL ON %s %s FROM PUBLIC, wallet_app, wallet_verifier',
                       CASE o.kind WHEN 'SEQUENCE' THEN 'SEQUENCE' ELSE 'TABLE' END, o.name);
    END LOOP;
    FOR o IN SELECT t.oid::regtype::text AS name, t.typtype FROM pg_type t
              WHERE t.typnamespace = v_schema AND t.typowner <> v_owner AND t.typtype IN ('d', 'e', 'r')
                AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                                   AND d.objid = t.oid AND d.deptype = 'e')
              ORDER BY t.oid LOOP
        EXECUTE format('ALTER %s %s OWNER TO wallet_owner', CASE o.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
                       o.name);
    END LOOP;
    FOR o IN SELECT p.oid::regprocedure::text AS name, p.proowner FROM pg_proc p
              WHERE p.pronamespace = v_schema AND p.prokind IN ('f', 'p')
                AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                   AND d.objid = p.oid AND d.deptype = 'e')
              ORDER BY p.oid LOOP
        IF o.proowner <> v_owner THEN
            EXECUTE format('ALTER ROUTINE %s OWNER TO wallet_owner', o.name);
        END IF;
        EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC, wallet_app, wallet_verifier', o.name);
    END LOOP;

    -- 4. What the application may do (the REVOKEs above and these GRANTs
    --    commit together: no moment without them).
    --    Both the application and the verifier read what the programs read.
    FOREACH v_reader IN ARRAY ARRAY['wallet_app', 'wallet_verifier'] LOOP
        FOREACH v_name IN ARRAY v_read_tables LOOP
            IF to_regclass(v_name) IS NOT NULL THEN
                EXECUTE format('GRANT SELECT ON TABLE %s TO %I', to_regclass(v_name), v_reader);
            END IF;
        END LOOP;
        FOREACH v_name IN ARRAY v_readers LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', v_name::regprocedure, v_reader);
        END LOOP;
    END LOOP;
    -- Entry points: the owner's rights and a fixed search_path.
    FOREACH v_name IN ARRAY v_entry_points LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, %I, pg_temp',
                       v_name::regprocedure, v_schema_name);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO wallet_app', v_name::regprocedure);
    END LOOP;
    FOREACH v_name IN ARRAY v_verifier_points LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, %I, pg_temp',
                       v_name::regprocedure, v_schema_name);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO wallet_verifier', v_name::regprocedure);
    END LOOP;
END $fn$;
