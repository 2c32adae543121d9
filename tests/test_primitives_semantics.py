"""Property tests of the two semantics over random margins and random formula trees."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, strategies as st

from rulec.primitives.semantics import Exact, Smooth
from strategies import (
    RefExact,
    RefSmooth,
    evaluate,
    formulas,
    margin_tensors,
    negate,
    reference_tensor,
    weighted_depth,
)

BETAS = st.sampled_from([1.0, 3.0, 10.0, 50.0])
SIZES = st.tuples(st.integers(1, 3), st.integers(1, 7), st.integers(1, 3))  # B, T, atoms


@st.composite
def formula_and_margins(draw, negated_leaves=True):
    b, t, k = draw(SIZES)
    f = draw(formulas(t, k, negated_leaves=negated_leaves))
    return f, draw(margin_tensors(b, t, k))


# ------------------------------------------------------------------ aggregators
@given(x=margin_tensors(2, 9, 1).map(lambda m: m[..., 0]), beta=BETAS, n=st.integers(1, 9))
def test_soft_min_lies_within_log_n_over_beta_below_min(x, beta, n):
    x = x[:, :n]
    soft, hard = Smooth(beta).min(x, 1), x.amin(1)
    assert torch.all(soft <= hard + 1e-12)
    assert torch.all(soft >= hard - math.log(n) / beta - 1e-12)


@given(x=margin_tensors(2, 9, 1).map(lambda m: m[..., 0]), beta=BETAS, n=st.integers(1, 9))
def test_log_mean_exp_lies_between_mean_and_max(x, beta, n):
    x = x[:, :n]
    soft = Smooth(beta).max(x, 1)
    assert torch.all(soft <= x.amax(1) + 1e-12)
    assert torch.all(soft >= x.mean(1) - 1e-12)
    assert torch.all(soft >= x.amax(1) - math.log(n) / beta - 1e-12)


@given(x=margin_tensors(2, 8, 1).map(lambda m: m[..., 0]), beta=BETAS, valid=st.lists(st.booleans(), min_size=8, max_size=8))
def test_masked_reductions_equal_reductions_over_the_valid_entries(x, beta, valid):
    mask = torch.tensor(valid)
    for sem in (Exact(), Smooth(beta)):
        got_min = sem.min(x, 1, valid=mask)
        got_max = sem.max(x, 1, valid=mask)
        if mask.any():
            torch.testing.assert_close(got_min, sem.min(x[:, mask], 1))
            torch.testing.assert_close(got_max, sem.max(x[:, mask], 1))
        else:  # the neutral fills of an empty range
            assert torch.all(got_min == 1.0) and torch.all(got_max == -1.0)


@given(x=margin_tensors(2, 8, 1).map(lambda m: m[..., 0]), beta=BETAS)
def test_suffix_reductions_equal_reductions_of_each_suffix(x, beta):
    for sem in (Exact(), Smooth(beta)):
        smin, smax = sem.suffix_min(x, 1), sem.suffix_max(x, 1)
        for k in range(x.shape[1]):
            torch.testing.assert_close(smin[:, k], sem.min(x[:, k:], 1))
            torch.testing.assert_close(smax[:, k], sem.max(x[:, k:], 1))


# ------------------------------------------------------------------ formulas
@given(case=formula_and_margins(), beta=BETAS)
def test_smooth_never_exceeds_exact(case, beta):
    f, m = case
    assert torch.all(evaluate(f, Smooth(beta), m) <= evaluate(f, Exact(), m) + 1e-9)


@given(case=formula_and_margins(), beta=BETAS)
def test_smooth_converges_to_exact_within_depth_log_n_over_beta(case, beta):
    f, m = case
    n = max(m.shape[1], 3)
    gap = evaluate(f, Exact(), m) - evaluate(f, Smooth(beta), m)
    assert torch.all(gap <= weighted_depth(f) * math.log(n) / beta + 1e-9)


@given(case=formula_and_margins(negated_leaves=False), beta=BETAS, data=st.data())
def test_raising_any_atom_never_lowers_robustness(case, beta, data):
    f, m = case
    raise_by = data.draw(margin_tensors(*m.shape, bound=2.0)).abs()
    for sem in (Exact(), Smooth(beta)):
        assert torch.all(evaluate(f, sem, m + raise_by) >= evaluate(f, sem, m) - 1e-9)


@given(case=formula_and_margins())
def test_negation_pushed_to_atoms_negates_exact_robustness(case):
    f, m = case
    torch.testing.assert_close(evaluate(negate(f), Exact(), m), -evaluate(f, Exact(), m))


@given(case=formula_and_margins())
def test_double_negation_is_the_identity(case):
    f, m = case
    assert negate(negate(f)) == f
    torch.testing.assert_close(evaluate(negate(negate(f)), Exact(), m), evaluate(f, Exact(), m))


@given(m=margin_tensors(2, 6, 1), beta=BETAS, start=st.sampled_from([None, 1, -2]))
def test_not_eventually_is_always_not(m, beta, start):
    f = ("eventually", ("atom", 0), start, None, 0)
    g = ("always", ("natom", 0), start, None, 0)
    torch.testing.assert_close(-evaluate(f, Exact(), m), evaluate(g, Exact(), m))
    # smoothly the two are lower bounds of opposite quantities: they bracket the exact value
    assert torch.all(evaluate(g, Smooth(beta), m) <= -evaluate(f, Smooth(beta), m) + 1e-9)


@given(case=formula_and_margins(), beta=BETAS)
def test_vectorized_formulas_equal_the_per_frame_reference(case, beta):
    f, m = case
    torch.testing.assert_close(evaluate(f, Exact(), m), reference_tensor(f, RefExact(), m))
    torch.testing.assert_close(evaluate(f, Smooth(beta), m), reference_tensor(f, RefSmooth(beta), m))


@given(case=formula_and_margins(), beta=BETAS)
def test_batched_evaluation_equals_one_sample_at_a_time(case, beta):
    f, m = case
    for sem in (Exact(), Smooth(beta)):
        batched = evaluate(f, sem, m)
        for i in range(m.shape[0]):
            torch.testing.assert_close(batched[i : i + 1], evaluate(f, sem, m[i : i + 1]))


@given(case=formula_and_margins(), beta=BETAS)
def test_evaluating_twice_gives_the_same_result(case, beta):
    f, m = case
    for sem in (Exact(), Smooth(beta)):
        assert torch.equal(evaluate(f, sem, m), evaluate(f, sem, m))


@given(case=formula_and_margins(), beta=BETAS)
def test_gradients_are_finite_for_every_formula(case, beta):
    f, m = case
    m = m.clone().requires_grad_(True)
    evaluate(f, Smooth(beta), m).sum().backward()
    assert torch.isfinite(m.grad).all()


def test_smooth_rejects_a_non_positive_beta():
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="beta"):
            Smooth(bad)


def test_semantics_are_values():
    assert Smooth(10) == Smooth(10.0) and Smooth(10) != Smooth(5) and Exact() == Exact()
    assert Exact().is_exact and not Smooth().is_exact and Smooth().beta == 10.0
