"""Browser end-to-end test of the set-up (scripts/e2e)."""
