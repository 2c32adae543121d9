"""The grammar and the parser: precedence, spans, keywords as names, one error per statement."""

from pathlib import Path

import pytest

from rulec import ast as A
from rulec.parser import RESERVED, parse, split_statements

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.rules"))


def formula(text: str) -> A.Node:
    result = parse(f"goal g : {text}\n")
    assert not result.diagnostics, [d.message for d in result.diagnostics]
    return A.strip_spans(result.program.statements[0].formula)


def N(x):
    return A.Name(id=x)


def test_grammar_ships_with_the_package():
    from importlib import resources

    text = resources.files("rulec.grammar").joinpath("rules.lark").read_text()
    assert "start:" in text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_parse(path):
    result = parse(path.read_text(), path.name)
    assert result.diagnostics == []
    kinds = [type(s).__name__ for s in result.program.statements]
    assert kinds[0] == "Task" and "Rule" in kinds and "Declaration" in kinds


def test_at_least_six_example_families():
    assert {p.stem for p in EXAMPLES} >= {"navigate", "maze", "hazard", "waypoints", "push", "still"}


def test_prefix_operators_bind_tighter_than_and():
    assert formula("always a and b") == A.And(operands=(A.Always(operand=N("a")), N("b")))
    assert formula("not a or b") == A.Or(operands=(A.Not(operand=N("a")), N("b")))


def test_temporal_operators_cover_comparisons():
    f = formula("always speed(agent) < 0.15")
    assert f == A.Always(operand=A.Compare(left=A.Call(func="speed", args=(N("agent"),)), op="<",
                                           right=A.Number(value=0.15)))


def test_then_and_until_are_right_associative_and_bind_tighter_than_and():
    assert formula("a then b then c") == A.Then(left=N("a"), right=A.Then(left=N("b"), right=N("c")))
    assert formula("a until b and c") == A.And(operands=(A.Until(left=N("a"), right=N("b")), N("c")))


def test_implies_is_right_associative_and_loosest():
    assert formula("a or b implies c implies d") == A.Implies(
        left=A.Or(operands=(N("a"), N("b"))), right=A.Implies(left=N("c"), right=N("d")))


def test_and_chains_are_flat_and_parentheses_keep_grouping():
    assert formula("a and b and c") == A.And(operands=(N("a"), N("b"), N("c")))
    assert formula("(a and b) and c") == A.And(operands=(A.And(operands=(N("a"), N("b"))), N("c")))


def test_windows_are_slices_with_optional_and_negative_bounds():
    f = formula("eventually[-2:] a")
    assert f == A.Eventually(window=A.Window(start=A.Number(value=-2), stop=None), operand=N("a"))
    assert formula("always[:] a").window == A.Window()
    assert formula("a then[1:5] b").window == A.Window(start=A.Number(value=1), stop=A.Number(value=5))


def test_postfix_at_start_freezes_and_prefix_at_start_evaluates():
    assert formula("inside(a, r at start)").args[1] == A.Freeze(operand=N("r"))
    assert formula("at start inside(a, r)") == A.AtStart(operand=A.Call(func="inside", args=(N("a"), N("r"))))
    assert formula("at end p") == A.AtEnd(operand=N("p"))


def test_region_minus_binds_tighter_than_not():
    assert formula("not a - b - c") == A.Not(operand=A.Minus(operands=(N("a"), N("b"), N("c"))))


def test_keywords_are_not_prefixes_of_names():
    assert formula("order and nothing") == A.And(operands=(N("order"), N("nothing")))
    assert formula("always_on") == N("always_on")


def test_statement_keywords_can_name_regions():
    result = parse('region goal = color("#43a047") at start\ngoal reach : inside(agent, goal)\n')
    assert not result.diagnostics
    decl, rule = result.program.statements
    assert decl.name == "goal" and rule.formula.args[1] == A.Name(id="goal", span=rule.formula.args[1].span)


def test_numbers_keep_integer_or_float():
    f = formula("grow(a, 2px) - shrink(b, 1px)")
    assert isinstance(f.operands[0].args[1].value, int)
    assert isinstance(formula("x(a) < 1.0").right.value, float)
    assert formula("x(a) > -0.5").right.value == -0.5


def test_keyword_arguments_and_trailing_comma():
    f = formula('color("#e53935", tol=20,)')
    assert f == A.Call(func="color", args=(A.String(value="#e53935"),),
                       keywords=(A.Keyword(name="tol", value=A.Number(value=20)),))


def test_comments_and_multiline_formulas():
    text = "# header\ngoal g : always (a   # first\n   and b)  # second\n  weight 2\n"
    result = parse(text)
    assert not result.diagnostics
    rule = result.program.statements[0]
    assert rule.weight.value == 2 and isinstance(A.strip_spans(rule.formula).operand, A.And)


def test_spans_are_one_based_and_point_at_the_source():
    text = 'object agent = color("#e53935")\ngoal reach : eventually insde(agent, goal)\n'
    result = parse(text, "m.rules")
    call = result.program.statements[1].formula.operand
    assert (call.span.line, call.span.column) == (2, 25)
    assert text[call.span.start_pos:call.span.end_pos] == "insde(agent, goal)"
    assert (call.func_span.column, call.func_span.end_column) == (25, 30)
    assert call.span.file == "m.rules"
    decl = result.program.statements[0]
    assert text[decl.name_span.start_pos:decl.name_span.end_pos] == "agent"


def test_split_statements_cuts_at_statement_keywords_only():
    chunks = split_statements("# c\nobject a = x\n  and y\ngoal g : p\n")
    assert [c.line for c in chunks] == [1, 2, 4]


def test_each_broken_statement_gives_one_error_and_others_still_parse():
    text = ("object agent = color(\"#e53935\"\n"        # missing )
            "goal a : inside(agent, agent)\n"
            "goal b : eventually\n"                        # missing operand
            "goal c : present(agent) ^ 2\n")               # bad character
    result = parse(text)
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E001", 1), ("E001", 3), ("E002", 4)]
    assert [s.name for s in result.program.statements] == ["a"]
    assert result.broken_names == {"agent"}
    assert result.broken_rule_kinds == {"goal"}


def test_unterminated_string():
    result = parse('object a = color("#e53935)\n')
    (d,) = result.diagnostics
    assert d.code == "E003" and d.span.column == 18


def test_error_message_names_found_and_expected_tokens():
    (d,) = parse("goal reach eventually p\n").diagnostics
    assert d.message == "unexpected 'eventually'; expected ':'"
    (d,) = parse("goal reach : \n").diagnostics
    assert d.message.startswith("unexpected end of statement; expected an expression")


def test_lark_eof_error_without_position_is_still_positioned():
    from lark.exceptions import UnexpectedEOF

    from rulec.parser import _Chunk, _syntax_diagnostic

    text = "goal g :  # nothing yet\n"
    d = _syntax_diagnostic(UnexpectedEOF(["NAME"]), _Chunk(text, 1, 0), text, "f.rules")
    assert d.code == "E001" and (d.span.line, d.span.column) == (1, 8)


def test_next_and_prev_are_prefix_operators_and_reserved_words():
    f = parse("goal g : a implies next b\n").program.statements[0].formula
    assert isinstance(f.right, A.Next) and isinstance(f.right.operand, A.Name)
    g = parse("goal g : prev not a and b\n").program.statements[0].formula
    assert isinstance(g, A.And) and isinstance(g.operands[0], A.Prev)
    assert "next" in RESERVED and "prev" in RESERVED


def test_a_node_table_tells_equal_nodes_apart():
    from rulec.ast import Name, NodeTable

    first, second = Name(id="x"), Name(id="x")
    assert first == second  # nodes compare by content...
    table: NodeTable[int] = NodeTable()
    table[first] = 1
    assert first in table and second not in table and table[first] == 1  # ...the table by identity
