"""Benchmarks: one command each (`python -m benchmarks.NAME`), printing a table and writing JSON."""
