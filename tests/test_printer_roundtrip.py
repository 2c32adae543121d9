"""Canonical printing: parse -> print -> parse gives the same AST (spans aside), for the
examples, hand-picked tricky formulas and random well-typed programs."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rulec import ast as A
from rulec import compile_rules
from rulec.parser import parse
from rulec.printer import print_expr, print_program

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.rules"))


def roundtrip(program: A.Program) -> A.Program:
    text = print_program(program)
    result = parse(text)
    assert not result.diagnostics, (text, [d.message for d in result.diagnostics])
    return result.program


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_roundtrip(path):
    program = parse(path.read_text()).program
    assert A.strip_spans(roundtrip(program)) == A.strip_spans(program)


@pytest.mark.parametrize("text", [
    "(a and b) and c",
    "a and (b or c)",
    "not (a and b)",
    "(a then b) then c",
    "(a implies b) implies c",
    "always (a until b)",
    "(always a) until b",
    "not (x(a) < 2)",
    "(a - b) at start",
    "not a - (b - c)",
    "at start (a and b)",
    "eventually[-3:] (a or b)",
    "progress[2:] distance(a, b)",
    "x(a) > -0.5",
    "next not prev a",
    "a implies next (b and c)",
    "(next a) until next b",
    "all c, d in a: left_of(c, d) implies x(c) < x(d)",
    "a and (any c in (b - d) at start: c and e)",
    "any c in b at start: c",
    "always (all c in a: present(c)) and b",
    "not (all c in (a or b): c)",
    "at end (any c in a: c implies b)",
])
def test_tricky_formulas_keep_their_structure(text):
    parsed = parse(f"goal g : {text}\n")
    assert not parsed.diagnostics and len(parsed.program.statements) == 1
    assert A.strip_spans(roundtrip(parsed.program)) == A.strip_spans(parsed.program)


def test_canonical_text_is_a_fixed_point():
    text = EXAMPLES[0].read_text()
    once = print_program(parse(text).program)
    assert print_program(parse(once).program) == once


def test_print_expr_parenthesizes_only_where_needed():
    f = parse("goal g : ((a)) and (b and c) or (always (d))\n").program.statements[0].formula
    assert print_expr(f) == "a and (b and c) or always d"


# ---------------------------------------------------------------- random well-typed programs
OBJECTS = ("agent", "block")
REGIONS = ("goal", "walls")
HEXES = ("#e53935", "#43a047", "#000000", "#1e88e5")

ints = st.integers(0, 8)
# Strings are one line without quotes or backslashes (any other character, '#' included).
questions = st.text(st.characters(blacklist_characters='"\\\n\r', blacklist_categories=("Cs",)), max_size=20)
small_pos = st.floats(0.05, 0.95, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))


#: grow/shrink radii: whole pixels (``3px``) or normalized frame units (``0.03``)
radii = st.one_of(ints.map(lambda v: A.Pixels(value=v)),
                  st.floats(0.0, 0.5, allow_nan=False).map(lambda v: A.Number(value=round(v, 3))))


def numbers(strategy):
    return strategy.map(lambda v: A.Number(value=v))


@st.composite
def windows(draw, nested):
    """A window as the checker accepts it where it stands: a bound counting from the video's
    end ("neg") only on a rule's outermost temporal operator, never inside another one (E303)."""
    if draw(st.booleans()):
        return None
    shapes = ["both", "start", "stop", "open"] + ([] if nested else ["neg"])
    shape = draw(st.sampled_from(shapes))
    a = draw(st.integers(0, 6))
    if shape == "both":
        return A.Window(start=A.Number(value=a), stop=A.Number(value=a + draw(st.integers(1, 6))))
    if shape == "start":
        return A.Window(start=A.Number(value=a))
    if shape == "stop":
        return A.Window(stop=A.Number(value=a + 1))
    if shape == "neg":
        return A.Window(start=A.Number(value=-a - 1))
    return A.Window()


def masks(names, depth):
    leaves = [st.sampled_from(names).map(lambda n: A.Name(id=n)),
              st.sampled_from(HEXES).map(lambda h: A.Call(func="color", args=(A.String(value=h),))),
              st.tuples(small_pos, small_pos).map(lambda xy: A.Call(
                  func="box", args=tuple(A.Number(value=v) for v in (0.0, 0.0, *xy))))]
    base = st.one_of(*leaves)
    if depth <= 0:
        return base
    sub = masks(names, depth - 1)
    return st.one_of(
        base,
        sub.map(lambda m: A.Not(operand=m)),
        st.lists(sub, min_size=2, max_size=3).map(lambda ms: A.And(operands=tuple(ms))),
        st.lists(sub, min_size=2, max_size=3).map(lambda ms: A.Or(operands=tuple(ms))),
        st.lists(sub, min_size=2, max_size=3).map(lambda ms: A.Minus(operands=tuple(ms))),
        sub.map(lambda m: A.Freeze(operand=m)),
        st.tuples(st.sampled_from(["grow", "shrink"]), sub, radii).map(
            lambda t: A.Call(func=t[0], args=(t[1], t[2]))),
    )


def signals(names):
    m = masks(names, 1)
    return st.one_of(
        st.tuples(st.sampled_from(["x", "y", "area", "speed"]), m).map(lambda t: A.Call(func=t[0], args=(t[1],))),
        st.tuples(m, m).map(lambda t: A.Call(func="distance", args=t)),
    )


def quantified(names, lets, depth, nested):
    """``all``/``any`` over one or two fresh variables, whose body may use them as objects."""
    def build(head):
        kind, variables = head
        return st.tuples(masks(names, 1), formulas(names + variables, lets, depth - 1, nested, bound=variables)).map(
            lambda t: A.Quantifier(kind=kind, names=tuple(A.Name(id=v) for v in variables), domain=t[0], body=t[1]))
    return st.tuples(st.sampled_from(["all", "any"]), st.sampled_from([("c",), ("c", "d")])).flatmap(build)


def formulas(names, lets, depth, nested=False, bound=()):
    """Random formulas; ``nested`` is True below an operator that shifts the frame; ``bound``:
    the quantified variables in scope (one quantifier at most, so the checker's limits hold)."""
    m = masks(names, 1)
    atoms = [
        st.tuples(m, m).map(lambda t: A.Call(func="inside", args=t)),
        st.tuples(m, m, small_pos).map(lambda t: A.Call(func="inside", args=t[:2], keywords=(
            A.Keyword(name="frac", value=A.Number(value=t[2])),))),
        m.map(lambda x: A.Call(func="present", args=(x,))),
        st.tuples(m, m, small_pos).map(lambda t: A.Call(func="near", args=(t[0], t[1], A.Number(value=t[2])))),
        st.tuples(signals(names), st.sampled_from(["<", ">", "<=", ">="]),
                  st.one_of(numbers(small_pos), numbers(small_pos.map(lambda v: -v)), signals(names)),
                  st.booleans()).map(lambda t: A.Compare(left=t[0], op=t[1], right=t[2]) if t[3]
                                     else A.Compare(left=t[2], op=t[1], right=t[0])),
    ]
    atoms.append(questions.map(lambda q: A.Call(func="ask", args=(A.String(value=q),))))
    if lets:
        atoms.append(st.sampled_from(lets).map(lambda n: A.Name(id=n)))
    base = st.one_of(*atoms)
    if depth <= 0:
        return base
    sub = formulas(names, lets, depth - 1, nested, bound)
    inner = formulas(names, lets, depth - 1, True, bound)
    window = windows(nested)
    return st.one_of(
        base,
        *([] if bound else [quantified(names, lets, depth, nested)]),
        sub.map(lambda f: A.Not(operand=f)),
        st.lists(sub, min_size=2, max_size=3).map(lambda fs: A.And(operands=tuple(fs))),
        st.lists(sub, min_size=2, max_size=3).map(lambda fs: A.Or(operands=tuple(fs))),
        st.tuples(sub, sub).map(lambda t: A.Implies(left=t[0], right=t[1])),
        st.tuples(window, inner).map(lambda t: A.Always(window=t[0], operand=t[1])),
        st.tuples(window, inner).map(lambda t: A.Eventually(window=t[0], operand=t[1])),
        sub.map(lambda f: A.AtStart(operand=f)),
        inner.map(lambda f: A.AtEnd(operand=f)),
        inner.map(lambda f: A.Next(operand=f)),
        inner.map(lambda f: A.Prev(operand=f)),
        st.tuples(window, signals(names)).map(lambda t: A.Progress(window=t[0], operand=t[1])),
        st.tuples(inner, window, inner).map(lambda t: A.Until(left=t[0], window=t[1], right=t[2])),
        st.tuples(inner, window, inner).map(lambda t: A.Then(left=t[0], window=t[1], right=t[2])),
    )


@st.composite
def programs(draw):
    statements = [A.Task(name="t", instruction=draw(st.one_of(st.none(), questions)))]
    statements += [A.Declaration(role="object", name=n, value=A.Call(func="color", args=(A.String(value=h),)))
                   for n, h in zip(OBJECTS, HEXES)]
    statements += [A.Declaration(role="region", name=n, value=draw(masks(OBJECTS, 2))) for n in REGIONS]
    names = OBJECTS + REGIONS
    lets = []
    for i in range(draw(st.integers(0, 2))):
        # a let may be used inside a temporal operator, so it is drawn as nested
        statements.append(A.Declaration(role="let", name=f"p{i}", value=draw(formulas(names, tuple(lets), 2, True))))
        lets.append(f"p{i}")
    for i in range(draw(st.integers(1, 3))):
        weight = draw(st.one_of(st.none(), numbers(st.integers(1, 5)), numbers(small_pos)))
        statements.append(A.Rule(kind="goal" if i == 0 else draw(st.sampled_from(["goal", "process"])),
                                 name=f"r{i}", formula=draw(formulas(names, tuple(lets), 3)), weight=weight))
    return A.Program(statements=tuple(statements))


@given(programs())
def test_random_well_typed_programs_roundtrip_and_compile(program):
    text = print_program(program)
    again = roundtrip(program)
    assert A.strip_spans(again) == A.strip_spans(program)
    compiled = compile_rules(text)
    assert len(compiled.rules) == sum(isinstance(s, A.Rule) for s in program.statements)
