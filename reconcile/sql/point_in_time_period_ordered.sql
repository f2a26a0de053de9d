-- Whether a statement period [$1, $2) is not empty.
SELECT $1::timestamptz < $2::timestamptz
