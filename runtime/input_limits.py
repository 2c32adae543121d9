"""Bounds on every input around the compiler, in one place: videos, task folders, VLM answers, records.

They are checked before anything is decoded or parsed in full, so a hostile or broken file
gives one clear error instead of a hang, a RecursionError or a huge allocation. Each can be
changed with an environment variable named like it, prefixed ``RULEC_`` (e.g.
``RULEC_MAX_VIDEO_FRAMES=4096``); they are read at use, so a run or a test may override them.
The compiler's own bounds (rules text, nesting, numbers) are :mod:`rulec.limits`.
"""

from __future__ import annotations

import os

from rulec.limits import MAX_DEPTH

_INPUT_DEFAULTS: dict[str, int] = {
    "MAX_VIDEO_FRAMES": 1024,  # frames in one video (ours have 16, Wan 2.x 81)
    "MAX_FRAME_PIXELS": 1 << 22,  # width * height of one frame (2048 x 2048)
    "MAX_VIDEO_PIXELS": 1 << 27,  # frames * width * height (384 MB as uint8 RGB)
    "MAX_IMAGE_BYTES": 64 << 20,  # one PNG file
    "MAX_METADATA_BYTES": 1 << 20,  # question_metadata.json
    "MAX_TEXT_BYTES": 1 << 20,  # prompt.txt
    "MAX_JSON_NESTING": 64,  # brackets deep in question_metadata.json or a results line
    "MAX_ANSWER_CHARS": 200_000,  # one VLM answer, before it is searched for rules
    "MAX_ANSWER_BYTES": 4 << 20,  # one HTTP body from a VLM server, before it is parsed
    "MAX_ANSWER_NESTING": 4 * MAX_DEPTH,  # brackets deep in one VLM answer's rules
    "MAX_RECORD_BYTES": 1 << 20,  # one line of a bench results file
}


def input_limit(name: str) -> int:
    """The bound ``name`` (a key of ``_INPUT_DEFAULTS``), from ``$RULEC_<name>`` when set to a positive integer."""
    default = _INPUT_DEFAULTS[name]
    raw = os.environ.get(f"RULEC_{name}")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"${'RULEC_' + name} must be a positive whole number, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"${'RULEC_' + name} must be a positive whole number, got {raw!r}")
    return value


def json_nesting(text: str) -> int:
    """Deepest bracket nesting of JSON text (strings skipped), without parsing it (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest
