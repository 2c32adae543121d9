"""Diagnostics: golden text for every code, several errors at once, no follow-on noise,
and docs/diagnostics.md kept identical to what the examples produce.

Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change."""

import os
import pickle
from pathlib import Path

import pytest

from rulec import Diagnostic, RulesError, compile_rules
from support.diagnostic_examples import EXAMPLES, diagnostics_of, page, rendered
from rulec.diagnostics import CODES

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def check_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_every_code_has_exactly_one_example():
    assert sorted(ex.code for ex in EXAMPLES) == sorted(CODES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda ex: ex.code)
def test_example_produces_its_code_and_nothing_else(example):
    found, _ = diagnostics_of(example)
    errors = [d.code for d in found if d.severity == "error"]
    if example.code.startswith("E"):
        assert errors == [example.code]
    else:
        assert errors == [] and example.code in [d.code for d in found]
    for d in found:
        assert d.span is not None or d.code == "E013"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda ex: ex.code)
def test_golden_text_of_each_code(example):
    check_golden(GOLDEN / "diagnostics" / f"{example.code}.txt", rendered(example) + "\n")


def test_docs_page_is_up_to_date():
    doc = ROOT / "docs" / "diagnostics.md"
    if UPDATE:
        doc.write_text(page())
    assert doc.read_text() == page(), "regenerate: python tests/support/diagnostic_examples.py > docs/diagnostics.md"


def test_three_mistakes_are_all_reported_with_spans():
    path = GOLDEN / "three_mistakes.rules"
    with pytest.raises(RulesError) as err:
        compile_rules(path, name="three_mistakes.rules")
    e = err.value
    assert [(d.code, d.span.line, d.span.column) for d in e.diagnostics] == [
        ("E102", 5, 29), ("E201", 6, 25), ("E301", 7, 24)]
    check_golden(GOLDEN / "three_mistakes.txt", str(e) + "\n")


def test_rendering_format():
    text = 'object agent = color("#e53935")\ngoal reach : eventually insde(agent, goal)\n'
    with pytest.raises(RulesError) as err:
        compile_rules(text, name="maze.rules")
    assert str(err.value).split("\n")[:4] == [
        "maze.rules:2:25: error[E102]: unknown function 'insde'",
        "    goal reach : eventually insde(agent, goal)",
        "                            ^^^^^",
        "  help: did you mean 'inside'?",
    ]


def test_no_follow_on_errors_from_a_broken_declaration():
    text = ('object agent = color("#e5393")\n'          # E205: its uses are not reported again
            'region goal = color("#43a047" at start\n'   # E001: its uses are not reported again
            "goal reach : at end inside(agent, goal)\nprocess p : always present(agent)\n")
    with pytest.raises(RulesError) as err:
        compile_rules(text)
    assert [d.code for d in err.value.diagnostics] == ["E205", "E001"]


def test_broken_goal_rule_does_not_also_report_missing_goal():
    with pytest.raises(RulesError) as err:
        compile_rules('object a = color("#e53935")\ngoal g : eventually\nprocess p : always present(a)\n')
    assert [d.code for d in err.value.diagnostics] == ["E001"]


def test_many_errors_in_one_run_sorted_by_position():
    lines = ['object agent = color("#e53935")'] + [f"goal g{i} : insid(agent, agent)" for i in range(10)]
    with pytest.raises(RulesError) as err:
        compile_rules("\n".join(lines))
    lines_seen = [d.span.line for d in err.value.diagnostics]
    assert lines_seen == list(range(2, 12))


def test_diagnostic_count_is_capped_but_counted():
    lines = ['object agent = color("#e53935")'] + [f"goal g{i} : insid(agent, agent)" for i in range(80)]
    with pytest.raises(RulesError) as err:
        compile_rules("\n".join(lines))
    assert len(err.value.diagnostics) == 50 and err.value.omitted == 30
    assert "and 30 more errors not shown" in str(err.value)


def test_warnings_do_not_fail_and_are_kept():
    c = compile_rules('object agent = color("#e53935")\nregion spare = box(0, 0, 1, 1)\n'
                      "goal g : present(agent)\n")
    assert sorted(w.code for w in c.warnings) == ["W001", "W002"]
    assert all(isinstance(w, Diagnostic) and w.severity == "warning" for w in c.warnings)


def test_shadowing_reserved_and_self_reference():
    with pytest.raises(RulesError) as err:
        compile_rules("let always = present(x)\nlet p = p\nobject area = box(0,0,1,1)\ngoal g : p\n")
    codes = [(d.code, d.message) for d in err.value.diagnostics]
    assert ("E104", "'always' is a keyword and cannot name a let") in codes
    assert ("E106", "'p' is used in its own declaration") in codes
    assert ("E104", "object 'area' would hide the function 'area'") in codes


def test_argument_checks():
    text = ('object a = color("#e53935")\nobject b = color("#e53935", tol=-1)\n'
            "region r = grow(a, 1.5px)\n"
            "goal g : inside(a, a, 0.5, 0.3, 2)\n"
            "goal h : present(a, min_area=speed(a))\n"
            'goal k : ask(3) and present(box(0, 0, 2, 1))\n'
            'goal m : inside(a, r=a, o=a)\n')
    with pytest.raises(RulesError) as err:
        compile_rules(text)
    found = [(d.code, d.span.line) for d in err.value.diagnostics]
    assert found == [("E211", 2), ("E206", 3), ("E202", 4), ("E201", 5), ("E201", 6), ("E211", 6), ("E204", 7)]


def test_rules_error_pickles():
    with pytest.raises(RulesError) as err:
        compile_rules("goal g : nothing\n")
    again = pickle.loads(pickle.dumps(err.value))
    assert str(again) == str(err.value) and again.diagnostics == err.value.diagnostics
