"""Text -> AST. Lark (LALR, contextual lexer, positions) does the parsing; this module turns
Lark's trees into :mod:`rulec.ast` nodes and Lark's exceptions into diagnostics.

To report more than one syntax error per file, the text is cut into statements before
parsing: a statement starts on a line whose first word is a statement keyword (``task``,
``object``, ``region``, ``let``, ``goal``, ``process``), and each is parsed on its own
with the same grammar. A statement that fails to parse yields one diagnostic; the others
are still parsed and checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from rulec import ast as A
from rulec.diagnostics import Diagnostic, error
from rulec.limits import MAX_DEPTH, MAX_NUMBER_CHARS, MAX_SOURCE_CHARS, MAX_STATEMENTS
from rulec.span import Span, span_at

STATEMENT_KEYWORDS = ("task", "object", "region", "let", "goal", "process")
#: Words with a meaning inside formulas; they cannot name a declaration.
RESERVED = frozenset({"not", "and", "or", "implies", "always", "eventually", "at", "until", "then", "progress",
                      "next", "prev"})

_STATEMENT_START = re.compile(r"^[ \t\f\r]*(?:task|object|region|let|goal|process)\b", re.MULTILINE)
_DECLARED_NAME = re.compile(r"^\s*(?:object|region|let)\s+([A-Za-z_][A-Za-z0-9_]*)")
_RULE_KIND = re.compile(r"^\s*(goal|process)\b")


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return resources.files("rulec.grammar").joinpath("rules.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True)


@dataclass
class ParseResult:
    program: A.Program
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Names declared by statements that failed to parse (so later uses are not reported again).
    broken_names: set[str] = field(default_factory=set)
    #: Kinds ("goal", "process") of rules that failed to parse (so "no goal rule" is not reported wrongly).
    broken_rule_kinds: set[str] = field(default_factory=set)


class _ConvertError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


@dataclass(frozen=True)
class _Chunk:
    text: str
    line: int  # 1-based line of the chunk's first character
    pos: int  # offset of the chunk's first character


def split_statements(text: str) -> list[_Chunk]:
    """Cut ``text`` at every line that starts with a statement keyword."""
    starts = [m.start() for m in _STATEMENT_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    chunks = []
    line = 1
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        piece = text[start:end]
        chunks.append(_Chunk(piece, line, start))
        line += piece.count("\n")
    return chunks


class _Converter:
    """Lark tree of one statement chunk -> AST nodes with file-level spans."""

    def __init__(self, file: str, chunk: _Chunk):
        self.file = file
        self.chunk = chunk

    def span(self, item) -> Span | None:
        if isinstance(item, Token):
            line, col, end_line, end_col, start, end = (
                item.line, item.column, item.end_line, item.end_column, item.start_pos, item.end_pos)
        else:
            meta = item.meta
            if meta.empty:
                return None
            line, col, end_line, end_col, start, end = (
                meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos)
        base_line, base_pos = self.chunk.line - 1, self.chunk.pos
        return Span(self.file, line + base_line, col, end_line + base_line, end_col, start + base_pos, end + base_pos)

    def number(self, token: Token, negative: bool, span: Span | None) -> A.Number:
        text = str(token)
        if len(text) > MAX_NUMBER_CHARS:
            raise _ConvertError(error("E004", f"number literal is too long ({len(text)} characters)", span,
                                      f"numbers have at most {MAX_NUMBER_CHARS} characters"))
        value: int | float = int(text) if text.isdigit() else float(text)
        return A.make(A.Number, value=-value if negative else value, span=span)

    def window(self, item) -> A.Window | None:
        if item is None:
            return None
        start, stop = (self.expr(c) if c is not None else None for c in item.children)
        return A.make(A.Window, start=start, stop=stop, span=self.span(item))

    def expr(self, t) -> A.Node:
        span = self.span(t)
        if isinstance(t, Token):  # cannot happen with this grammar; kept for safety
            raise _ConvertError(error("E001", f"unexpected {t!s}", span))
        kind, c = t.data, t.children
        if kind == "name":
            return A.make(A.Name, id=str(c[0]), span=span)
        if kind == "number":
            return self.number(c[0], False, span)
        if kind == "negative_number":
            return self.number(c[0], True, span)
        if kind == "string":
            return A.make(A.String, value=str(c[0])[1:-1], span=span)
        if kind == "call":
            args, keywords = [], []
            for child in c[1:]:
                if child is None:
                    continue
                if isinstance(child, Tree) and child.data == "keyword":
                    keywords.append(A.make(A.Keyword, name=str(child.children[0]), value=self.expr(child.children[1]),
                                              span=self.span(child)))
                else:
                    args.append(self.expr(child))
            return A.make(A.Call, func=str(c[0]), args=tuple(args), keywords=tuple(keywords), span=span,
                          func_span=self.span(c[0]))
        if kind == "not_expr":
            return A.make(A.Not, operand=self.expr(c[0]), span=span)
        if kind == "and_expr":
            return A.make(A.And, operands=tuple(self.expr(x) for x in c), span=span)
        if kind == "or_expr":
            return A.make(A.Or, operands=tuple(self.expr(x) for x in c), span=span)
        if kind == "minus":
            return A.make(A.Minus, operands=tuple(self.expr(x) for x in c), span=span)
        if kind == "implies":
            return A.make(A.Implies, left=self.expr(c[0]), right=self.expr(c[1]), span=span)
        if kind == "compare":
            return A.make(A.Compare, left=self.expr(c[0]), op=str(c[1]), right=self.expr(c[2]), span=span)
        if kind == "freeze":
            return A.make(A.Freeze, operand=self.expr(c[0]), span=span)
        if kind in ("always", "eventually", "progress"):
            cls = {"always": A.Always, "eventually": A.Eventually, "progress": A.Progress}[kind]
            return A.make(cls, window=self.window(c[0]), operand=self.expr(c[1]), span=span)
        if kind == "at_start":
            return A.make(A.AtStart, operand=self.expr(c[0]), span=span)
        if kind == "at_end":
            return A.make(A.AtEnd, operand=self.expr(c[0]), span=span)
        if kind in ("next_expr", "prev_expr"):
            return A.make(A.Next if kind == "next_expr" else A.Prev, operand=self.expr(c[0]), span=span)
        if kind in ("until", "then"):
            cls = A.Until if kind == "until" else A.Then
            return A.make(cls, left=self.expr(c[0]), window=self.window(c[1]), right=self.expr(c[2]), span=span)
        raise _ConvertError(error("E001", f"unexpected construct '{kind}'", span))  # pragma: no cover

    def statement(self, t: Tree) -> A.Node:
        span, c = self.span(t), t.children
        if t.data == "task":
            return A.make(A.Task, name=str(c[0]), instruction=None if c[1] is None else str(c[1])[1:-1], span=span)
        if t.data == "declaration":
            return A.make(A.Declaration, role=str(c[0]), name=str(c[1]), value=self.expr(c[2]), span=span,
                                 name_span=self.span(c[1]))
        if t.data == "rule":
            weight = None if c[3] is None else self.expr(c[3])
            return A.make(A.Rule, kind=str(c[0]), name=str(c[1]), formula=self.expr(c[2]), weight=weight, span=span,
                          name_span=self.span(c[1]))
        raise _ConvertError(error("E001", f"unexpected construct '{t.data}'", span))  # pragma: no cover


def _deepest(tree: Tree) -> tuple[int, Tree]:
    """Depth of a Lark tree and its deepest subtree, without recursion."""
    best, best_tree = 0, tree
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > best:
            best, best_tree = depth, node
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth + 1))
    return best, best_tree


# ------------------------------------------------------------------ syntax errors
_TOKEN_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "CMP": "a comparison ('<' or '>')",
    "$END": "the end of the statement",
}


def _terminal_text(name: str) -> str:
    if name in _TOKEN_NAMES:
        return _TOKEN_NAMES[name]
    for term in lark_parser().terminals:
        if term.name == name:
            value = term.pattern.value
            if term.pattern.type == "re" and value.endswith(r"\b"):
                value = value[:-2]
            return f"'{value}'"
    return name.strip("_").lower()


_STATEMENT_TERMINALS = {"_TASK", "OBJECT", "REGION", "LET", "GOAL", "PROCESS"}


def _expected_text(expected: set[str]) -> str:
    names = set(expected)
    if names & _STATEMENT_TERMINALS:  # a new statement may start here: the current one may end
        names = (names - _STATEMENT_TERMINALS) | {"$END"}
    if "NAME" in names and len(names) > 4:
        rest = sorted(_terminal_text(n) for n in names if n not in _EXPRESSION_STARTS)
        return "an expression" + (f" or {', '.join(rest)}" if rest and len(rest) <= 3 else "")
    texts = sorted(_terminal_text(n) for n in names)
    if len(texts) > 6:
        texts = texts[:6] + ["..."]
    return texts[0] if len(texts) == 1 else "one of " + ", ".join(texts)


_EXPRESSION_STARTS = {"NAME", "NUMBER", "STRING", "LPAR", "MINUS", "_NOT", "_ALWAYS", "_EVENTUALLY", "_AT",
                      "_PROGRESS", "_NEXT", "_PREV"}


def _token_text(token: Token) -> str:
    if token.type == "$END":
        return "end of statement"
    value = str(token)
    if token.type == "NAME":
        return f"name '{value}'"
    if token.type == "NUMBER":
        return f"number {value}"
    if token.type == "STRING":
        return "string " + (value if len(value) <= 30 else value[:27] + '..."')
    return f"'{value}'"


def _syntax_diagnostic(exc: UnexpectedInput, chunk: _Chunk, text: str, file: str) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        pos = chunk.pos + exc.pos_in_stream
        char = text[pos] if pos < len(text) else ""
        if char == '"':
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            return error("E003", "unterminated string", span_at(text, pos, end - pos, file),
                         'a string ends with " on the same line and contains no backslash')
        shown = char if char.isprintable() and char != " " else f"U+{ord(char):04X}" if char else "end of file"
        return error("E002", f"unexpected character '{shown}'", span_at(text, pos, 1, file))
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        token = getattr(exc, "token", None)
        expected = set(getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ())
        if token is None or token.type in ("$END", "<EOF>") or getattr(token, "start_pos", None) is None:
            stripped = _strip_comments(chunk.text).rstrip()
            pos = chunk.pos + max(len(stripped) - 1, 0)
            span = span_at(text, pos, 1, file)
            message = "unexpected end of statement"
        else:
            pos = chunk.pos + token.start_pos
            span = span_at(text, pos, max(len(str(token)), 1), file)
            message = f"unexpected {_token_text(token)}"
        help = None
        if expected:
            message += f"; expected {_expected_text(expected)}"
        if token is not None and token.type != "$END" and "COMMA" in expected and "RPAR" in expected:
            help = "separate arguments with ',' and close the call with ')'"
        elif token is not None and token.type == "EQUAL" and "CMP" in expected:
            help = "comparisons are written '<' or '>'"
        return error("E001", message, span, help)
    pos = chunk.pos  # pragma: no cover - other Lark errors carry no position
    return error("E001", f"cannot parse this statement: {exc}", span_at(text, pos, 1, file))


def _strip_comments(text: str) -> str:
    """The text with ``#`` comments blanked out (strings kept), for locating its end."""
    out, in_string = [], False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            in_string = not in_string
        elif ch == "\n":
            in_string = False
        elif ch == "#" and not in_string:
            nl = text.find("\n", i)
            nl = len(text) if nl < 0 else nl
            out.append(" " * (nl - i))
            i = nl
            continue
        out.append(ch)
        i += 1
    return "".join(out)


# ------------------------------------------------------------------ entry point
def parse(text: str, file: str = "<rules>") -> ParseResult:
    """Parse a whole rules file, collecting one diagnostic per broken statement."""
    result = ParseResult(program=A.make(A.Program, statements=(), span=span_at(text, 0, len(text), file)))
    if len(text) > MAX_SOURCE_CHARS:
        result.diagnostics.append(error(
            "E010", f"rules text is too long ({len(text)} characters)",
            span_at(text, MAX_SOURCE_CHARS, 1, file), f"a rules file has at most {MAX_SOURCE_CHARS} characters"))
        return result
    chunks = split_statements(text)
    if len(chunks) > MAX_STATEMENTS + 1:
        extra = chunks[MAX_STATEMENTS + 1]
        result.diagnostics.append(error(
            "E012", f"too many statements ({len(chunks)})", span_at(text, extra.pos, 1, file),
            f"a rules file has at most {MAX_STATEMENTS} statements"))
        return result
    parser = lark_parser()
    statements: list[A.Node] = []
    for chunk in chunks:
        if not chunk.text.strip():
            continue
        try:
            tree = parser.parse(chunk.text)
        except UnexpectedInput as exc:
            result.diagnostics.append(_syntax_diagnostic(exc, chunk, text, file))
            _remember_broken(chunk, result)
            continue
        except LarkError as exc:  # pragma: no cover - defensive: Lark's own errors always carry positions
            result.diagnostics.append(error("E001", f"cannot parse this statement: {exc}",
                                            span_at(text, chunk.pos, 1, file)))
            _remember_broken(chunk, result)
            continue
        converter = _Converter(file, chunk)
        for st in tree.children:
            depth, deepest = _deepest(st)
            if depth > MAX_DEPTH:
                result.diagnostics.append(error(
                    "E011", f"formula nested too deeply (more than {MAX_DEPTH} levels)",
                    converter.span(deepest) or span_at(text, chunk.pos, 1, file),
                    "split it into named parts with 'let'"))
                _remember_broken(chunk, result)
                continue
            try:
                statements.append(converter.statement(st))
            except _ConvertError as exc:
                result.diagnostics.append(exc.diagnostic)
                _remember_broken(chunk, result)
    result.program = A.make(A.Program, statements=tuple(statements), span=result.program.span)
    return result


def _remember_broken(chunk: _Chunk, result: ParseResult) -> None:
    m = _DECLARED_NAME.match(chunk.text)
    if m:
        result.broken_names.add(m.group(1))
    m = _RULE_KIND.match(chunk.text)
    if m:
        result.broken_rule_kinds.add(m.group(1))
