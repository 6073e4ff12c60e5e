"""Benchmarks: each module has main() that measures side by side and writes bench/results/<name>.json."""
