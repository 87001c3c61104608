"""Benchmark tasks built from ../shared/data (T1 cause search, T2 funder match) and baselines."""
