"""grow/shrink radii: normalized frame units (``grow(r, 0.03)``) or explicit pixels (``grow(r, 1px)``).

The language (lexing, printing, the checker's errors with their spans), the one function that
turns a radius into pixels (:func:`radius_pixels`, shared by the kernels and the reward's E504
check), the kernels against kornia's flat morphology, and what the unit buys: a normalized
radius gives the same verdict on a video and on the same video upscaled.
"""

from __future__ import annotations

import kornia
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

from rulec import RulesError, compile_rules
from rulec import ast as A
from rulec.parser import parse
from rulec.primitives.kernels import KERNELS
from rulec.primitives.morphology import grow, radius_pixels, shrink
from rulec.primitives.semantics import Exact, Smooth
from rulec.printer import print_program

HEAD = 'object agent = color("#e53935")\nregion block = color("#43a047") at start\n'


def radius_of(text: str) -> A.Node:
    """The radius argument of the one grow/shrink call in ``region z = ...``."""
    result = parse(f"region z = {text}\n")
    assert result.diagnostics == []
    return result.program.statements[0].value.args[1]


# ------------------------------------------------------------------ the language
def test_a_px_suffix_is_one_token_and_a_bare_number_stays_a_number():
    assert A.strip_spans(radius_of("grow(a, 2px)")) == A.Pixels(value=2)
    assert A.strip_spans(radius_of("shrink(a, 0.03)")) == A.Number(value=0.03)
    assert A.strip_spans(radius_of("grow(a, 1.5px)")) == A.Pixels(value=1.5)  # parsed; the checker rejects it
    bad = parse("region z = grow(a, 2pxx)\n").diagnostics
    assert [d.code for d in bad] == ["E001"]  # `2pxx` is no length: NUMBER 2 then a name


@pytest.mark.parametrize("text", ["region z = grow(a, 2px) - shrink(b, 0.03)\n",
                                  "region z = shrink(grow(a, 0px), 64px) or grow(b, 0.5)\n",
                                  "region z = grow(a, 1.5px)\n"])
def test_radii_print_back_exactly(text):
    program = parse(text).program
    assert print_program(program) == text
    assert A.strip_spans(parse(print_program(program)).program) == A.strip_spans(program)


def errors_of(text: str):
    with pytest.raises(RulesError) as err:
        compile_rules(HEAD + text + "goal g : present(agent)\nprocess p : always present(z)\n")
    return err.value.diagnostics


def only_error(text: str):
    (d,) = errors_of(text)
    return d


def test_a_bare_radius_of_one_or_more_is_e211_with_the_pixels_hint_and_its_span():
    d = only_error("region z = grow(block, 1)\n")
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E211", 3, 24, 25)
    assert d.message == "argument 'r' of grow() must lie in [0, 0.5] (frame units); found 1"
    assert d.help == "`grow(r, 1)` is the whole frame; radii are in frame units (0..0.5), write `1px` for pixels"
    d = only_error("region z = shrink(block, 3)\n")
    assert (d.code, d.span.column, d.span.end_column) == ("E211", 26, 27)
    assert d.help == "`shrink(r, 3)` leaves nothing; radii are in frame units (0..0.5), write `3px` for pixels"


@pytest.mark.parametrize("radius", ["0.7", "-0.1", "0.51"])
def test_a_bare_radius_outside_zero_to_half_is_e211(radius):
    d = only_error(f"region z = grow(block, {radius})\n")
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E211", 3, 24, 24 + len(radius))
    assert d.message == f"argument 'r' of grow() must lie in [0, 0.5] (frame units); found {radius}"
    assert "frame units" in d.help


def test_a_fractional_px_radius_is_e206_at_the_length():
    d = only_error("region z = grow(block, 1.5px)\n")
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E206", 3, 24, 29)
    assert d.message == "argument 'r' of grow() in pixels must be a whole number; found 1.5px"
    assert d.help and "`1px`" in d.help


@pytest.mark.parametrize("radius", ["65px", "-1px"])
def test_a_px_radius_beyond_the_pixel_limit_is_e211(radius):
    d = only_error(f"region z = shrink(block, {radius})\n")
    assert (d.code, d.span.column, d.span.end_column) == ("E211", 26, 26 + len(radius))
    assert d.message == f"argument 'r' of shrink() must lie in [0, 64] px; found {radius}"
    assert d.help


@pytest.mark.parametrize("formula, length", [
    ("always area(agent) < 2px", "2px"),
    ("always near(agent, block, d=3px)", "3px"),
    ("always inside(agent, block, 1px)", "1px"),
])
def test_a_px_length_anywhere_but_a_radius_is_e201_at_the_length(formula, length):
    with pytest.raises(RulesError) as err:
        compile_rules(HEAD + f"goal g : {formula}\n")
    (d,) = err.value.diagnostics
    column = len("goal g : ") + formula.index(length) + 1
    assert (d.code, d.span.line, d.span.column, d.span.end_column) == ("E201", 3, column, column + len(length))
    assert d.message == f"a length in pixels ({length}) is only a grow/shrink radius"
    assert d.help and "frame units" in d.help


def test_px_in_a_window_or_a_weight_is_a_syntax_error():
    for text in ("goal g : always[0:2px] present(agent)\n", "goal g : present(agent) weight 2px\n"):
        with pytest.raises(RulesError, match="E001"):
            compile_rules(HEAD + text)


def test_the_graph_carries_the_unit_and_a_unit_changes_the_node():
    c = compile_rules(HEAD + "region z = grow(block, 0.03) - grow(block, 1px) - grow(block, 1px)\n"
                             "goal g : present(agent)\nprocess p : always unchanged(z)\n")
    grows = [n for n in c.nodes if n.op == "grow"]
    assert [(n.arg("r").value, n.arg("unit").value, n.label) for n in grows] == [
        (0.03, "frame", "grow(block, 0.03)"), (1, "px", "grow(block, 1px)")]  # the repeat is one node
    nodes = {n["id"]: n for n in c.to_json()["nodes"]}
    assert nodes[grows[0].id]["args"][1:] == [{"const": 0.03}, {"const": "frame"}]
    assert nodes[grows[1].id]["args"][1:] == [{"const": 1}, {"const": "px"}]


# ------------------------------------------------------------------ one function decides pixels
def test_radius_pixels_scales_each_axis_by_its_own_size():
    assert radius_pixels(0.03, "frame", 32, 1024) == (1, 31)  # 0.96 -> 1, 30.72 -> 31
    assert radius_pixels(0.25, "frame", 32, 128) == (8, 32)
    assert radius_pixels(0.5 / 32, "frame", 32, 32) == (1, 1)  # halves round up
    assert radius_pixels(0.01, "frame", 32, 32) == (0, 0)
    assert radius_pixels(3, "px", 32, 1024) == (3, 3)
    for value, unit in ((1.5, "px"), (-1, "px"), (65, "px"), (0.6, "frame"), (float("nan"), "frame"), (1, "pixels")):
        with pytest.raises(ValueError, match="grow/shrink"):
            radius_pixels(value, unit, 32, 32)


def test_a_normalized_radius_that_rounds_to_zero_leaves_that_axis_unchanged():
    mask = torch.zeros(1, 1, 32, 256)
    mask[0, 0, 16, 128] = 1.0
    out = grow(Exact(), mask, 0.01, "frame")  # 0.32 px vertically -> 0, 2.56 px horizontally -> 3
    assert torch.equal(out[0, 0].nonzero()[:, 0].unique(), torch.tensor([16]))
    assert torch.equal(out[0, 0, 16].nonzero()[:, 0], torch.arange(125, 132))
    assert torch.equal(shrink(Exact(), mask, 0.001, "frame"), mask)


# ------------------------------------------------------------------ the kernels are kornia's flat morphology
masks_and_radii = st.tuples(
    st.integers(1, 3), st.integers(1, 2), st.integers(1, 14), st.integers(1, 14), st.booleans(),
    st.integers(0, 2**31 - 1), st.integers(0, 4), st.integers(0, 4),
)


def _mask(b, t, h, w, soft, seed):
    g = torch.Generator().manual_seed(seed)
    values = torch.rand(b, t, h, w, generator=g, dtype=torch.float64)
    return values if soft else (values > 0.6).double()


@given(masks_and_radii)
def test_grow_and_shrink_equal_kornia_geodesic_morphology_with_a_square_kernel(case):
    b, t, h, w, soft, seed, r, _ = case
    r = min(r, (min(h, w) - 1) // 2)  # the kernel fits the frame (E504 otherwise)
    mask = _mask(b, t, h, w, soft, seed)
    kernel = torch.ones(2 * r + 1, 2 * r + 1, dtype=mask.dtype)
    flat = mask.reshape(b * t, 1, h, w)
    dilated = kornia.morphology.dilation(flat, kernel, border_type="geodesic").reshape(b, t, h, w)
    eroded = kornia.morphology.erosion(flat, kernel, border_type="geodesic").reshape(b, t, h, w)
    for sem in (Exact(), Smooth()):
        assert torch.equal(grow(sem, mask, r, "px"), dilated)
        assert torch.equal(shrink(sem, mask, r, "px"), eroded)
        assert torch.equal(KERNELS["grow"](sem, mask, r, "px"), dilated)


@given(masks_and_radii)
def test_a_normalized_radius_is_kornia_morphology_with_the_rectangle_it_rounds_to(case):
    b, t, h, w, soft, seed, ry, rx = case
    ry, rx = min(ry, (h - 1) // 2), min(rx, (w - 1) // 2)
    value = ry / h  # rounds back to ry rows; on the other axis to round(ry * w / h) columns
    rows, cols = radius_pixels(value, "frame", h, w)
    assert rows == ry
    if 2 * cols + 1 > w:
        return
    mask = _mask(b, t, h, w, soft, seed)
    kernel = torch.ones(2 * rows + 1, 2 * cols + 1, dtype=mask.dtype)
    flat = mask.reshape(b * t, 1, h, w)
    assert torch.equal(grow(Exact(), mask, value, "frame"),
                       kornia.morphology.dilation(flat, kernel, border_type="geodesic").reshape(b, t, h, w))
    assert torch.equal(shrink(Exact(), mask, value, "frame"),
                       kornia.morphology.erosion(flat, kernel, border_type="geodesic").reshape(b, t, h, w))


@pytest.mark.parametrize("op", [grow, shrink])
@pytest.mark.parametrize("radius, unit", [(2, "px"), (0.1, "frame"), (0, "px")])
def test_gradients_are_finite_on_an_empty_mask_and_the_input_is_left_alone(op, radius, unit):
    for sem in (Exact(), Smooth()):
        empty = torch.zeros(2, 3, 16, 16, requires_grad=True)
        out = op(sem, empty, radius, unit)
        assert torch.equal(out, torch.zeros_like(out))
        (grad,) = torch.autograd.grad((out * torch.rand_like(out)).sum() + 0 * empty.sum(), empty)
        assert torch.isfinite(grad).all()
        assert torch.equal(empty, torch.zeros_like(empty))


def test_a_static_mask_keeps_its_shape():
    mask = torch.zeros(2, 1, 9, 9)
    mask[:, :, 4, 4] = 1
    assert grow(Exact(), mask, 1, "px").shape == (2, 1, 9, 9)
    assert float(grow(Exact(), mask, 1, "px").sum()) == 2 * 9


# ------------------------------------------------------------------ what the unit buys: resolution independence
def _scene(scale: int) -> torch.Tensor:
    """A green block (columns 10-15) and a red agent (columns 20-23) on black, 32 px scaled by ``scale`` (nearest)."""
    frame = np.zeros((32, 32, 3), dtype=np.uint8)
    frame[10:22, 10:16] = (0x43, 0xA0, 0x47)
    frame[12:16, 20:24] = (0xE5, 0x39, 0x35)
    frame = frame.repeat(scale, axis=0).repeat(scale, axis=1)
    video = torch.from_numpy(np.stack([frame, frame])).permute(0, 3, 1, 2).float().div(255)
    return video[None]


def _verdict(radius: str, scale: int) -> bool:
    rules = HEAD + f"goal reach : always inside(agent, grow(block, {radius}))\n"
    return bool(compile_rules(rules).to_reward()(_scene(scale)).passed[0])


def test_a_normalized_radius_gives_the_same_verdict_on_an_upscaled_video_where_pixels_do_not():
    assert _scene(4).shape == (1, 2, 3, 128, 128)
    # 8 px at 32 px covers the 4-px gap and the 4-px agent; at 128 px the gap alone is 16 px
    assert _verdict("8px", 1) is True and _verdict("8px", 4) is False
    # a quarter of the frame is 8 px at 32 px and 32 px at 128 px: the same verdict
    assert _verdict("0.25", 1) is True and _verdict("0.25", 4) is True
    # and a normalized radius too small fails at both sizes
    assert _verdict("0.1", 1) is False and _verdict("0.1", 4) is False


# ------------------------------------------------------------------ the reward's geometry check (E504)
@pytest.mark.parametrize("radius, size, fits", [
    ("20px", 32, False), ("20px", 41, True), ("15px", 32, True),
    ("0.49", 32, False),  # round(15.68) = 16 px: a 33-px kernel
    ("0.45", 32, True),  # 14 px: 29
    ("0.5", 32, False),
])
def test_the_reward_reports_e504_when_the_kernel_is_larger_than_the_frame(radius, size, fits):
    rules = HEAD + f"region z = shrink(block, {radius})\ngoal g : present(agent)\nprocess p : always unchanged(z)\n"
    reward = compile_rules(rules).to_reward()
    video = torch.zeros(1, 2, 3, size, size)
    if fits:
        reward.validate_geometry(2, size, size)
        reward(video)
    else:
        with pytest.raises(RulesError, match="E504") as err:
            reward(video)
        (d,) = err.value.diagnostics
        assert d.span is not None and d.span.line == 3 and "shrink" in d.message and f"got {size}x{size}" in d.message


def test_e504_checks_each_axis_with_its_own_size():
    rules = HEAD + "region z = grow(block, 0.2)\ngoal g : present(agent)\nprocess p : always unchanged(z)\n"
    reward = compile_rules(rules).to_reward()
    reward.validate_geometry(None, 8, 64)  # 2 rows (5 px of 8), 13 columns (27 of 64)
    with pytest.raises(RulesError, match="E504"):
        compile_rules(rules.replace("0.2", "2px")).to_reward().validate_geometry(None, 4, 64)
