"""Hostile rules text for robustness tests: random tokens, mutated examples, deep nesting.

Used by ``tests/test_fuzz.py`` (a few hundred inputs) and ``benchmarks/fuzz_compiler.py``
(100k and more). The property: compiling any text either succeeds or raises
:class:`rulec.RulesError` whose diagnostics all carry a position inside the text.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from rulec.diagnostics import RulesError

_TOKEN = re.compile(r'\s+|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:px\b|(?:[eE][+-]?\d+)?)|"[^"\n]*"|#[^\n]*|.', re.DOTALL)

VOCABULARY = (
    "task", "object", "region", "let", "goal", "process", "weight", "not", "and", "or", "implies", "always",
    "eventually", "at", "start", "end", "until", "then", "progress", "(", ")", "[", "]", ":", ",", "=", "-",
    "<", ">", "<=", ">=", "\n", " ", "agent", "goal", "walls", "x", "color", "box", "inside", "speed", "area",
    "distance", "near", "grow", "shrink", "present", "unchanged", "ask", "frac", "tol", "d", "px", "0", "1",
    "-2", "0.15", "12", "1e999", "2px", "1.5px", "0.03", '"#e53935"', '"#43a047"', '"why?"', '"', "#", "9" * 50, "\t", "\r", "\x00",
    "é", "\u202e", "∀", "all", "any", "in", "c", "d", "track", "left_of", "components",
)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def random_text(rng: random.Random, max_tokens: int = 60) -> str:
    return "".join(rng.choice(VOCABULARY) + rng.choice(("", " ", " ", "\n")) for _ in range(rng.randint(0, max_tokens)))


def random_bytes_text(rng: random.Random, max_len: int = 200) -> str:
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, max_len))).decode("utf-8", errors="replace")


def deep_nesting(rng: random.Random) -> str:
    n = rng.choice((10, 63, 64, 65, 100, 1000, 20000))
    core = 'inside(agent, goal)'
    head = 'object agent = color("#e53935")\nregion goal = color("#43a047") at start\n'
    kind = rng.randrange(8)
    if kind == 0:
        formula = "(" * n + core + ")" * n
    elif kind == 1:
        formula = "not " * n + core
    elif kind == 2:
        formula = "always " * n + core
    elif kind == 3:
        formula = " then ".join([core] * n)
    elif kind == 4:
        formula = " and ".join([core] * n)
    elif kind == 5:
        formula = "inside(" * n + "agent" + ", goal)" * n
    elif kind == 6:  # quantifiers inside quantifiers, each over three variables
        formula = "".join(f"all a{i}, b{i}, c{i} in agent: near(a{i}, b{i}) and (" for i in range(min(n, 200)))
        formula += core + ")" * min(n, 200)
    else:
        lets = "".join(f"let p{i} = not p{i - 1}\n" if i else f"let p0 = {core}\n" for i in range(min(n, 400)))
        return head + lets + f"goal g : p{min(n, 400) - 1}\n"
    return head + f"goal g : {formula}\n"


def mutate(text: str, rng: random.Random, rounds: int | None = None) -> str:
    """Apply a few random token-level edits: delete, duplicate, swap, insert, truncate."""
    toks = tokens(text) or [""]
    for _ in range(rounds if rounds is not None else rng.randint(1, 4)):
        op = rng.randrange(7)
        i = rng.randrange(len(toks))
        if op == 0 and len(toks) > 1:
            del toks[i]
        elif op == 1:
            toks.insert(i, toks[i])
        elif op == 2:
            j = rng.randrange(len(toks))
            toks[i], toks[j] = toks[j], toks[i]
        elif op == 3:
            toks.insert(i, rng.choice(VOCABULARY))
        elif op == 4:
            toks[i] = random_bytes_text(rng, 4)
        elif op == 5:
            toks = toks[: i + 1]
        else:
            toks.insert(i, rng.choice(VOCABULARY) * rng.choice((2, 10, 200)))
    return "".join(toks)


def example_texts() -> list[str]:
    folder = Path(__file__).resolve().parents[2] / "examples"
    return [p.read_text() for p in sorted(folder.glob("*.rules"))]


def generate(rng: random.Random, seeds: list[str]) -> str:
    """One hostile input."""
    kind = rng.random()
    if kind < 0.55 and seeds:
        return mutate(rng.choice(seeds), rng)
    if kind < 0.75:
        return random_text(rng)
    if kind < 0.85:
        return random_bytes_text(rng)
    return deep_nesting(rng)


def escape(text: str, num_frames: int | None = None) -> str | None:
    """``None`` if compiling ``text`` behaves (succeeds, or RulesError with positioned
    diagnostics); otherwise a description of what escaped."""
    from rulec.compile import compile_rules

    try:
        compile_rules(text, name="fuzz.rules", num_frames=num_frames)
    except RulesError as exc:
        if not exc.diagnostics:
            return "RulesError without diagnostics"
        for d in exc.diagnostics:
            s = d.span
            if s is None:
                return f"diagnostic {d.code} without a span"
            if not (0 <= s.start_pos <= s.end_pos <= len(text) and 1 <= s.line <= text.count("\n") + 1):
                return f"diagnostic {d.code} with a span outside the text: {s}"
        str(exc)
        return None
    except BaseException as exc:  # noqa: BLE001 - the point is to catch anything that escapes
        if isinstance(exc, KeyboardInterrupt):
            raise
        return f"{type(exc).__name__}: {exc}"[:300]
    return None
