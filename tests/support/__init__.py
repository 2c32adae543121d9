"""Test support (not installed): fuzzers and generated-doc examples shared by tests and benchmarks."""
