"""Benchmarks (not tests): ``python -m tests.bench.run``, which ``make bench`` calls."""
