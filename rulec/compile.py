"""The library entry point: rules text (or a file) -> :class:`CompiledRules`, or one
:class:`RulesError` carrying every diagnostic."""

from __future__ import annotations

import os
from pathlib import Path

from rulec.checker import Checker
from rulec.diagnostics import RulesError, error
from rulec.ir import CompiledRules
from rulec.limits import MAX_SOURCE_CHARS
from rulec.lower import lower_program
from rulec.parser import parse


def _looks_like_path(s: str) -> bool:
    return "\n" not in s and len(s) < 4096 and (os.path.isfile(s) or s.endswith((".rules", ".txt")))


def _check_num_frames(num_frames: int | None) -> None:
    """A video length is a positive whole number (checked before any file is read)."""
    if num_frames is not None and (isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1):
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")


def read_rules(path: Path, name: str | None = None) -> tuple[str, str]:
    """(text, source name) of a rules file; a RulesError (E010/E013) when it cannot be used."""
    source = name or str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(4 * MAX_SOURCE_CHARS + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RulesError([error("E013", f"cannot read '{source}': {reason}")], "", source) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(data) > 4 * MAX_SOURCE_CHARS:  # cut in the middle of a character: too large anyway
            text = data[: exc.start].decode("utf-8")
        else:
            raise RulesError([error("E013", f"'{source}' is not UTF-8 text (byte {exc.start})")], "", source) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, source


def compile_rules(text_or_path: str | os.PathLike, *, name: str | None = None,
                  num_frames: int | None = None) -> CompiledRules:
    """Parse, check and lower rules.

    ``text_or_path``: a ``Path``, a string naming an existing file (or ending in
    ``.rules``/``.txt``), or the rules text itself. ``name`` is the source name shown in
    diagnostics. With ``num_frames``, windows outside a video of that many frames are errors.
    Raises :class:`RulesError` with all diagnostics when the rules are invalid.
    """
    _check_num_frames(num_frames)
    if isinstance(text_or_path, os.PathLike) or (isinstance(text_or_path, str) and _looks_like_path(text_or_path)):
        text, source = read_rules(Path(text_or_path), name)
    elif isinstance(text_or_path, str):
        text, source = text_or_path, name or "<rules>"
    else:
        raise TypeError(f"compile_rules expects rules text or a path, got {type(text_or_path).__name__}")
    return compile_text(text, name=source, num_frames=num_frames)


def compile_text(text: str, *, name: str = "<rules>", num_frames: int | None = None) -> CompiledRules:
    """Compile rules given as text, never reading a file: the entry point for untrusted
    input (a VLM's answer), where a string that happens to look like a path must not
    open that path. Raises :class:`RulesError` with all diagnostics."""
    _check_num_frames(num_frames)
    if not isinstance(text, str):
        raise TypeError(f"compile_text expects a string, got {type(text).__name__}")
    parsed = parse(text, name)
    if any(d.code in ("E010", "E012") for d in parsed.diagnostics):  # the file as a whole was refused
        raise RulesError(parsed.diagnostics, text, name)
    checker = Checker(parsed.program, text, name, num_frames, parsed.broken_names, parsed.broken_rule_kinds)
    checked = checker.run()
    errors = parsed.diagnostics + checked.errors
    if errors:
        raise RulesError(errors, text, name, checked.warnings)
    nodes, rules, declarations = lower_program(parsed.program, checked)
    task = checked.task
    return CompiledRules(
        source_name=name,
        task_name=None if task is None else task.name,
        instruction=None if task is None else task.instruction,
        nodes=nodes,
        rules=rules,
        declarations=declarations,
        warnings=tuple(checked.warnings),
        num_frames=num_frames,
        source=text,
    )
