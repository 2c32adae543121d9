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
#: Largest morphology radius (``grow``/``shrink``) written in pixels (``2px``).
MAX_PIXELS = 64
#: Largest morphology radius written as a bare number, in normalized frame units (half the frame).
MAX_RADIUS = 0.5
#: Most instances a quantifier (``all c in S: ...``) ranges over: its body is built once per
#: choice of instances, and a video whose first frame holds more pieces of ``S`` is error E506.
MAX_INSTANCES = 8
#: Most quantified variables in scope at once (``all a, b, c in S``: 8 x 7 x 6 copies of the body).
MAX_VARIABLES = 3
#: Most sub-expressions a rule may expand to once its quantifiers are expanded (E014).
MAX_EXPANDED_NODES = 100_000
#: Most diagnostics reported for one file (the rest are counted, not listed).
MAX_DIAGNOSTICS = 50

# ---------------------------------------------------------------- numbers in float32
#: Smallest normal float32 (``numpy.finfo(numpy.float32).tiny``); the reward runs in float32.
FLOAT32_TINY = 1.1754943508222875e-38
#: Smallest nonzero threshold (a divisor: ``moving(v=...)``, ``near(d=...)``, a comparison's
#: constant). Margins divide by it and gradients by its square, so both 1/t and 1/t**2 must be
#: finite in float32: t >= sqrt(tiny) ~ 1.08e-19. Smaller values are E212, not NaN losses.
MIN_THRESHOLD = FLOAT32_TINY ** 0.5
