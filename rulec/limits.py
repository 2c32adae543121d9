"""Bounds on what the compiler accepts: rules text may come from an untrusted VLM.

Each exceeded bound is reported as a diagnostic (E010-E012), never as a RecursionError,
a hang or a huge allocation.
"""

#: Largest rules file, in characters.
MAX_SOURCE_CHARS = 100_000
#: Most statements (task header, declarations and rules) in one file.
MAX_STATEMENTS = 500
#: Deepest nesting of a formula, counting through inlined ``let`` names.
MAX_DEPTH = 64
#: Longest numeric literal, in characters.
MAX_NUMBER_CHARS = 40
#: Largest magnitude of any number in the rules.
MAX_NUMBER = 1e6
#: Largest morphology radius (``grow``/``shrink``), in pixels.
MAX_PIXELS = 64
#: Most diagnostics reported for one file (the rest are counted, not listed).
MAX_DIAGNOSTICS = 50
