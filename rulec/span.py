"""Where a piece of rules text sits in its file: shared by the AST, the IR and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A source range. Lines and columns are 1-based; ``end_column`` is the column just
    past the last character (Lark's convention); ``start_pos``/``end_pos`` are character
    offsets into the text, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start_pos: int
    end_pos: int

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "start_pos": self.start_pos,
            "end_pos": self.end_pos,
        }


def span_at(text: str, pos: int, length: int = 1, file: str = "<rules>") -> Span:
    """The span of ``length`` characters starting at offset ``pos`` in ``text`` (clamped)."""
    pos = max(0, min(pos, len(text)))
    end = max(pos, min(pos + length, len(text)))
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    end_line = text.count("\n", 0, end) + 1
    end_column = end - (text.rfind("\n", 0, end) + 1) + 1
    return Span(file, line, column, end_line, end_column, pos, end)


def join(a: Span, b: Span) -> Span:
    """The smallest span covering both (same file)."""
    first = a if a.start_pos <= b.start_pos else b
    last = a if a.end_pos >= b.end_pos else b
    return Span(a.file, first.line, first.column, last.end_line, last.end_column, first.start_pos, last.end_pos)
