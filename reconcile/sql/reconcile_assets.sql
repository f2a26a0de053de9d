-- Every asset with the sum of its entries at the checkpoint.
SELECT a.code AS asset, a.scale, coalesce(r.entry_sum, 0)::text AS entry_sum
  FROM assets a LEFT JOIN reconcile_assets r ON r.asset = a.code ORDER BY a.code
