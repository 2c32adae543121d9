"""Rulec runtime: reasoners, task suite, test-time optimization, teacher, benchmark."""
