"""One small example per diagnostic code: the source of docs/diagnostics.md.

``python tests/support/diagnostic_examples.py > docs/diagnostics.md`` regenerates the page; a test
checks that the page equals this output and that each example produces its code, so the
page cannot go stale.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from rulec.diagnostics import CODES, Diagnostic, RulesError, render
from rulec.limits import MAX_DEPTH, MAX_EXPANDED_NODES, MAX_INSTANCES, MAX_SOURCE_CHARS, MAX_STATEMENTS, MAX_VARIABLES

_HEAD = 'object agent = color("#e53935")\nregion goal  = color("#43a047") at start\n'


@dataclass(frozen=True)
class Example:
    code: str
    source: str  # the rules text (or, for E013, bytes that are not UTF-8)
    explanation: str
    shown: str | None = None  # what the page shows instead of a very long source
    num_frames: int | None = None


EXAMPLES: tuple[Example, ...] = (
    Example("E001", _HEAD + "goal reach : eventually inside(agent goal)\n",
            "The text does not follow the grammar. The message names what was found and what could stand there."),
    Example("E002", _HEAD + "goal reach : inside(agent, goal) & present(agent)\n",
            "A character that no token starts with (logic is spelled `and`, `or`, `not`)."),
    Example("E003", _HEAD + 'object blue = color("#1e88e5)\ngoal reach : inside(agent, goal)\n',
            "A string must close on the same line; strings contain no backslash."),
    Example("E004", _HEAD + "goal reach : inside(agent, goal) weight 1e999\n",
            "A number too long to read or too large (beyond ±1e6)."),
    Example("E010", "#" * (MAX_SOURCE_CHARS + 1),
            f"The file is longer than {MAX_SOURCE_CHARS} characters (rules from a VLM are untrusted).",
            shown=f"# ... a comment of {MAX_SOURCE_CHARS + 1} characters ..."),
    Example("E011", _HEAD + "goal reach : " + "not " * (MAX_DEPTH + 1) + "inside(agent, goal)\n",
            f"A formula nested more than {MAX_DEPTH} levels deep, counting through `let` names.",
            shown=_HEAD + f"goal reach : not not not ... ({MAX_DEPTH + 1} times) inside(agent, goal)"),
    Example("E012", "goal reach : present(agent)\n" * (MAX_STATEMENTS + 2),
            f"More than {MAX_STATEMENTS} statements in one file.",
            shown=f"goal reach : present(agent)   # ... repeated {MAX_STATEMENTS + 2} times"),
    Example("E013", "\udcff",  # stands for a file holding the byte 0xff
            "The file cannot be read, or is not UTF-8 text (`rulec compile` exits with 2 for this one).",
            shown="(a file holding the byte 0xff)"),
    Example("E014", 'object coins = color("#fdd835")\n' + _HEAD + "goal reach : all a, b, c in coins:\n"
            + " and\n".join(["    near(a, b) and near(b, c) and near(a, c)"] * 100) + "\n",
            f"A file whose statements, once each quantifier's body is built for every choice of up to {MAX_INSTANCES} "
            f"instances, would hold more than {MAX_EXPANDED_NODES:,} expressions.",
            shown='object coins = color("#fdd835")\n' + _HEAD
            + "goal reach : all a, b, c in coins:\n    near(a, b) and near(b, c) and near(a, c) and\n"
            "    ... (the same line 100 times)"),
    Example("E101", _HEAD + "goal reach : inside(agnet, goal)\n",
            "A name that is not declared; the help suggests a close declared name."),
    Example("E102", _HEAD + "goal reach : eventually insde(agent, goal)\n",
            "A function that is not in the registry (docs/primitives.md lists them)."),
    Example("E103", _HEAD + 'region goal = box(0.0, 0.0, 0.5, 0.5)\ngoal reach : inside(agent, goal)\n',
            "Two declarations with the same name."),
    Example("E104", 'object speed = color("#e53935")\ngoal reach : present(speed)\n',
            "A declaration named like a function (it would hide it) or like a keyword."),
    Example("E105", _HEAD + "goal reach : inside(agent, goal)\ngoal reach : at end inside(agent, goal)\n",
            "Two rules with the same name."),
    Example("E106", 'region floor = not walls\nregion walls = color("#000000") at start\n'
                    'object agent = color("#e53935")\ngoal reach : always inside(agent, floor)\n',
            "A name used above its declaration (declarations are read top to bottom, so there are no cycles)."),
    Example("E107", _HEAD + "goal reach : agent(goal)\n",
            "A declared name called like a function."),
    Example("E108", _HEAD + "goal reach : inside\n",
            "A function written without its arguments."),
    Example("E109", 'task maze "Solve the maze."\ntask maze2 "Again."\n' + _HEAD + "goal reach : inside(agent, goal)\n",
            "A file has at most one task header."),
    Example("E110", _HEAD + "goal each : all agent in color(\"#1e88e5\"): at end inside(agent, goal)\n",
            "A quantified variable must be a new name: not a declaration, a function, a keyword or another variable "
            "in scope."),
    Example("E111", 'object coins = color("#fdd835")\n'
            + "goal apart : all a, b in coins: all c, d in coins: distance(a, b) > 0.1 or distance(c, d) > 0.1\n",
            f"At most {MAX_VARIABLES} quantified variables in scope at once: each multiplies the rule's size by the "
            "number of instances."),
    Example("E201", _HEAD + "goal reach : always agent\n",
            "An expression of the wrong type: here a mask where a formula is needed."),
    Example("E202", _HEAD + "goal reach : inside(agent)\n",
            "Too few or too many arguments; the help shows the signature."),
    Example("E203", _HEAD + "goal reach : inside(agent, goal, fraction=0.5)\n",
            "A keyword argument the function does not have."),
    Example("E204", _HEAD + "goal reach : inside(agent, goal, 0.5, frac=0.8)\n",
            "The same argument given by position and by keyword (or twice by keyword)."),
    Example("E205", 'object agent = color("red")\ngoal reach : present(agent)\n',
            'Colours are written `"#rrggbb"`.'),
    Example("E206", _HEAD + "goal reach : always[0:2.5] inside(agent, goal)\n",
            "Window bounds and pixel counts are whole numbers."),
    Example("E207", _HEAD + "goal reach : 0.1 < 0.2\n",
            "A comparison needs a measure on at least one side."),
    Example("E208", _HEAD + "goal reach : always (agent and inside(agent, goal))\n",
            "`and`/`or`/`not` combine masks (region algebra) or formulas (logic), not one of each."),
    Example("E209", _HEAD + "goal reach : agent\n",
            "An object or region that is not a mask, a `let` that is a number or string, or a rule that is not a formula."),
    Example("E210", _HEAD + "goal reach : inside(agent, goal) at start\n",
            "Postfix `at start` freezes a mask on the first frame; for a formula write `at start` before it."),
    Example("E211", _HEAD + "goal reach : near(agent, goal, d=0)\n",
            "A numeric argument outside its range (thresholds that divide must be positive)."),
    Example("E212", _HEAD + "goal reach : eventually moving(agent, v=1e-300)\n",
            "A nonzero threshold (an argument the margin divides by, or a comparison's constant) below "
            "sqrt of float32's smallest normal number (about 1.08e-19): in float32 it is 0 or its "
            "reciprocal overflows, so the loss would be NaN or infinite and the gradients NaN."),
    Example("E301", _HEAD + "goal reach : eventually[5:2] inside(agent, goal)\n",
            "A window that holds no frame."),
    Example("E302", _HEAD + "goal reach : eventually[0:20] inside(agent, goal)\n",
            "With a known video length (`--frames 16`, `num_frames=16`), a window that runs past the video.",
            num_frames=16),
    Example("E303", _HEAD + "goal reach : always (present(agent) implies eventually[-2:] inside(agent, goal))\n",
            "A bound below 0 counts from the video's end, which only means something on a rule's outermost "
            "temporal operator (evaluated at frame 0). Nested, a window is relative to the frame being evaluated "
            "(`eventually[0:3]`: within the next three frames)."),
    Example("E401", _HEAD + "process steady : always speed(agent) < 0.1\n",
            "Every file needs at least one goal rule."),
    Example("E402", _HEAD + "goal reach : inside(agent, goal) weight -1\n",
            "Weights are positive numbers."),
    Example("W001", _HEAD + 'region walls = color("#000000") at start\ngoal reach : at end inside(agent, goal)\n'
                    "process steady : always speed(agent) < 0.1\n",
            "A declaration no other statement uses (a warning: the rules still compile)."),
    Example("W002", _HEAD + "goal reach : at end inside(agent, goal)\n",
            "Goal rules only: nothing stops an optimizer from taking shortcuts (teleporting, smearing, "
            "crossing walls). A warning."),
    Example("W004", 'object coins = color("#fdd835")\n' + _HEAD + "goal reach : all c in coins: at end inside(agent, goal)\n"
            "process shown : always present(agent)\n",
            "A quantified variable the formula never uses (a warning): the rule does not depend on the instances."),
    Example("W003", _HEAD + "goal reach : at end inside(agent, goal)\nprocess shown : always present(agent)\n",
            "`rulec check` only: an object or region that no pixel of the video's first frame matches (here, "
            "judged on an all-white first frame with a grey square), named with the colours that frame does hold. "
            "A warning: the verdict and the exit code stand (under `--json` it is listed in the verdict's `warnings`)."),
)


def diagnostics_of(example: Example) -> tuple[list[Diagnostic], str]:
    """All diagnostics (errors, then warnings) the example produces, and its source text."""
    from rulec.compile import compile_rules

    name = f"{example.code.lower()}.rules"
    try:
        if example.code == "E013":
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / name
                path.write_bytes(b"\xff")
                compile_rules(path, name=name)
        else:
            compiled = compile_rules(example.source, name=name, num_frames=example.num_frames)
            if example.code == "W003":  # a warning about a video: judged on a white frame with a grey square
                import numpy as np

                from rulec.check import first_frame_warnings

                frame = np.full((32, 32, 3), 255, np.uint8)
                frame[8:20, 8:20] = 0x9E
                return [*compiled.warnings, *first_frame_warnings(compiled, frame)], example.source
            return list(compiled.warnings), example.source
    except RulesError as exc:
        return [*exc.diagnostics, *exc.warnings], exc.source
    raise AssertionError("unreachable")  # pragma: no cover


def rendered(example: Example) -> str:
    found, source = diagnostics_of(example)
    name = f"{example.code.lower()}.rules"
    mine = [d for d in found if d.code == example.code]
    return "\n\n".join(render(d, source, name) for d in mine)


def page() -> str:
    out = [
        "# Diagnostics",
        "",
        "Every problem the compiler finds is reported at once, each as",
        "`file:line:col: severity[CODE]: message`, the source line, carets under the span and,",
        "where one helps, a `help:` line. `rulec compile` exits with 1 when there are errors",
        "(2 for a file it cannot read); warnings alone do not fail. The library raises one",
        "`rulec.RulesError` whose `.diagnostics` lists the errors and `.warnings` the warnings.",
        "",
        "This page is generated: `python tests/support/diagnostic_examples.py > docs/diagnostics.md`;",
        "`tests/test_diagnostics_doc.py` fails when it is out of date or an example stops",
        "producing its code.",
        "",
        "| code | meaning |",
        "| --- | --- |",
    ]
    out += [f"| [{c}](#{c.lower()}) | {title} |" for c, title in CODES.items()]
    for ex in EXAMPLES:
        out += ["", f"## {ex.code}", "", f"**{CODES[ex.code]}.** {ex.explanation}", "", "```", (ex.shown or ex.source).rstrip("\n"), "```", ""]
        text = rendered(ex)
        if ex.code == "E010":
            text = text.split("\n")[0]  # the source line is a very long comment
        out += ["```text", text, "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(page(), end="")
