-- A hot standby (read-only; reconcile then leaves the checkpoint alone).
SELECT pg_is_in_recovery() AS in_recovery
