-- Recorded statement runs, newest first, of one account and asset when
-- given.
SELECT r.id, wallet_rfc3339(r.at), r.actor, f.account, f.asset, f.name, f.format, f.lines, r.file_new,  wallet_rfc3339(r.since), wallet_rfc3339(r.until), r.matched_groups, r.unmatched_lines,  r.unmatched_transactions, r.mismatched FROM statement_runs r JOIN statement_files f ON f.id = r.file_id WHERE ($1::text IS NULL OR f.account = $1) AND ($2::text IS NULL OR f.asset = $2) ORDER BY r.id DESC LIMIT $3
