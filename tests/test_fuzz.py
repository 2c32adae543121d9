"""Hostile input never escapes as anything but a RulesError with positioned diagnostics.

benchmarks/fuzz_compiler.py runs the same property over 100k+ inputs."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rulec import RulesError, compile_rules
from support.fuzzing import deep_nesting, escape, example_texts, mutate, random_text
from rulec.limits import MAX_DEPTH, MAX_SOURCE_CHARS

SEEDS = example_texts()


@given(st.text(max_size=300))
def test_random_unicode_text(text):
    assert escape(text) is None


@given(st.binary(max_size=300))
def test_random_bytes(data):
    assert escape(data.decode("utf-8", errors="surrogateescape")) is None


@given(st.integers(0, 2**32 - 1))
def test_random_token_soup(seed):
    assert escape(random_text(random.Random(seed))) is None


@settings(max_examples=150)
@given(st.integers(0, 2**32 - 1), st.sampled_from(range(len(SEEDS))))
def test_mutated_examples(seed, which):
    rng = random.Random(seed)
    assert escape(mutate(SEEDS[which], rng), num_frames=rng.choice((None, 1, 4, 16))) is None


@settings(max_examples=25)
@given(st.integers(0, 2**32 - 1))
def test_deep_nesting_generator(seed):
    assert escape(deep_nesting(random.Random(seed))) is None


HEAD = 'object agent = color("#e53935")\nregion goal = color("#43a047") at start\n'


@pytest.mark.parametrize("formula", [
    "not " * 5000 + "present(agent)",
    "always " * 3000 + "present(agent)",
    " then ".join(["present(agent)"] * 3000),
    "inside(" * 3000 + "agent" + ", goal)" * 3000,
])
def test_deep_or_long_formulas_are_diagnostics_not_recursion_errors(formula):
    with pytest.raises(RulesError) as err:
        compile_rules(HEAD + f"goal g : {formula}\n")
    assert err.value.diagnostics[0].code == "E011"


def test_long_flat_chains_are_fine():
    c = compile_rules(HEAD + "goal g : " + " and ".join(["present(agent)"] * 2000) + "\n")
    assert len(c.nodes[c.rule("g").root].args) == 2000
    c = compile_rules(HEAD + "goal g : present(" + " or ".join(["agent"] * 2000) + ")\n")
    assert c.nodes[-1].op == "present"
    c = compile_rules(HEAD + "goal g : present(" + " - ".join(["agent"] * 3000) + ")\n")
    assert c.nodes[-1].op == "present"
    c = compile_rules(HEAD + "goal g : " + "(" * 5000 + "present(agent)" + ")" * 5000 + "\n")
    assert c.nodes[-1].op == "present"


def test_let_chains_count_towards_depth():
    lets = "".join(f"let p{i} = not p{i - 1}\n" if i else "let p0 = present(agent)\n" for i in range(MAX_DEPTH + 5))
    with pytest.raises(RulesError) as err:
        compile_rules(HEAD + lets + f"goal g : p{MAX_DEPTH + 4}\n")
    assert {d.code for d in err.value.diagnostics} == {"E011"}
    lets_ok = "".join(f"let p{i} = not p{i - 1}\n" if i else "let p0 = present(agent)\n" for i in range(40))
    compile_rules(HEAD + lets_ok + "goal g : p39 and not p39\nprocess q : always p20\n")


def test_exponential_let_sharing_stays_linear():
    lets = "let p0 = present(agent)\n" + "".join(f"let p{i} = p{i - 1} and not p{i - 1}\n" for i in range(1, 25))
    c = compile_rules(HEAD + lets + "goal g : p24 or not p24\n")
    assert len(c.nodes) < 400


def test_size_limit():
    with pytest.raises(RulesError) as err:
        compile_rules("#" * (MAX_SOURCE_CHARS + 1))
    assert [d.code for d in err.value.diagnostics] == ["E010"]


def test_huge_numbers():
    for number in ("9" * 5000, "1e999", "1" + "0" * 39):
        with pytest.raises(RulesError) as err:
            compile_rules(HEAD + f"goal g : speed(agent) < {number}\n")
        assert err.value.diagnostics[0].code == "E004"
