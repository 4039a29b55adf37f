"""Load tests and the benchmark runner."""
