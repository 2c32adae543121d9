"""Temporal operators: vectorized kernels against per-frame reference loops (values and
float64 gradients), the compiler's lowerings of `then` and `progress`, windows."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, strategies as st

from rulec.primitives.conventions import DECREASE_SCALE, DECREASE_TOL
from rulec.primitives.kernels import KERNELS
from rulec.primitives.semantics import Exact, Smooth
from rulec.primitives.temporal import WindowError
from strategies import RefExact, RefSmooth, distinct, evaluate, margin_tensors, reference_tensor, window_frames, windows

BETAS = st.sampled_from([1.0, 5.0, 20.0])


@st.composite
def operator_cases(draw):
    """One temporal operator applied to atoms 0 (and 1), with a valid window."""
    t = draw(st.integers(2, 6))
    m = draw(margin_tensors(draw(st.integers(1, 2)), t, 2))
    start, stop = draw(windows(t))
    op = draw(st.sampled_from(["always", "eventually", "until", "release", "at_start", "at_end"]))
    if op in ("always", "eventually"):
        f = (op, ("atom", 0), start, stop, draw(st.integers(0, 1)))
    elif op in ("until", "release"):
        f = (op, ("atom", 0), ("atom", 1), start, stop)
    else:
        f = (op, ("atom", 0))
    return f, distinct(m)


def _kernel_of(f):
    """The formula as a function of the margins tensor, through the kernels."""
    return lambda sem: (lambda m: evaluate(f, sem, m))


def _grad(y, x, weights):
    """d(sum(weights * y))/dx; zeros where y does not depend on x (e.g. an empty range)."""
    if not y.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad((y * weights).sum(), x, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


@given(case=operator_cases(), beta=BETAS)
def test_each_operator_equals_its_reference_loop_in_value_and_gradient(case, beta):
    f, m = case
    for sem, ref in ((Exact(), RefExact()), (Smooth(beta), RefSmooth(beta))):
        fn = _kernel_of(f)(sem)
        x = m.clone().requires_grad_(True)
        y = fn(x)
        x_ref = m.clone().requires_grad_(True)
        y_ref = reference_tensor(f, ref, x_ref)
        torch.testing.assert_close(y, y_ref)
        weights = torch.linspace(0.5, 1.5, y.numel(), dtype=y.dtype).reshape(y.shape)
        torch.testing.assert_close(_grad(y, x, weights), _grad(y_ref, x_ref, weights))


@given(case=operator_cases(), beta=BETAS)
def test_smooth_operators_pass_float64_gradcheck(case, beta):
    f, m = case
    fn = _kernel_of(f)(Smooth(beta))
    assert torch.autograd.gradcheck(fn, (m.clone().requires_grad_(True),))


@given(case=operator_cases())
def test_exact_operators_pass_float64_gradcheck_away_from_ties(case):
    f, m = case
    fn = _kernel_of(f)(Exact())
    # distinct() spaces values >= 1e-3/n apart: finite differences of 1e-7 never cross a tie
    assert torch.autograd.gradcheck(fn, (m.clone().requires_grad_(True),), eps=1e-7, atol=1e-5)


# ------------------------------------------------------------------ lowerings
def then_lowered(sem, a, b, start, stop):
    """The compiler's lowering of `A then B` over window [start:stop]."""
    later_b = KERNELS["eventually"](sem, b, None, None, 1)
    return KERNELS["eventually"](sem, KERNELS["and"](sem, a, later_b), start, stop, 0)


def then_reference(ref, a, b, start, stop):
    """A at some frame j of the window at t, and B at some frame k > j: loops over frames."""
    length = a.shape[0]
    out = []
    for t in range(length):
        values = []
        for j in window_frames(start, stop, 0, length, t):
            later = [b[k] for k in range(j + 1, length)]
            b_later = ref.max(later) if later else torch.tensor(-1.0, dtype=a.dtype)
            values.append(ref.min([a[j], b_later]))
        out.append(ref.max(values) if values else torch.tensor(-1.0, dtype=a.dtype))
    return torch.stack(out)


@given(m=margin_tensors(2, 6, 2), data=st.data(), beta=BETAS)
def test_then_lowering_equals_a_reference_loop(m, data, beta):
    start, stop = data.draw(windows(m.shape[1]))
    for sem, ref in ((Exact(), RefExact()), (Smooth(beta), RefSmooth(beta))):
        got = then_lowered(sem, m[..., 0], m[..., 1], start, stop)
        want = torch.stack([then_reference(ref, m[i, :, 0], m[i, :, 1], start, stop) for i in range(m.shape[0])])
        torch.testing.assert_close(got, want)


def test_then_needs_b_strictly_after_a():
    a = torch.tensor([[-1.0, -1.0, 1.0]])
    b = torch.tensor([[1.0, -1.0, -1.0]])
    assert then_lowered(Exact(), a, b, None, None)[0, 0] < 0  # B only before A
    assert then_lowered(Exact(), b, a, None, None)[0, 0] > 0  # B's frame 0, then A's frame 2


@given(m=margin_tensors(2, 7, 1).map(lambda x: x[..., 0].abs() / 3), data=st.data(), beta=BETAS)
def test_progress_lowering_equals_a_reference_loop(m, data, beta):
    start, stop = data.draw(windows(m.shape[1]))
    for sem, ref in ((Exact(), RefExact()), (Smooth(beta), RefSmooth(beta))):
        got = KERNELS["always"](sem, KERNELS["decreasing"](sem, m), start, stop, 0)
        length = m.shape[1]
        for i in range(m.shape[0]):
            drop = [(m[i, t] - m[i, t + 1] + DECREASE_TOL) / DECREASE_SCALE if t + 1 < length else torch.tensor(1.0, dtype=m.dtype) for t in range(length)]
            for t in range(length):
                used = [drop[j] for j in window_frames(start, stop, 0, length, t)]
                want = ref.min(used) if used else torch.tensor(1.0, dtype=m.dtype)
                torch.testing.assert_close(got[i, t], want)


def test_progress_holds_for_a_shrinking_distance_and_fails_when_it_grows():
    closer = torch.tensor([[0.5, 0.4, 0.3, 0.2]])
    assert KERNELS["always"](Exact(), KERNELS["decreasing"](Exact(), closer), None, None, 0)[0, 0] > 0
    assert KERNELS["always"](Exact(), KERNELS["decreasing"](Exact(), closer.flip(1)), None, None, 0)[0, 0] < 0


# ------------------------------------------------------------------ windows and shapes
@pytest.mark.parametrize("op", ["always", "eventually"])
@pytest.mark.parametrize("window", [(5, None), (-9, -8), (2, 2), (3, 1)])
def test_a_window_selecting_no_frame_raises_window_error(op, window):
    with pytest.raises(WindowError, match=r"T=4") as err:
        KERNELS[op](Exact(), torch.zeros(1, 4), *window, 0)
    assert f"[{'' if window[0] is None else window[0]}:" in str(err.value)
    assert isinstance(err.value, ValueError)


def test_until_with_an_empty_window_raises_window_error():
    with pytest.raises(WindowError, match="T=3"):
        KERNELS["until"](Exact(), torch.zeros(1, 3), torch.zeros(1, 3), 3, None)


def test_a_window_of_negative_frames_counts_from_the_end():
    a = torch.tensor([[-1.0, -1.0, 2.0, -1.0, -1.0]])
    assert KERNELS["eventually"](Exact(), a, -2, None, 0)[0, 0] == -1.0  # frames 3 and 4 only
    assert KERNELS["eventually"](Exact(), a, -3, None, 0)[0, 0] == 2.0  # frames 2, 3, 4
    assert KERNELS["eventually"](Exact(), a, -3, None, 0)[0, 3] == -1.0  # from frame 3 on


def test_an_empty_range_gives_the_finite_neutral_margin_with_finite_gradients():
    a = torch.tensor([[0.3, -0.2, 0.7]], dtype=torch.float64, requires_grad=True)
    for sem in (Exact(), Smooth(10.0)):
        ev = KERNELS["eventually"](sem, a, None, None, 1)
        al = KERNELS["always"](sem, a, None, None, 1)
        assert ev[0, -1] == -1.0 and al[0, -1] == 1.0
        (ev.sum() + al.sum()).backward()
        assert torch.isfinite(a.grad).all()
        a.grad = None


@pytest.mark.parametrize("op", ["always", "eventually", "at_start", "at_end"])
def test_a_static_margin_is_returned_as_the_constant(op):
    a = torch.tensor([[0.4], [-0.3]])
    args = (None, None, 0) if op in ("always", "eventually") else ()
    for sem in (Exact(), Smooth(10.0)):
        assert torch.equal(KERNELS[op](sem, a, *args), a)


def test_until_broadcasts_a_static_operand_against_frames():
    a = torch.tensor([[0.5]])
    b = torch.tensor([[-1.0, -1.0, 0.8]])
    out = KERNELS["until"](Exact(), a, b, None, None)
    assert out.shape == (1, 3) and torch.allclose(out, torch.tensor([[0.5, 0.5, 0.8]]))


def test_and_or_are_n_ary_and_broadcast_static_margins():
    a, b, c = torch.tensor([[0.1, 0.9]]), torch.tensor([[0.5]]), torch.tensor([[0.3, -0.2]])
    assert torch.equal(KERNELS["and"](Exact(), a, b, c), torch.tensor([[0.1, -0.2]]))
    assert torch.equal(KERNELS["or"](Exact(), a, b, c), torch.tensor([[0.5, 0.9]]))
    smooth_or = KERNELS["or"](Smooth(10.0), a, b, c)
    assert torch.all(smooth_or <= torch.tensor([[0.5, 0.9]])) and torch.all(smooth_or >= torch.tensor([[0.5, 0.9]]) - math.log(3) / 10)


def test_half_precision_stays_finite():
    a = torch.tensor([[0.5, -3.0, 2.0, 1.0]], dtype=torch.float16)
    for sem in (Exact(), Smooth(10.0)):
        for op in ("until", "release"):
            assert torch.isfinite(KERNELS[op](sem, a, -a, None, None)).all()
        for op in ("always", "eventually"):
            assert torch.isfinite(KERNELS[op](sem, a, 1, None, 1)).all()


# ------------------------------------------------------------------ relative windows, next, prev
def test_a_nested_window_is_relative_to_the_frame_evaluated():
    """eventually[0:2] at frame t looks at t and t+1 (STL), not at absolute frames 0 and 1."""
    y = torch.tensor([[-1.0, -1.0, -1.0, 0.5, -1.0]])
    assert KERNELS["eventually"](Exact(), y, 0, 2, 0).tolist() == [[-1.0, -1.0, 0.5, 0.5, -1.0]]
    # the response rule: always (x implies eventually[0:2] y) holds when y follows x in time
    x = torch.tensor([[-1.0, -1.0, 0.7, -1.0, -1.0]])
    response = KERNELS["always"](Exact(), KERNELS["or"](Exact(), -x, KERNELS["eventually"](Exact(), y, 0, 2, 0)), None, None, 0)
    assert response[0, 0] == 0.5


def test_next_and_prev_shift_by_one_frame_with_a_vacuous_edge():
    a = torch.tensor([[0.25, 0.5, 0.75]])
    assert KERNELS["next"](Exact(), a, 1.0).tolist() == [[0.5, 0.75, 1.0]]
    assert KERNELS["prev"](Exact(), a, 1.0).tolist() == [[1.0, 0.25, 0.5]]
    # under a negation the compiler passes the dual fill, so not next A == next not A exactly
    assert torch.equal(-KERNELS["next"](Exact(), a, 1.0), KERNELS["next"](Exact(), -a, -1.0))


@pytest.mark.parametrize("window", [(None, None), (0, 3), (2, None), (1, 4)])
def test_until_and_release_stay_linear_in_memory_on_long_videos(window):
    """T = 20000 would need a 3.2 GB (B, T, T) table; the recursion needs a few (B, T) tensors."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(2, 20000, generator=g) * 2 - 1, torch.rand(2, 20000, generator=g) * 2 - 1
    x = a.clone().requires_grad_(True)
    for sem in (Exact(), Smooth(10.0)):
        for op in ("until", "release"):
            out = KERNELS[op](sem, x, b, *window)
            assert out.shape == (2, 20000) and torch.isfinite(out).all()
    smooth = KERNELS["until"](Smooth(10.0), x, b, *window)
    exact = KERNELS["until"](Exact(), x, b, *window)
    assert torch.all(smooth <= exact + 1e-5) and torch.all(exact - smooth <= 2 * math.log(20000) / 10.0 + 1e-4)
    smooth.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_until_at_long_lengths_equals_the_definition_on_every_frame():
    """Several blocks of the backward scan (T = 37 is not a square) against the max-min definition."""
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(3, 37, generator=g, dtype=torch.float64), torch.randn(3, 37, generator=g, dtype=torch.float64)
    got = KERNELS["until"](Exact(), a, b, None, None)
    for t in range(37):
        want = torch.stack([torch.minimum(b[:, j], a[:, t:j].amin(1)) if j > t else b[:, j] for j in range(t, 37)], 1).amax(1)
        torch.testing.assert_close(got[:, t], want)
