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

#: Words with a meaning inside formulas; they cannot name a declaration.
RESERVED = frozenset({"not", "and", "or", "implies", "always", "eventually", "at", "until", "then", "progress",
                      "next", "prev", "all", "any"})

#: The first word of each statement (grammar/rules.lark), by what the statement is.
_DECLARATION_WORDS = "object|region|let"
_RULE_WORDS = "goal|process"
_STATEMENT_START = re.compile(rf"^[ \t\f\r]*(?:task|{_DECLARATION_WORDS}|{_RULE_WORDS})\b", re.MULTILINE)
_DECLARED_NAME = re.compile(rf"^\s*(?:{_DECLARATION_WORDS})\s+([A-Za-z_][A-Za-z0-9_]*)")
_RULE_KIND = re.compile(rf"^\s*({_RULE_WORDS})\b")


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

    def pixels(self, token: Token, negative: bool, span: Span | None) -> A.Pixels:
        number = self.number(Token("NUMBER", str(token)[:-2]), negative, span)
        return A.make(A.Pixels, value=number.value, span=span)

    def window(self, item) -> A.Window | None:
        if item is None:
            return None
        start, stop = (self.expr(c) if c is not None else None for c in item.children)
        return A.make(A.Window, start=start, stop=stop, span=self.span(item))

    def expr(self, t) -> A.Node:
        span = self.span(t)
        match t:
            case Token():  # cannot happen with this grammar; kept for safety
                raise _ConvertError(error("E001", f"unexpected {t!s}", span))
            case Tree(data="name", children=[name]):
                return A.make(A.Name, id=str(name), span=span)
            case Tree(data="number", children=[digits]):
                return self.number(digits, False, span)
            case Tree(data="negative_number", children=[digits]):
                return self.number(digits, True, span)
            case Tree(data="pixels", children=[digits]):
                return self.pixels(digits, False, span)
            case Tree(data="negative_pixels", children=[digits]):
                return self.pixels(digits, True, span)
            case Tree(data="string", children=[text]):
                return A.make(A.String, value=str(text)[1:-1], span=span)
            case Tree(data="call", children=[func, *arguments]):
                return self.call(func, arguments, span)
            case Tree(data="not_expr", children=[operand]):
                return A.make(A.Not, operand=self.expr(operand), span=span)
            case Tree(data="and_expr", children=operands):
                return A.make(A.And, operands=tuple(self.expr(x) for x in operands), span=span)
            case Tree(data="or_expr", children=operands):
                return A.make(A.Or, operands=tuple(self.expr(x) for x in operands), span=span)
            case Tree(data="minus", children=operands):
                return A.make(A.Minus, operands=tuple(self.expr(x) for x in operands), span=span)
            case Tree(data="implies", children=[left, right]):
                return A.make(A.Implies, left=self.expr(left), right=self.expr(right), span=span)
            case Tree(data="compare", children=[left, op, right]):
                return A.make(A.Compare, left=self.expr(left), op=str(op), right=self.expr(right), span=span)
            case Tree(data="freeze", children=[operand]):
                return A.make(A.Freeze, operand=self.expr(operand), span=span)
            case Tree(data="always" | "eventually" | "progress" as kind, children=[window, operand]):
                cls = {"always": A.Always, "eventually": A.Eventually, "progress": A.Progress}[kind]
                return A.make(cls, window=self.window(window), operand=self.expr(operand), span=span)
            case Tree(data="at_start", children=[operand]):
                return A.make(A.AtStart, operand=self.expr(operand), span=span)
            case Tree(data="at_end", children=[operand]):
                return A.make(A.AtEnd, operand=self.expr(operand), span=span)
            case Tree(data="next_expr", children=[operand]):
                return A.make(A.Next, operand=self.expr(operand), span=span)
            case Tree(data="prev_expr", children=[operand]):
                return A.make(A.Prev, operand=self.expr(operand), span=span)
            case Tree(data="quantified", children=[kind, *names, domain, body]):
                bound = tuple(A.make(A.Name, id=str(n), span=self.span(n)) for n in names)
                return A.make(A.Quantifier, kind=str(kind), names=bound, domain=self.expr(domain), body=self.expr(body),
                              span=span)
            case Tree(data="until" | "then" as kind, children=[left, window, right]):
                cls = A.Until if kind == "until" else A.Then
                return A.make(cls, left=self.expr(left), window=self.window(window), right=self.expr(right), span=span)
        raise _ConvertError(error("E001", f"unexpected construct '{t.data}'", span))  # pragma: no cover

    def call(self, func: Token, arguments: list, span: Span | None) -> A.Call:
        """``func(...)``: positional arguments and ``name=value`` keywords, in the order written."""
        args, keywords = [], []
        for argument in arguments:
            match argument:
                case None:  # the grammar's optional argument list, absent
                    continue
                case Tree(data="keyword", children=[name, value]):
                    keywords.append(A.make(A.Keyword, name=str(name), value=self.expr(value), span=self.span(argument)))
                case _:
                    args.append(self.expr(argument))
        return A.make(A.Call, func=str(func), args=tuple(args), keywords=tuple(keywords), span=span,
                      func_span=self.span(func))

    def statement(self, t: Tree) -> A.Node:
        span = self.span(t)
        match t:
            case Tree(data="task", children=[name, instruction]):
                return A.make(A.Task, name=str(name), instruction=None if instruction is None else str(instruction)[1:-1],
                              span=span)
            case Tree(data="declaration", children=[role, name, value]):
                return A.make(A.Declaration, role=str(role), name=str(name), value=self.expr(value), span=span,
                              name_span=self.span(name))
            case Tree(data="rule", children=[kind, name, formula, weight]):
                return A.make(A.Rule, kind=str(kind), name=str(name), formula=self.expr(formula),
                              weight=None if weight is None else self.expr(weight), span=span, name_span=self.span(name))
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
    "PIXELS": "a length in pixels",
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


_EXPRESSION_STARTS = {"NAME", "NUMBER", "PIXELS", "STRING", "LPAR", "MINUS", "_NOT", "_ALWAYS", "_EVENTUALLY", "_AT",
                      "_PROGRESS", "_NEXT", "_PREV", "ALL", "ANY"}


def _token_text(token: Token) -> str:
    if token.type == "$END":
        return "end of statement"
    value = str(token)
    if token.type == "NAME":
        return f"name '{value}'"
    if token.type == "NUMBER":
        return f"number {value}"
    if token.type == "PIXELS":
        return f"length {value}"
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
