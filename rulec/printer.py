"""Canonical text for rules: the AST printed back so that parsing it gives the same tree.

Parentheses appear exactly where precedence needs them, so ``(a and b) and c`` keeps its
grouping and ``a and b and c`` stays flat. The same precedence-aware helpers render the
labels of graph nodes (see :mod:`rulec.lower`), which is why they work on ``Doc`` pairs
``(text, precedence)`` rather than on AST nodes only.
"""

from __future__ import annotations

from rulec import ast as A

# Precedence levels, loosest first (mirrors grammar/rules.lark).
IMPLIES, OR, AND, SEQUENCE, PREFIX, COMPARE, MINUS, POSTFIX, PRIMARY = range(1, 10)

Doc = tuple[str, int]


def wrap(doc: Doc, at_least: int) -> str:
    """The text of ``doc``, parenthesized if it binds looser than ``at_least``."""
    text, prec = doc
    return text if prec >= at_least else f"({text})"


def number_text(value: int | float) -> str:
    if isinstance(value, bool):  # pragma: no cover - bools never reach here
        value = int(value)
    return str(value) if isinstance(value, int) else repr(float(value))


def window_text(start: str | None, stop: str | None) -> str:
    return f"[{start or ''}:{stop or ''}]"


# ------------------------------------------------------------------ Doc builders
def d_name(name: str) -> Doc:
    return name, PRIMARY


def d_number(value: int | float) -> Doc:
    return number_text(value), PRIMARY


def d_string(value: str) -> Doc:
    return f'"{value}"', PRIMARY


def d_call(func: str, args: list[Doc], keywords: list[tuple[str, Doc]]) -> Doc:
    parts = [wrap(a, IMPLIES) for a in args] + [f"{k}={wrap(v, IMPLIES)}" for k, v in keywords]
    return f"{func}({', '.join(parts)})", PRIMARY


def d_nary(word: str, operands: list[Doc], prec: int) -> Doc:
    return f" {word} ".join(wrap(o, prec + 1) for o in operands), prec


def d_and(operands: list[Doc]) -> Doc:
    return d_nary("and", operands, AND)


def d_or(operands: list[Doc]) -> Doc:
    return d_nary("or", operands, OR)


def d_minus(operands: list[Doc]) -> Doc:
    return " - ".join(wrap(o, POSTFIX) for o in operands), MINUS


def d_implies(left: Doc, right: Doc) -> Doc:
    return f"{wrap(left, OR)} implies {wrap(right, IMPLIES)}", IMPLIES


def d_binary_temporal(word: str, left: Doc, right: Doc, window: str = "") -> Doc:
    return f"{wrap(left, PREFIX)} {word}{window} {wrap(right, SEQUENCE)}", SEQUENCE


def d_prefix(word: str, operand: Doc, window: str = "") -> Doc:
    return f"{word}{window} {wrap(operand, PREFIX)}", PREFIX


def d_compare(left: Doc, op: str, right: Doc) -> Doc:
    return f"{wrap(left, MINUS)} {op} {wrap(right, MINUS)}", COMPARE


def d_freeze(operand: Doc) -> Doc:
    return f"{wrap(operand, PRIMARY)} at start", POSTFIX


# ------------------------------------------------------------------ AST printing
def _window(w: A.Window | None) -> str:
    if w is None:
        return ""
    return window_text(
        None if w.start is None else doc(w.start)[0],
        None if w.stop is None else doc(w.stop)[0],
    )


def doc(e: A.Node) -> Doc:
    """The canonical text of an expression with its precedence."""
    if isinstance(e, A.Name):
        return d_name(e.id)
    if isinstance(e, A.Number):
        return d_number(e.value)
    if isinstance(e, A.String):
        return d_string(e.value)
    if isinstance(e, A.Call):
        return d_call(e.func, [doc(a) for a in e.args], [(k.name, doc(k.value)) for k in e.keywords])
    if isinstance(e, A.Not):
        return d_prefix("not", doc(e.operand))
    if isinstance(e, A.And):
        return d_and([doc(o) for o in e.operands])
    if isinstance(e, A.Or):
        return d_or([doc(o) for o in e.operands])
    if isinstance(e, A.Implies):
        return d_implies(doc(e.left), doc(e.right))
    if isinstance(e, A.Minus):
        return d_minus([doc(o) for o in e.operands])
    if isinstance(e, A.Compare):
        return d_compare(doc(e.left), e.op, doc(e.right))
    if isinstance(e, A.Freeze):
        return d_freeze(doc(e.operand))
    if isinstance(e, A.Always):
        return d_prefix("always", doc(e.operand), _window(e.window))
    if isinstance(e, A.Eventually):
        return d_prefix("eventually", doc(e.operand), _window(e.window))
    if isinstance(e, A.AtStart):
        return d_prefix("at start", doc(e.operand))
    if isinstance(e, A.AtEnd):
        return d_prefix("at end", doc(e.operand))
    if isinstance(e, A.Next):
        return d_prefix("next", doc(e.operand))
    if isinstance(e, A.Prev):
        return d_prefix("prev", doc(e.operand))
    if isinstance(e, A.Progress):
        return d_prefix("progress", doc(e.operand), _window(e.window))
    if isinstance(e, A.Until):
        return d_binary_temporal("until", doc(e.left), doc(e.right), _window(e.window))
    if isinstance(e, A.Then):
        return d_binary_temporal("then", doc(e.left), doc(e.right), _window(e.window))
    raise TypeError(f"not an expression: {type(e).__name__}")


def print_expr(e: A.Node) -> str:
    return doc(e)[0]


def print_statement(s: A.Node) -> str:
    if isinstance(s, A.Task):
        return f"task {s.name}" + ("" if s.instruction is None else f' "{s.instruction}"')
    if isinstance(s, A.Declaration):
        return f"{s.role} {s.name} = {print_expr(s.value)}"
    if isinstance(s, A.Rule):
        weight = "" if s.weight is None else f" weight {number_text(s.weight.value)}"
        return f"{s.kind} {s.name} : {print_expr(s.formula)}{weight}"
    raise TypeError(f"not a statement: {type(s).__name__}")


def print_program(p: A.Program) -> str:
    """Canonical text of a whole file: one statement per line."""
    return "".join(print_statement(s) + "\n" for s in p.statements)
