"""Benchmarks: each module runs with one command, prints one JSON object and can record into BENCHMARKS.md."""
