"""rtamt (the reference STL monitor) as a differential oracle for the Exact semantics.

Random formulas over every STL operator rtamt has (and, or, not, always, eventually, until,
release as its dual, next, prev; nested; bounded and unbounded windows) on random signals:
our robustness must equal rtamt's discrete-time offline monitor at every frame, to 1e-6.
Signals lie in [-1, 1], so our finite neutral fills (+-1 where a window holds no frame) act
exactly like rtamt's +-inf: we compare against rtamt's value clamped to [-1, 1].

Our [a:b] is rtamt's [a, b-1]; [a:] is [a, T]. rtamt is a dev dependency only; without it
these tests are skipped. More examples: HYPOTHESIS_PROFILE=thorough (tests/conftest.py).
"""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from rulec.primitives.semantics import Exact
from strategies import evaluate, margin_tensors

rtamt = pytest.importorskip("rtamt")

ATOMS = 3


def relative_windows(frames: int):
    """Windows rtamt can express: bounds >= 0, bounded or open-ended, possibly past the end."""
    start = st.integers(0, frames - 1)  # a window starting past the video is E301, never evaluated
    return start.flatmap(lambda s: st.tuples(st.just(s), st.one_of(st.none(), st.integers(s + 1, s + frames + 1))))


def stl_formulas(frames: int):
    leaves = st.tuples(st.sampled_from(["atom", "natom"]), st.integers(0, ATOMS - 1))

    def extend(child):
        window = relative_windows(frames)
        return st.one_of(
            st.lists(child, min_size=2, max_size=3).map(lambda xs: ("and", *xs)),
            st.lists(child, min_size=2, max_size=3).map(lambda xs: ("or", *xs)),
            st.tuples(child, window).map(lambda a: ("always", a[0], *a[1], 0)),
            st.tuples(child, window).map(lambda a: ("eventually", a[0], *a[1], 0)),
            st.tuples(child, child, window).map(lambda a: ("until", a[0], a[1], *a[2])),
            st.tuples(child, child, window).map(lambda a: ("release", a[0], a[1], *a[2])),
            child.map(lambda f: ("next", f, 1.0)),
            child.map(lambda f: ("prev", f, 1.0)),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def _interval(start, stop, frames: int) -> str:
    hi = frames if stop is None else stop - 1
    return f"[{start or 0},{hi}]"


def to_rtamt(f, frames: int) -> str:
    """Our formula tuple as rtamt STL text."""
    op = f[0]
    if op == "atom":
        return f"(x{f[1]} > 0)"
    if op == "natom":
        return f"(not (x{f[1]} > 0))"
    if op in ("and", "or"):
        return "(" + f" {op} ".join(to_rtamt(g, frames) for g in f[1:]) + ")"
    if op in ("always", "eventually"):
        return f"({op}{_interval(f[2], f[3], frames)} {to_rtamt(f[1], frames)})"
    if op == "until":
        return f"({to_rtamt(f[1], frames)} until{_interval(f[3], f[4], frames)} {to_rtamt(f[2], frames)})"
    if op == "release":  # rtamt has no release: its definition, not (not A until not B)
        return f"(not ((not {to_rtamt(f[1], frames)}) until{_interval(f[3], f[4], frames)} (not {to_rtamt(f[2], frames)})))"
    if op in ("next", "prev"):
        return f"({op} {to_rtamt(f[1], frames)})"
    raise ValueError(op)


def rtamt_robustness(text: str, signals: torch.Tensor) -> torch.Tensor:
    """rtamt's discrete-time offline robustness at every frame of one (T, ATOMS) signal."""
    spec = rtamt.StlDiscreteTimeOfflineSpecification()
    for k in range(ATOMS):
        spec.declare_var(f"x{k}", "float")
    spec.spec = text
    spec.parse()
    frames = signals.shape[0]
    data = {"time": list(range(frames)), **{f"x{k}": signals[:, k].tolist() for k in range(ATOMS)}}
    out = spec.evaluate(data)
    return torch.tensor([v for _, v in out], dtype=torch.float64)


@st.composite
def cases(draw):
    frames = draw(st.integers(2, 8))  # rtamt 0.4.10 cannot evaluate a one-sample trace
    f = draw(stl_formulas(frames))
    m = draw(margin_tensors(1, frames, ATOMS, bound=1.0))
    return f, m


@given(case=cases())
def test_exact_robustness_equals_rtamt_at_every_frame(case):
    f, m = case
    ours = evaluate(f, Exact(), m).expand(1, m.shape[1])[0]
    theirs = rtamt_robustness(to_rtamt(f, m.shape[1]), m[0])
    assert theirs.shape == ours.shape
    torch.testing.assert_close(ours, theirs.clamp(-1.0, 1.0), atol=1e-6, rtol=0)


@given(frames=st.integers(2, 8), data=st.data())
def test_an_outermost_negative_window_is_rtamts_absolute_interval_at_frame_0(frames, data):
    """eventually[-k:] / always[a:-k] on a rule's outermost operator: absolute frames at frame 0."""
    lo = data.draw(st.integers(0, frames - 1))
    hi = data.draw(st.integers(lo + 1, frames))
    start, stop = data.draw(st.sampled_from([(lo - frames, None if hi == frames else hi - frames), (lo, hi - frames if hi < frames else None)]))
    op = data.draw(st.sampled_from(["always", "eventually", "until"]))
    m = data.draw(margin_tensors(1, frames, ATOMS, bound=1.0))
    if op == "until":
        f = ("until", ("atom", 0), ("atom", 1), start, stop)
        text = f"((x0 > 0) until[{lo},{hi - 1}] (x1 > 0))"
    else:
        f = (op, ("atom", 0), start, stop, 0)
        text = f"({op}[{lo},{hi - 1}] (x0 > 0))"
    ours = evaluate(f, Exact(), m)[0, 0]
    theirs = rtamt_robustness(text, m[0])[0]
    assert math.isclose(float(ours), float(theirs.clamp(-1, 1)), abs_tol=1e-6)


def test_the_response_rule_of_the_issue_agrees_with_rtamt():
    """always (x > 0 implies eventually[0:11] y > 0): rtamt's [0, 10]; the absolute reading was 0.5 off."""
    g = torch.Generator().manual_seed(3)
    m = (torch.rand(1, 60, ATOMS, generator=g, dtype=torch.float64) * 2 - 1)
    f = ("always", ("or", ("natom", 0), ("eventually", ("atom", 1), 0, 11, 0)), None, None, 0)
    theirs = rtamt_robustness("(always ((not (x0 > 0)) or (eventually[0,10] (x1 > 0))))", m[0])
    torch.testing.assert_close(evaluate(f, Exact(), m)[0], theirs.clamp(-1, 1), atol=1e-6, rtol=0)


# ------------------------------------------------------------------ rtamt users' pitfalls
RESPONSE = ('object agent = color("#e53935")\nregion goal = color("#43a047") at start\n'
            "goal reach : always (present(agent) implies eventually[0:4] inside(agent, goal))\n"
            "process steady : always (present(agent) implies next present(agent))\n")


def _videos():
    g = torch.Generator().manual_seed(0)
    return torch.rand(2, 9, 3, 12, 12, generator=g), torch.rand(2, 9, 3, 12, 12, generator=g)


def test_no_state_survives_between_runs():
    """Same video, same result, whatever was scored in between (rtamt's monitors needed reset())."""
    from rulec import compile_rules

    reward = compile_rules(RESPONSE).to_reward()
    first, other = _videos()
    before = reward(first)
    reward(other)
    after = reward(first)
    for r0, r1 in zip(before.rules, after.rules):
        assert torch.equal(r0.exact, r1.exact) and torch.equal(r0.smooth, r1.smooth)


def test_a_let_gives_the_same_values_as_the_formula_written_in_place():
    """rtamt's sub-specifications changed results against inlined formulas; a let never does."""
    from rulec import compile_rules

    named = RESPONSE.replace("goal reach : always (present(agent) implies eventually[0:4] inside(agent, goal))",
                             "let soon = eventually[0:4] inside(agent, goal)\nlet response = present(agent) implies soon\n"
                             "goal reach : always response")
    video, _ = _videos()
    a, b = compile_rules(RESPONSE).to_reward()(video), compile_rules(named).to_reward()(video)
    for ra, rb in zip(a.rules, b.rules):
        assert torch.equal(ra.exact, rb.exact) and torch.equal(ra.smooth, rb.smooth)


def test_unbounded_operators_nest_and_a_window_that_cannot_be_nested_is_a_positioned_error():
    """rtamt users met unclear errors for unbounded operators; ours nest freely, and the one
    window that cannot (a negative bound under another operator) gets E303 at its position."""
    from rulec import RulesError, compile_rules

    ok = compile_rules('object a = color("#e53935")\ngoal g : always eventually present(a)\n'
                       "process p : always (present(a) until always present(a))\n")
    video, _ = _videos()
    assert all(torch.isfinite(r.smooth).all() for r in ok.to_reward()(video).rules)
    with pytest.raises(RulesError) as err:
        compile_rules('object a = color("#e53935")\ngoal g : always eventually[-2:] present(a)\n')
    (d,) = err.value.diagnostics
    assert d.code == "E303" and (d.span.line, d.span.column) == (2, 27)
    assert "[0:2]" in d.help and "own" in d.help
