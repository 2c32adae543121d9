"""Canonical text for rules: the AST printed back so that parsing it gives the same tree.

Parentheses appear exactly where precedence needs them, so ``(a and b) and c`` keeps its
grouping and ``a and b and c`` stays flat. The same precedence-aware helpers render the
labels of graph nodes (see :mod:`rulec.lower`), which is why they work on ``Doc`` pairs
``(text, precedence)`` rather than on AST nodes only.
"""

from __future__ import annotations

from rulec import ast as A
from rulec.windows import window_text

# Precedence levels, loosest first (mirrors grammar/rules.lark).
QUANTIFIER, IMPLIES, OR, AND, SEQUENCE, PREFIX, COMPARE, MINUS, POSTFIX, PRIMARY = range(0, 10)

Doc = tuple[str, int]


def wrap(doc: Doc, at_least: int) -> str:
    """The text of ``doc``, parenthesized if it binds looser than ``at_least``."""
    text, prec = doc
    return text if prec >= at_least else f"({text})"


def number_text(value: int | float) -> str:
    if isinstance(value, bool):  # pragma: no cover - bools never reach here
        value = int(value)
    return str(value) if isinstance(value, int) else repr(float(value))


# ------------------------------------------------------------------ Doc builders
def d_name(name: str) -> Doc:
    return name, PRIMARY


def d_number(value: int | float) -> Doc:
    return number_text(value), PRIMARY


def d_pixels(value: int | float) -> Doc:
    return f"{number_text(value)}px", PRIMARY


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


def d_quantifier(kind: str, names: list[str], domain: Doc, body: Doc) -> Doc:
    return f"{kind} {', '.join(names)} in {wrap(domain, POSTFIX)}: {body[0]}", QUANTIFIER


def d_compare(left: Doc, op: str, right: Doc) -> Doc:
    return f"{wrap(left, MINUS)} {op} {wrap(right, MINUS)}", COMPARE


def d_freeze(operand: Doc) -> Doc:
    return f"{wrap(operand, PRIMARY)} at start", POSTFIX


# ------------------------------------------------------------------ AST printing
def _window(w: A.Window | None) -> str:
    if w is None:
        return ""
    return window_text(None if w.start is None else doc(w.start)[0], None if w.stop is None else doc(w.stop)[0])


def doc(e: A.Node) -> Doc:
    """The canonical text of an expression with its precedence."""
    match e:
        case A.Name(id=name):
            return d_name(name)
        case A.Number(value=value):
            return d_number(value)
        case A.Pixels(value=value):
            return d_pixels(value)
        case A.String(value=value):
            return d_string(value)
        case A.Call(func=func, args=args, keywords=keywords):
            return d_call(func, [doc(a) for a in args], [(k.name, doc(k.value)) for k in keywords])
        case A.Not(operand=operand):
            return d_prefix("not", doc(operand))
        case A.And(operands=operands):
            return d_and([doc(o) for o in operands])
        case A.Or(operands=operands):
            return d_or([doc(o) for o in operands])
        case A.Implies(left=left, right=right):
            return d_implies(doc(left), doc(right))
        case A.Minus(operands=operands):
            return d_minus([doc(o) for o in operands])
        case A.Compare(left=left, op=op, right=right):
            return d_compare(doc(left), op, doc(right))
        case A.Freeze(operand=operand):
            return d_freeze(doc(operand))
        case A.Always(window=window, operand=operand):
            return d_prefix("always", doc(operand), _window(window))
        case A.Eventually(window=window, operand=operand):
            return d_prefix("eventually", doc(operand), _window(window))
        case A.AtStart(operand=operand):
            return d_prefix("at start", doc(operand))
        case A.AtEnd(operand=operand):
            return d_prefix("at end", doc(operand))
        case A.Next(operand=operand):
            return d_prefix("next", doc(operand))
        case A.Prev(operand=operand):
            return d_prefix("prev", doc(operand))
        case A.Progress(window=window, operand=operand):
            return d_prefix("progress", doc(operand), _window(window))
        case A.Until(left=left, right=right, window=window):
            return d_binary_temporal("until", doc(left), doc(right), _window(window))
        case A.Then(left=left, right=right, window=window):
            return d_binary_temporal("then", doc(left), doc(right), _window(window))
        case A.Quantifier(kind=kind, names=names, domain=domain, body=body):
            return d_quantifier(kind, [n.id for n in names], doc(domain), doc(body))
    raise TypeError(f"not an expression: {type(e).__name__}")


def print_expr(e: A.Node) -> str:
    return doc(e)[0]


def print_statement(s: A.Node) -> str:
    match s:
        case A.Task(name=name, instruction=instruction):
            return f"task {name}" + ("" if instruction is None else f' "{instruction}"')
        case A.Declaration(role=role, name=name, value=value):
            return f"{role} {name} = {print_expr(value)}"
        case A.Rule(kind=kind, name=name, formula=formula, weight=weight):
            return f"{kind} {name} : {print_expr(formula)}" + ("" if weight is None else f" weight {number_text(weight.value)}")
    raise TypeError(f"not a statement: {type(s).__name__}")


def print_program(p: A.Program) -> str:
    """Canonical text of a whole file: one statement per line."""
    return "".join(print_statement(s) + "\n" for s in p.statements)
