"""Pull the rules file out of a VLM's answer, and bound its size before the parser sees it.

The answer is untrusted text. We take the first ```rules fenced block; failing that the
first fenced block of any language; failing that the whole answer. Nothing here
interprets the text: it only cuts it out.
"""

from __future__ import annotations

import re

#: Largest rules file (characters) the teacher passes to the compiler.
MAX_RULES_CHARS = 20_000

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)


class AnswerTooLong(ValueError):
    """The answer, or the rules in it, are longer (or nested deeper) than the limits."""


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """All fenced blocks of a Markdown answer as ``(language, body)`` pairs, in order."""
    return [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]


def extract_rules(answer: str, limit: int = MAX_RULES_CHARS) -> str:
    """The rules text in ``answer``: the first ```rules block, else the first fenced block, else all of it.

    An unclosed ```rules fence (an answer cut off by a token limit) yields everything after
    it. Raises :class:`AnswerTooLong` when the answer exceeds ``MAX_ANSWER_CHARS``, the result
    ``limit`` characters, or its brackets nest deeper than ``MAX_ANSWER_NESTING``
    (:mod:`rulec.runtime.input_limits`): all checked before the compiler sees the text.
    """
    from rulec.runtime.input_limits import input_limit

    max_chars = input_limit("MAX_ANSWER_CHARS")
    if len(answer) > max_chars:  # bounded before the fence regex scans it
        raise AnswerTooLong(f"the answer is {len(answer)} characters long, more than the limit of {max_chars}")
    blocks = fenced_blocks(answer)
    rules = next((body for lang, body in blocks if lang == "rules"), None)
    if rules is None and blocks:
        rules = blocks[0][1]
    if rules is None:
        opened = re.search(r"^[ \t]*```[ \t]*rules[ \t]*\n", answer, re.MULTILINE)
        rules = answer[opened.end():] if opened else answer
    rules = rules.strip("\n")
    if len(rules) > limit:
        raise AnswerTooLong(f"the rules in the answer are {len(rules)} characters long, more than the limit of {limit}")
    depth, max_depth = _bracket_depth(rules), input_limit("MAX_ANSWER_NESTING")
    if depth > max_depth:
        raise AnswerTooLong(f"the rules in the answer nest brackets {depth} deep, more than the limit of {max_depth}")
    return rules + "\n" if rules else ""
