"""The teacher's prompt, generated from the grammar and the primitive registry so it never goes stale.

Messages use the OpenAI chat format (a list of ``{"role", "content"}`` dicts; an image is an
``image_url`` part holding a base64 PNG data URL), which every backend accepts or converts.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

#: How many example rules files the system prompt shows at most.
MAX_EXAMPLES = 3
#: The task image is enlarged (nearest neighbour, so edges stay crisp) to at least this many pixels a side.
MIN_IMAGE_SIDE = 256

_KIND_MEANING = {
    "mask": "a soft mask in [0, 1] per frame: an object (may move) or a region",
    "signal": "a number per frame (a measure such as x, area, speed)",
    "bool": "a signed margin per frame, positive where the statement holds",
    "number": "a constant, e.g. 0.15",
    "int": "a constant integer (frame indices, counts)",
    "radius": "a grow/shrink radius: a number in normalized frame units, 0 to 0.5 (0.03 is 3 % of the frame's "
              "width horizontally and of its height vertically), or whole pixels written with `px` (`1px`)",
    "string": 'a quoted string, e.g. "Is the door open?"',
    "color": 'a hex colour literal, e.g. "#e53935"',
}

_CATEGORY_TITLES = [
    ("detector", "Detectors (make masks from the video)"),
    ("region", "Regions"),
    ("measure", "Measures (a number per frame)"),
    ("atom", "Atoms (a signed margin per frame)"),
    ("comparison", "Comparisons"),
    ("logic", "Logic"),
    ("temporal", "Temporal operators"),
]

#: Graph operators the compiler produces itself; nobody writes them, so the prompt leaves them out.
_COMPILER_ONLY = frozenset({"release"})

_ROLE = """\
You are the teacher of a video generation model. You are shown the first frame of a task
and its instruction. You do not solve the task. You write down, in the rules language
described below, what a correct video must show:

- one or more `goal` rules: what must hold at the end (or at some point) of the video;
- `process` rules: what must hold along the way, so that no shortcut counts as success
  (no passing through walls, no object vanishing, duplicating or jumping, the rest of the
  scene left alone).

Name the things that matter with detectors (usually `color(...)` with the exact colour you
see), freeze the static ones with `at start`, then state the rules. Positions, distances and
speeds are in normalized frame units: 0 to 1 across the frame, speed per frame.

Beside a goal that ends on a region, state how far the object is from it, so the rules say
how far a video is from meeting the goal, not only whether it does: `at end distance(agent,
goal) < 0.08` in an open scene. Where walls or obstacles stand between the object and its
goal, measure the way around them, not the straight line: `path_distance(agent, goal, not
walls)` is the length of the shortest way through free space (`at end path_distance(agent,
goal, not walls) < 0.05`). For "keeps getting closer along the corridors" write
`progress path_distance(agent, goal, shrink(not walls, 2px))`: free space shrunk by the
object's radius, so the shortest way keeps to the corridors' middle as the object does.

A `grow`/`shrink` radius is a distance too: `grow(hazard, 0.05)` is a margin of 5 % of the
frame, the same at every resolution. Write pixels only where you mean pixels, with `px`:
`grow(agent, 1px)` is the one-pixel fringe around an object. A bare radius of 1 or more is
an error (`grow(r, 1)` would be the whole frame).

Several objects of one colour are one mask: `components(cards)` counts them, `nth(cards, 1)`
is the leftmost in each frame, and `track(cards, 1)` is the one that was leftmost in the
first frame, followed over time (through a swap, or while it is hidden behind something).
To say something of each of them, quantify: `all c in cards: always present(c)`, or over
every two distinct ones, `all c, d in circles: at end (left_of(c, d) implies area(c) <
area(d))` ("sorted by size from left to right"); `any c in cards: at end inside(c, tray)`.
Each variable is one object followed over time, as with `track`; the formula after `:`
reaches as far right as it can, so put a quantifier inside `at end (...)` or parentheses.
An object that may be hidden for up to k frames: `always eventually[0:k+1] present(o)`.

## How to answer
Answer with exactly one fenced block that starts with ```rules and holds the whole rules
file. Nothing outside that block is read. If the compiler finds mistakes, you will be
shown its messages (file:line:col) and asked for the whole corrected file, again in one
```rules block."""


def grammar_text() -> str:
    """The Lark grammar shipped with the package."""
    return (resources.files("rulec.grammar") / "rules.lark").read_text(encoding="utf-8")


def primitives_section() -> str:
    """Every function and operator of the registry, grouped by category, with its documentation."""
    from rulec.primitives import registry

    specs = [s for s in registry.REGISTRY.values() if s.name not in _COMPILER_ONLY]
    lines = ["## Types", *(f"- `{k}`: {_KIND_MEANING.get(k, k)}" for k in _kind_names())]
    categories = [c for c, _ in _CATEGORY_TITLES] + sorted({s.category for s in specs} - {c for c, _ in _CATEGORY_TITLES})
    titles = dict(_CATEGORY_TITLES)
    for category in categories:
        members = [s for s in specs if s.category == category]
        if not members:
            continue
        lines += ["", f"## {titles.get(category, category.capitalize())}"]
        for spec in members:
            entry = f"- `{spec.signature()}`: {spec.doc}"
            if spec.example:
                entry += f" Example: `{spec.example}`."
            lines.append(entry)
    return "\n".join(lines)


def _kind_names() -> list[str]:
    from rulec.primitives.registry import Kind

    return [k.value for k in Kind]


def palette_section() -> str:
    """The named colours the task world draws with (the teacher should use these exact hex codes)."""
    from rulec.runtime.tasks.world import PALETTE

    body = "\n".join(f"- {name}: `{hexcode}`" for name, hexcode in PALETTE.items())
    return "## Colours of the task world\nEvery pixel of a task frame has one of these colours:\n" + body


def example_files(examples_dir: Path | None = None, limit: int = MAX_EXAMPLES) -> list[tuple[str, str]]:
    """``(file name, text)`` of up to ``limit`` example rules files, sorted by name; none if the folder is absent."""
    folder = Path(examples_dir) if examples_dir is not None else _default_examples_dir()
    if folder is None or not folder.is_dir():
        return []
    files = sorted(folder.glob("*.rules"))[:limit]
    return [(f.name, f.read_text(encoding="utf-8")) for f in files]


def _default_examples_dir() -> Path | None:
    """``examples/`` of the source checkout (the package is installed editable)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "examples").is_dir() and (parent / "pyproject.toml").is_file():
            return parent / "examples"
    return None


def system_prompt(examples_dir: Path | None = None) -> str:
    """The whole system prompt: role, answer format, grammar, primitives, palette, examples."""
    parts = [
        _ROLE,
        "## Grammar of the rules language (Lark)\n```lark\n" + grammar_text().rstrip("\n") + "\n```",
        primitives_section(),
        palette_section(),
    ]
    examples = example_files(examples_dir)
    if examples:
        shown = ["## Examples of rules files"]
        for name, text in examples:
            shown.append(f"{name}:\n```rules\n{text.rstrip(chr(10))}\n```")
        parts.append("\n\n".join(shown))
    return "\n\n".join(parts) + "\n"


def png_data_url(image: np.ndarray, min_side: int = MIN_IMAGE_SIDE) -> str:
    """A ``data:image/png;base64,...`` URL of an ``(H, W, 3)`` uint8 image, enlarged by an integer factor."""
    import imageio.v3 as iio

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"the task image must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
    factor = max(1, -(-min_side // min(image.shape[:2])))
    if factor > 1:
        image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    buffer = io.BytesIO()
    iio.imwrite(buffer, image, extension=".png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def user_message(instruction: str, image: np.ndarray) -> dict:
    """The user turn: the task image, then the instruction."""
    text = (
        "This is the first frame of the task (enlarged; the video keeps this size and viewpoint).\n"
        f"Instruction: {instruction.strip()}\n"
        "Write the rules that a correct video must satisfy."
    )
    return {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": png_data_url(image)}},
            {"type": "text", "text": text},
        ],
    }


def repair_message(diagnostics: str) -> dict:
    """The user turn that sends the compiler's messages back and asks for the whole corrected file."""
    text = (
        "The compiler rejected these rules:\n```\n"
        + diagnostics.rstrip("\n")
        + "\n```\nFix every error and answer with the whole corrected file in one ```rules block."
    )
    return {"role": "user", "content": [{"type": "text", "text": text}]}


@dataclass
class Prompt:
    """A conversation with the teacher, grown by one answer and one repair request per round."""

    messages: list[dict] = field(default_factory=list)

    def with_turns(self, *turns: dict) -> Prompt:
        return Prompt(self.messages + list(turns))

    def hash(self) -> str:
        """sha256 of the canonical JSON of the messages (image bytes included)."""
        blob = json.dumps(self.messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def build_prompt(instruction: str, image: np.ndarray, examples_dir: Path | None = None) -> Prompt:
    """System prompt + the user turn with the task image and instruction."""
    return Prompt(
        [
            {"role": "system", "content": system_prompt(examples_dir)},
            user_message(instruction, image),
        ]
    )


def assistant_message(answer: str) -> dict:
    """The teacher's own answer, as it goes back into the conversation."""
    return {"role": "assistant", "content": answer}

