"""Benchmarks: scripts that print figures (see docs/performance.md); never timed tests."""
