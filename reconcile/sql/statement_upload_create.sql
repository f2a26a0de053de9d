-- reconcile statement's staging table: filled by COPY, read by
-- wallet_statement_run (which runs as wallet_owner, hence
-- statement_upload_grant.sql), gone at the end of the transaction. DDL:
-- run as plain text, never prepared.
CREATE TEMP TABLE statement_upload (line integer, booked_at timestamptz, whole_day boolean, amount bigint, reference text, description text, currency text) ON COMMIT DROP
