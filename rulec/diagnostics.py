"""Diagnostics: what went wrong, where, and how to fix it, rendered rustc-style.

    maze.rules:9:27: error[E102]: unknown function 'insde'
        goal reach : eventually insde(agent, goal)
                                ^^^^^
      help: did you mean 'inside'?

:data:`CODES` is the one list of codes; docs/diagnostics.md documents each one and a
test checks that every code there is produced by its example.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Literal, Optional

from rulec.limits import MAX_DIAGNOSTICS
from rulec.span import Span

#: Every diagnostic code with a one-line title.
CODES: dict[str, str] = {
    # reading and syntax
    "E001": "syntax error",
    "E002": "unexpected character",
    "E003": "unterminated string",
    "E004": "invalid number",
    "E010": "file too large",
    "E011": "nesting too deep",
    "E012": "too many statements",
    "E013": "unreadable file",
    "E014": "quantifiers expand too far",
    # names
    "E101": "undefined name",
    "E102": "unknown function",
    "E103": "duplicate declaration",
    "E104": "reserved or primitive name",
    "E105": "duplicate rule name",
    "E106": "name used before its declaration",
    "E107": "not a function",
    "E108": "function used without arguments",
    "E109": "more than one task header",
    "E110": "quantified variable reuses a name",
    "E111": "too many quantified variables",
    # types and arguments
    "E201": "type mismatch",
    "E202": "wrong number of arguments",
    "E203": "unknown keyword argument",
    "E204": "argument given twice",
    "E205": "invalid colour",
    "E206": "integer expected",
    "E207": "comparison needs a measure",
    "E208": "masks and formulas mixed",
    "E209": "declaration or rule of the wrong type",
    "E210": "`at start` after something that is not a mask",
    "E211": "argument out of range",
    "E212": "threshold too small for float32",
    # windows
    "E301": "empty window",
    "E302": "window outside the video",
    "E303": "negative window bound on a nested operator",
    # rules
    "E401": "no goal rule",
    "E402": "invalid weight",
    # warnings
    "W001": "unused declaration",
    "W002": "no process rule",
    "W003": "declaration matches nothing in the first frame",
    "W004": "quantified variable unused",
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a rules file. ``span`` is ``None`` only for file-level problems."""

    code: str
    severity: Literal["error", "warning"]
    message: str
    span: Optional[Span] = None
    help: Optional[str] = None

    def render(self, source: str = "", file: str | None = None) -> str:
        """``file:line:col: severity[CODE]: message``, the source line, carets, help."""
        return render(self, source, file)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "span": None if self.span is None else self.span.to_json(),
            "help": self.help,
        }


def error(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, "error", message, span, help)


def warning(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, "warning", message, span, help)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """``did you mean 'x'?`` for the closest candidate, if any is close."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _printable(line: str) -> str:
    """The line as shown: tabs and other control characters become one space each,
    so that carets stay aligned."""
    return "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in line)


def render(d: Diagnostic, source: str = "", file: str | None = None) -> str:
    if d.span is None:
        return f"{file or '<rules>'}: {d.severity}[{d.code}]: {d.message}" + (f"\n  help: {d.help}" if d.help else "")
    s = d.span
    out = [f"{file or s.file}:{s.line}:{s.column}: {d.severity}[{d.code}]: {d.message}"]
    lines = source.split("\n")
    if 1 <= s.line <= len(lines):
        line = _printable(lines[s.line - 1])
        start = max(s.column - 1, 0)
        end = s.end_column - 1 if s.end_line == s.line else len(line)
        width = max(1, min(end, len(line)) - start) if start < len(line) else 1
        out.append("    " + line.rstrip())
        out.append("    " + " " * start + "^" * width)
    if d.help:
        out.append(f"  help: {d.help}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], source: str = "", file: str | None = None) -> str:
    return "\n\n".join(render(d, source, file) for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    return (0, 0, d.code) if d.span is None else (d.span.start_pos, d.span.end_pos, d.code)


class RulesError(Exception):
    """Rules that do not compile. ``diagnostics`` holds every error found (sorted by
    position, at most ``MAX_DIAGNOSTICS`` of them); ``warnings`` the warnings;
    ``str()`` is the rendered text a person or a VLM can act on."""

    def __init__(
        self,
        diagnostics: Iterable[Diagnostic],
        source: str = "",
        source_name: str = "<rules>",
        warnings: Iterable[Diagnostic] = (),
    ):
        found = sorted(diagnostics, key=sort_key)
        self.omitted = max(0, len(found) - MAX_DIAGNOSTICS)
        self.diagnostics: list[Diagnostic] = found[:MAX_DIAGNOSTICS]
        self.warnings: list[Diagnostic] = sorted(warnings, key=sort_key)
        self.source = source
        self.source_name = source_name
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.diagnostics) + self.omitted
        text = render_all(self.diagnostics, self.source, self.source_name)
        if self.omitted:
            text += f"\n\n... and {self.omitted} more errors not shown"
        return text + f"\n\n{self.source_name}: {n} error{'s' if n != 1 else ''}"

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return (_rebuild_error, (self.diagnostics, self.source, self.source_name, self.warnings))


def _rebuild_error(diagnostics, source, source_name, warnings):
    return RulesError(diagnostics, source, source_name, warnings)
