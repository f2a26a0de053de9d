-- Matches a statement (the rows of the caller's statement_upload) and
-- records the run: wallet_statement_run in sql/functions/70_statements.sql.
SELECT wallet_statement_run($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz, $8, $9::bigint * interval '1 millisecond', $10, $11::jsonb)
