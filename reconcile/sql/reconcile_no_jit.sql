-- Reconcile's statements are big but cheap per row: JIT compilation would
-- cost more (about a second each) than it saves.
SET LOCAL jit = off
