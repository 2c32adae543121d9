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
    """The extracted rules are longer than the limit."""


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """All fenced blocks of a Markdown answer as ``(language, body)`` pairs, in order."""
    return [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]


def extract_rules(answer: str, limit: int = MAX_RULES_CHARS) -> str:
    """The rules text in ``answer``: the first ```rules block, else the first fenced block, else all of it.

    An unclosed ```rules fence (an answer cut off by a token limit) yields everything after
    it. Raises :class:`AnswerTooLong` when the result exceeds ``limit`` characters.
    """
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
    return rules + "\n" if rules else ""
