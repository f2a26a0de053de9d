-- 0012_statements: external statements (a bank's or payout provider's)
-- matched against the ledger's posted movements on one account
-- (`walletctl reconcile statement`, reconcile/statement_match.cpp).
--
-- A statement file is recorded once per (account, asset, SHA-256 of its
-- bytes): importing the same file again adds no lines. Each line is matched
-- at most once (statement_lines.match_id) and each movement at most once
-- per account (statement_matched_transactions); a match is a group of one
-- or more lines and one or more movements. A run records what it reported
-- (statement_runs, statement_run_findings), so `--run ID` shows it again.
-- Lines left unmatched stay candidates for later runs: a later file, or a
-- later movement, completes them.
--
-- Also (at the end): transactions.reference, a movement's external
-- reference, and the signatures of wallet_move, wallet_move_apply and
-- wallet_import_batch that take it.

CREATE TABLE statement_files (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account     text NOT NULL,      -- the ledger account's user id (@settlement, @treasury, a user)
    asset       text NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    name        text NOT NULL CHECK (octet_length(name) <= 1000),
    format      text NOT NULL CHECK (format IN ('csv', 'jsonl', 'camt053')),
    lines       integer NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account, asset, sha256)
);

CREATE SEQUENCE statement_match_ids;

CREATE TABLE statement_lines (
    file_id     bigint NOT NULL REFERENCES statement_files(id),
    line        integer NOT NULL CHECK (line > 0),
    booked_at   timestamptz NOT NULL,
    whole_day   boolean NOT NULL,   -- the statement gave a date: the line covers that day (UTC)
    amount      bigint NOT NULL CHECK (amount <> 0),  -- minor units; negative: out of the external account
    reference   text NOT NULL CHECK (octet_length(reference) <= 140),
    description text NOT NULL CHECK (octet_length(description) <= 500),
    currency    text NOT NULL CHECK (octet_length(currency) <= 12),
    match_id    bigint,             -- NULL: unmatched so far
    PRIMARY KEY (file_id, line)
);
-- Unmatched lines of an account, by date: the candidates a later run looks at.
CREATE INDEX statement_lines_unmatched_idx ON statement_lines (booked_at) WHERE match_id IS NULL;
CREATE INDEX statement_lines_match_idx ON statement_lines (match_id) WHERE match_id IS NOT NULL;

CREATE TABLE statement_runs (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id                bigint NOT NULL REFERENCES statement_files(id),
    file_new               boolean NOT NULL,  -- false: the same file was imported before
    at                     timestamptz NOT NULL DEFAULT now(),
    actor                  text NOT NULL CHECK (octet_length(actor) <= 64),
    since                  timestamptz NOT NULL,
    until                  timestamptz NOT NULL,
    amount_tolerance       bigint NOT NULL,
    date_window            interval NOT NULL,
    matched_groups         integer NOT NULL DEFAULT 0,
    unmatched_lines        integer NOT NULL DEFAULT 0,
    unmatched_transactions integer NOT NULL DEFAULT 0,
    mismatched             integer NOT NULL DEFAULT 0
);

CREATE TABLE statement_matched_transactions (
    account        text NOT NULL,
    transaction_id bigint NOT NULL,
    match_id       bigint NOT NULL,
    run_id         bigint NOT NULL REFERENCES statement_runs(id),
    rule           text NOT NULL,
    PRIMARY KEY (account, transaction_id)
);
CREATE INDEX statement_matched_transactions_run_idx ON statement_matched_transactions (run_id);

CREATE TABLE statement_run_findings (
    run_id         bigint NOT NULL REFERENCES statement_runs(id),
    kind           text NOT NULL CHECK (kind IN ('unmatched_line', 'unmatched_transaction', 'mismatched')),
    file_id        bigint,
    line           integer,
    transaction_id bigint,
    field          text,   -- mismatched: amount, direction, asset or status
    ledger         text,
    statement      text,
    reason         text    -- unmatched_line: why a line with a known reference did not match
);
CREATE INDEX statement_run_findings_run_idx ON statement_run_findings (run_id);

-- The functions (wallet_statement_run, the entry point, and its helper)
-- live in sql/functions/70_statements.sql.

-- Issue 13 part C: an optional external reference on a movement (a bank's
-- or payout provider's id for it), set by the request (`--reference`,
-- walletd's `reference`) or, for a withdrawal, by the settlement command's
-- answer. Not part of the entry hash: it is a label that the provider may
-- give after the money moved. NOT VALID: every existing row is NULL, and
-- validating would scan the table under its exclusive lock.
ALTER TABLE transactions ADD COLUMN reference text;
ALTER TABLE transactions ADD CONSTRAINT transactions_reference_check
    CHECK (reference IS NULL OR (octet_length(reference) BETWEEN 1 AND 140 AND reference !~ '[[:cntrl:]]'))
    NOT VALID;
-- history --reference, and statement matching by reference.
CREATE INDEX transactions_reference_idx ON transactions (reference) WHERE reference IS NOT NULL;

-- wallet_move and wallet_move_apply take the reference
-- (sql/functions/30_movement.sql): their old signatures go. IF EXISTS: a
-- database migrated from empty gets them from the function files only
-- after the migrations, so here they exist only in one migrated before.
DROP FUNCTION IF EXISTS wallet_move(text, text, text, text, text, text, bigint, text, boolean, interval, text, jsonb,
                                    boolean, interval);
DROP FUNCTION IF EXISTS wallet_move_apply(text, text, text, text, text, text, bigint, text, boolean, interval, text,
                                          jsonb, boolean, bigint, interval);
-- wallet_import_batch takes the lines' references: its old signature goes.
DROP FUNCTION IF EXISTS wallet_import_batch(bigint[], boolean[], text[], text[], text[], text[], text[], text[],
                                            bigint[], text[], text, text);
