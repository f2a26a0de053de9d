-- See statement_upload_create.sql.
GRANT SELECT ON pg_temp.statement_upload TO wallet_owner
