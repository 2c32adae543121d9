"""Property tests of the vision primitives on generated videos with drawn sprites."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, strategies as st

from rulec.primitives.kernels import KERNELS
from rulec.primitives.registry import REGISTRY, Kind
from rulec.primitives.semantics import Exact, Smooth
from rulec.runtime.tasks.world import PALETTE
from strategies import drawn_videos

SEMANTICS = (Exact(), Smooth(10.0))


@given(dv=drawn_videos())
def test_colour_masks_pick_the_drawn_sprite_and_not_the_background(dv):
    for name, drawn in dv.masks.items():
        exact = KERNELS["color"](Exact(), dv.video, PALETTE[name])
        smooth = KERNELS["color"](Smooth(), dv.video, PALETTE[name])
        assert torch.equal(exact.bool(), drawn)
        assert torch.equal(smooth > 0.5, drawn)
        assert torch.all((smooth >= 0) & (smooth <= 1))


@st.composite
def sprite_shift(draw):
    size = draw(st.integers(12, 24))
    w, h = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    margin = 3
    x0 = draw(st.integers(margin, size - margin - w))
    y0 = draw(st.integers(margin, size - margin - h))
    dx = draw(st.integers(margin - x0, size - margin - w - x0))
    dy = draw(st.integers(margin - y0, size - margin - h - y0))
    colour, background = draw(st.permutations(list(PALETTE)).map(lambda p: p[:2]))
    return size, (x0, y0, w, h), (dx, dy), colour, background


def _frame(size, rect, colour, background):
    from rulec.runtime.tasks.world import hex_to_rgb

    frame = torch.empty(3, size, size, dtype=torch.float64)
    frame[:] = torch.tensor(hex_to_rgb(PALETTE[background]), dtype=torch.float64).view(3, 1, 1) / 255
    x0, y0, w, h = rect
    frame[:, y0 : y0 + h, x0 : x0 + w] = torch.tensor(hex_to_rgb(PALETTE[colour]), dtype=torch.float64).view(3, 1, 1) / 255
    return frame


@given(case=sprite_shift())
def test_an_integer_shift_of_a_sprite_moves_its_centroid_by_exactly_that_shift(case):
    size, (x0, y0, w, h), (dx, dy), colour, background = case
    video = torch.stack([_frame(size, (x0, y0, w, h), colour, background), _frame(size, (x0 + dx, y0 + dy, w, h), colour, background)])[None]
    for sem in SEMANTICS:
        mask = KERNELS["color"](sem, video, PALETTE[colour])
        # the smooth detector leaves sigmoid tails (~1e-8) on the background: bound their pull
        sprite = torch.zeros_like(mask, dtype=torch.bool)
        sprite[0, 0, y0 : y0 + h, x0 : x0 + w] = True
        sprite[0, 1, y0 + dy : y0 + dy + h, x0 + dx : x0 + dx + w] = True
        tail = mask[~sprite].sum() / mask[sprite].view(2, -1).sum(1).min()
        atol = 1e-12 + 2 * float(tail)
        assert sem.is_exact == (float(tail) == 0.0)
        cx, cy = KERNELS["x"](sem, mask)[0], KERNELS["y"](sem, mask)[0]
        torch.testing.assert_close(cx[1] - cx[0], torch.tensor(dx / size, dtype=torch.float64), rtol=0, atol=atol)
        torch.testing.assert_close(cy[1] - cy[0], torch.tensor(dy / size, dtype=torch.float64), rtol=0, atol=atol)
        distance = torch.tensor((dx**2 + dy**2) ** 0.5 / size, dtype=torch.float64)
        # the smooth norm sqrt(d^2 + eps^2) - eps lies within eps below the exact one
        speed = KERNELS["speed"](sem, mask)[0, 1]
        assert distance - 1e-3 - atol <= speed <= distance + atol


@given(mask=st.integers(0, 2**31).map(lambda s: torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(s), dtype=torch.float64)), dx=st.integers(-4, 4), dy=st.integers(-4, 4))
def test_an_integer_shift_of_any_soft_mask_moves_its_centroid_by_exactly_that_shift(mask, dx, dy):
    blob = torch.zeros(1, 1, 24, 24, dtype=torch.float64)
    blob[..., 4:20, 4:20] = mask
    moved = torch.roll(blob, (dy, dx), dims=(-2, -1))  # stays inside the frame: no wrap-around
    for sem in SEMANTICS:
        torch.testing.assert_close(KERNELS["x"](sem, moved) - KERNELS["x"](sem, blob), torch.full((1, 1), dx / 24, dtype=torch.float64), rtol=0, atol=1e-12)
        torch.testing.assert_close(KERNELS["y"](sem, moved) - KERNELS["y"](sem, blob), torch.full((1, 1), dy / 24, dtype=torch.float64), rtol=0, atol=1e-12)


@given(dv=drawn_videos(), colour=st.sampled_from(list(PALETTE)), px=st.integers(0, 3))
def test_occupancy_lies_in_unit_interval_and_rises_as_the_mask_grows(dv, colour, px):
    for sem in SEMANTICS:
        mask = KERNELS["color"](sem, dv.video, PALETTE[colour])
        area = KERNELS["area"](sem, mask)
        grown = KERNELS["area"](sem, KERNELS["grow"](sem, mask, px, "px"))
        grown_more = KERNELS["area"](sem, KERNELS["grow"](sem, mask, px + 1, "px"))
        shrunk = KERNELS["area"](sem, KERNELS["shrink"](sem, mask, px, "px"))
        assert torch.all((area >= 0) & (area <= 1))
        assert torch.all(shrunk <= area + 1e-12) and torch.all(area <= grown + 1e-12) and torch.all(grown <= grown_more + 1e-12)


@given(dv=drawn_videos(), colour=st.sampled_from(list(PALETTE)))
def test_a_drawn_sprite_is_inside_itself_and_present_iff_drawn(dv, colour):
    drawn = dv.masks[colour]
    mask = KERNELS["color"](Exact(), dv.video, PALETTE[colour])
    inside = KERNELS["inside"](Exact(), mask, mask)
    present = KERNELS["present"](Exact(), mask, 0.5 / drawn[0, 0].numel())
    has_pixels = drawn.flatten(2).any(-1)
    assert torch.equal(inside > 0, has_pixels)
    assert torch.equal(present > 0, has_pixels)


@given(dv=drawn_videos(max_frames=3), data=st.data())
def test_region_algebra_on_binary_masks_is_set_algebra_in_both_semantics(dv, data):
    a_name, b_name = data.draw(st.permutations(list(PALETTE)).map(lambda p: p[:2]))
    a, b = (dv.masks[n].to(torch.float64) for n in (a_name, b_name))
    for sem in SEMANTICS:
        assert torch.equal(KERNELS["mask_and"](sem, a, b).bool(), dv.masks[a_name] & dv.masks[b_name])
        assert torch.equal(KERNELS["mask_or"](sem, a, b).bool(), dv.masks[a_name] | dv.masks[b_name])
        assert torch.equal(KERNELS["mask_minus"](sem, a, b).bool(), dv.masks[a_name] & ~dv.masks[b_name])
        assert torch.equal(KERNELS["mask_not"](sem, a).bool(), ~dv.masks[a_name])


def test_box_covers_the_pixels_whose_centres_lie_inside_and_is_static():
    video = torch.zeros(2, 3, 3, 4, 8)
    box = KERNELS["box"](Exact(), video, 0.0, 0.5, 0.5, 1.0)
    assert box.shape == (2, 1, 4, 8)
    assert box[0, 0].sum() == 8 and box[0, 0, 2:, :4].all()


def test_static_regions_broadcast_against_frames():
    video = torch.ones(1, 4, 3, 8, 8)
    video[:, :, :, 2:4, 2:4] = 0.0
    agent = KERNELS["color"](Exact(), video, "#000000")
    goal = KERNELS["box"](Exact(), video, 0.0, 0.0, 0.5, 0.5)
    assert KERNELS["inside"](Exact(), agent, goal).shape == (1, 4)
    assert KERNELS["x"](Exact(), goal).shape == (1, 1)
    assert KERNELS["distance"](Exact(), agent, goal).shape == (1, 4)
    torch.testing.assert_close(KERNELS["inside"](Exact(), agent, goal), torch.ones(1, 4))


def test_unchanged_compares_region_pixels_with_the_first_frame():
    video = torch.ones(1, 3, 3, 8, 8)
    video[:, 2, :, :, :4] = 0.0  # the left half turns black at frame 2
    start = video[:, :1]
    left = KERNELS["box"](Exact(), video, 0.0, 0.0, 0.5, 1.0)
    right = KERNELS["box"](Exact(), video, 0.5, 0.0, 1.0, 1.0)
    assert torch.all(KERNELS["unchanged"](Exact(), video, start, right) == 1.0)
    margin = KERNELS["unchanged"](Exact(), video, start, left)
    assert margin[0, 1] == 1.0 and margin[0, 2] < 0


def _args_for(spec, sem, video, mask, other):
    """Arguments of any kernel built from a video: masks, signals, margins and defaults."""
    signal = KERNELS["area"](sem, mask)
    margin = KERNELS["present"](sem, mask)
    args = []
    for i, p in enumerate(spec.params):
        if p.name == "count":  # a quantifier: the domain's pieces, and the pieces each body needs
            args.append(KERNELS["components"](sem, mask))
        elif p.name == "needs":
            args.append((1,))  # one body (the BOOL argument below)
        elif p.kind is Kind.MASK:
            args.append(mask if i == 0 else other)
        elif p.kind is Kind.SIGNAL:
            args.append(signal if i == 0 else 0.3)
        elif p.kind is Kind.BOOL:
            args.append(margin if i == 0 else -margin)
        elif p.kind is Kind.COLOR:
            args.append("#e53935")
        elif p.name in ("start", "stop"):
            args.append(None)
        elif p.name == "offset":
            args.append(1)
        elif p.kind is Kind.RADIUS or p.name == "k":
            args.append(1)
        elif p.default is not None:
            args.append(p.default)
        else:
            args.append({"x0": 0.1, "y0": 0.2, "x1": 0.6, "y1": 0.9}[p.name])
    if "unit" in spec.appended:
        args.append("px")
    return args


DEGENERATE = {
    "all black": lambda: torch.zeros(2, 4, 3, 8, 8),
    "all white": lambda: torch.ones(2, 4, 3, 8, 8),
    "constant colour": lambda: torch.tensor([0.2, 0.7, 0.4]).view(1, 1, 3, 1, 1).expand(2, 4, 3, 8, 8).clone(),
    "single frame": lambda: torch.rand(2, 1, 3, 8, 8, generator=torch.Generator().manual_seed(0)),
    "agent colour everywhere": lambda: torch.tensor([229, 57, 53]).div(255).view(1, 1, 3, 1, 1).expand(2, 3, 3, 8, 8).clone(),
}


@pytest.mark.parametrize("case", list(DEGENERATE))
@pytest.mark.parametrize("name", sorted(set(REGISTRY) - {"ask"}))
def test_no_nan_or_inf_in_values_or_gradients_on_degenerate_videos(case, name):
    spec = REGISTRY[name]
    for sem in SEMANTICS:
        video = DEGENERATE[case]().requires_grad_(True)
        start = video[:, :1].detach()
        mask = KERNELS["color"](sem, video, "#e53935")  # empty unless the frame is that red
        other = KERNELS["mask_not"](sem, mask)
        inputs = {"video": video, "start": start, "tracks": None}  # tracks: a fresh book, from frame 0
        out = KERNELS[name](sem, *[inputs[i] for i in spec.inputs], *_args_for(spec, sem, video, mask, other))
        assert torch.isfinite(out).all(), (name, case, sem)
        if out.requires_grad:
            out.sum().backward()
            assert video.grad is None or torch.isfinite(video.grad).all(), (name, case, sem)


def test_an_empty_mask_has_the_documented_measures():
    empty = torch.zeros(1, 3, 8, 8, requires_grad=True)
    for sem in SEMANTICS:
        assert torch.all(KERNELS["x"](sem, empty) == 0.5) and torch.all(KERNELS["y"](sem, empty) == 0.5)
        assert torch.all(KERNELS["speed"](sem, empty) == 0) and torch.all(KERNELS["area"](sem, empty) == 0)
        assert torch.all(KERNELS["inside"](sem, empty, 1 - empty) == -1.0)
        assert torch.all(KERNELS["present"](sem, empty) < 0)
        total = sum(KERNELS[n](sem, empty).sum() for n in ("x", "y", "speed", "area", "present"))
        (grad,) = torch.autograd.grad(total, empty)
        assert torch.isfinite(grad).all()


def test_bad_constants_get_clear_errors():
    video = torch.zeros(1, 2, 3, 4, 4)
    with pytest.raises(ValueError, match="#rrggbb"):
        KERNELS["color"](Exact(), video, "red")
    with pytest.raises(ValueError, match="grow/shrink"):
        KERNELS["grow"](Exact(), torch.zeros(1, 2, 4, 4), -1, "px")
    with pytest.raises(ValueError, match="grow/shrink"):
        KERNELS["shrink"](Exact(), torch.zeros(1, 2, 4, 4), 0.6, "frame")
    with pytest.raises(ValueError, match="grow/shrink"):
        KERNELS["grow"](Exact(), torch.zeros(1, 2, 4, 4), 1, "pixels")
    with pytest.raises(ValueError, match="between 0 and 1"):
        KERNELS["inside"](Exact(), torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4), 1.0)


def test_shared_colour_space_gives_the_same_values_and_gradients():
    from rulec.primitives.detectors import ColourSpace

    video = torch.rand(2, 3, 3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

    def run(shared: bool):
        v = video.clone().requires_grad_(True)
        source = ColourSpace(v) if shared else v  # one per call, as the reward makes them
        with torch.no_grad():
            hard = [KERNELS["color"](Exact(), source, c) for c in ("#e53935", "#000000")]
        soft = [KERNELS["color"](Smooth(), source, c) for c in ("#e53935", "#000000")]
        (grad,) = torch.autograd.grad(sum(s.sum() for s in soft), v)
        return hard, soft, grad

    plain = run(shared=False)
    shared = run(shared=True)
    shared_again = run(shared=True)
    for a, b, c in zip(plain[0] + plain[1], shared[0] + shared[1], shared_again[0] + shared_again[1]):
        assert torch.equal(a, b) and torch.equal(b, c)
    # one Lab backward instead of two: the same sum, accumulated in another order
    torch.testing.assert_close(plain[2], shared[2], rtol=1e-12, atol=1e-12)
    assert torch.equal(shared[2], shared_again[2])


def test_shared_colour_space_never_serves_a_video_changed_in_place():
    from rulec.primitives.detectors import ColourSpace

    video = torch.ones(1, 2, 3, 4, 4)
    space = ColourSpace(video)
    before = KERNELS["color"](Exact(), space, "#ffffff")
    video.zero_()
    after = KERNELS["color"](Exact(), space, "#ffffff")
    assert before.all() and not after.any()


def _flood_fill_count(mask) -> int:
    """Reference: 8-connected components by an explicit flood fill."""
    h, w = len(mask), len(mask[0])
    seen = [[False] * w for _ in range(h)]
    count = 0
    for y0 in range(h):
        for x0 in range(w):
            if not mask[y0][x0] or seen[y0][x0]:
                continue
            count += 1
            stack = [(y0, x0)]
            seen[y0][x0] = True
            while stack:
                y, x = stack.pop()
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        v, u = y + dy, x + dx
                        if 0 <= v < h and 0 <= u < w and mask[v][u] and not seen[v][u]:
                            seen[v][u] = True
                            stack.append((v, u))
    return count


@given(
    cells=st.integers(1, 10).flatmap(
        lambda h: st.integers(1, 10).flatmap(lambda w: st.lists(st.lists(st.booleans(), min_size=w, max_size=w), min_size=h, max_size=h))
    )
)
def test_components_counts_like_a_flood_fill(cells):
    mask = torch.tensor(cells, dtype=torch.float64)[None, None]
    want = _flood_fill_count(cells)
    for sem in SEMANTICS:
        soft = mask * 0.8 + 0.1  # thresholded at 0.5
        assert KERNELS["components"](sem, soft).item() == want


def test_components_counts_a_duplicated_sprite():
    video = torch.ones(1, 2, 3, 16, 16)
    red = torch.tensor([229, 57, 53]).div(255).view(3, 1, 1)
    video[0, :, :, 2:5, 2:5] = red
    video[0, 1, :, 10:13, 10:13] = red  # a second disc appears
    for sem in SEMANTICS:
        agent = KERNELS["color"](sem, video, "#e53935")
        assert KERNELS["components"](sem, agent).tolist() == [[1.0, 2.0]]


def test_a_colour_space_converts_its_video_to_lab_once(monkeypatch):
    from rulec.primitives import detectors

    conversions = []
    original = detectors._lab
    monkeypatch.setattr(detectors, "_lab", lambda v: conversions.append(v) or original(v))
    video = torch.rand(1, 2, 3, 4, 4, generator=torch.Generator().manual_seed(3))
    space = detectors.ColourSpace(video)
    for sem in (Exact(), Smooth()):
        for colour in ("#e53935", "#000000", "#E53935"):
            KERNELS["color"](sem, space, colour)
    assert len(conversions) == 1
    KERNELS["color"](Exact(), video, "#e53935")  # a plain tensor is converted afresh
    assert len(conversions) == 2
