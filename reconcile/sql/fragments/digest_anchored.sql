-- The anchored heads $1 (wallet ids), $2 (versions), $3 (hex hashes, '' at
-- version 0) as a relation.
anchored AS MATERIALIZED (
  SELECT a.wallet_id, a.version, decode(a.hash, 'hex') AS hash
    FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS a(wallet_id, version, hash))
