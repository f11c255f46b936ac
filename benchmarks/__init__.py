"""Benchmarks run by scripts/bench; each module prints one JSON line."""
