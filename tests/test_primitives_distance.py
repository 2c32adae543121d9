"""Distance-based margins (issue 17): spatial atoms that pull from afar, and path_distance.

* ``inside``/``overlaps``/``touches`` keep the sign of their mass-overlap margin (so every
  exact verdict) and gain a slope towards the region where no mass overlaps;
* ``path_distance`` follows free space: its gradient leads along corridors, not through walls;
* the vectorized fields equal per-pixel references written from their definitions.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, strategies as st

import rulec
from rulec.primitives import atoms, fields, measures, morphology
from rulec.primitives.conventions import EMPTY_PATH_DISTANCE, OVERLAP_FRACTION, REACH_SCALE, TOUCH_RADIUS
from rulec.primitives.semantics import Exact, Smooth
from strategies import drawn_videos, evaluate, formulas

torch.set_num_threads(1)
SEMANTICS = (Exact(), Smooth(10.0))


# ------------------------------------------------------------------ helpers
def soft_disc(cx: torch.Tensor, cy: torch.Tensor, h: int, w: int, radius: float, softness: float = 0.5) -> torch.Tensor:
    """A disc rendered at a continuous position (pixel units): differentiable in (cx, cy). ``(1, 1, h, w)``."""
    ys = torch.arange(h, dtype=torch.float64).view(h, 1) + 0.5
    xs = torch.arange(w, dtype=torch.float64).view(1, w) + 0.5
    r = ((xs - cx) ** 2 + (ys - cy) ** 2 + 1e-12).sqrt()
    return torch.sigmoid((radius - r) / softness).view(1, 1, h, w)


def rect(h: int, w: int, x0: int, y0: int, x1: int, y1: int) -> torch.Tensor:
    m = torch.zeros(1, 1, h, w, dtype=torch.float64)
    m[..., y0:y1, x0:x1] = 1.0
    return m


def nearest_pixel(mask: np.ndarray, cx: float, cy: float) -> np.ndarray:
    """Centre of the mask's pixel nearest to (cx, cy), pixel units."""
    ys, xs = np.nonzero(mask)
    d = np.hypot(xs + 0.5 - cx, ys + 0.5 - cy)
    i = int(np.argmin(d))
    return np.array([xs[i] + 0.5, ys[i] + 0.5]), float(d[i])


def ref_region_distance(region: np.ndarray) -> np.ndarray:
    """Brute force: normalized distance of each pixel centre to the nearest region pixel centre."""
    h, w = region.shape
    out = np.zeros((h, w))
    cells = list(zip(*np.nonzero(region)))
    for y in range(h):
        for x in range(w):
            if cells:
                out[y, x] = min(math.hypot((x - qx) / w, (y - qy) / h) for qy, qx in cells)
    return out


def ref_path_field(goal: np.ndarray, free: np.ndarray):
    """Dijkstra with a heap, from the definition; unreached pixels: the candidates a nearest reached pixel gives.

    Returns (reached distances with inf where unreached, for each unreached pixel the set of allowed values).
    """
    h, w = goal.shape
    passable = free | goal
    dist = np.full((h, w), np.inf)
    heap = [(0.0, y, x) for y, x in zip(*np.nonzero(goal))]
    for _, y, x in heap:
        dist[y, x] = 0.0
    heapq.heapify(heap)
    while heap:
        d, y, x = heapq.heappop(heap)
        if d > dist[y, x]:
            continue
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                ny, nx = y + dy, x + dx
                if (dy, dx) == (0, 0) or not (0 <= ny < h and 0 <= nx < w) or not passable[ny, nx]:
                    continue
                if dy and dx and not (passable[y + dy, x] and passable[y, x + dx]):
                    continue  # no corner cutting
                nd = d + math.hypot(dy / h, dx / w)
                if nd < dist[ny, nx] - 1e-15:
                    dist[ny, nx] = nd
                    heapq.heappush(heap, (nd, ny, nx))
    allowed = {}
    reached = list(zip(*np.nonzero(np.isfinite(dist))))
    for y in range(h):
        for x in range(w):
            if np.isfinite(dist[y, x]) or not reached:
                continue
            gaps = [(math.hypot((x - qx) / w, (y - qy) / h), dist[qy, qx]) for qy, qx in reached]
            g = min(gap for gap, _ in gaps)
            allowed[(y, x)] = [g + d for gap, d in gaps if gap <= g + 1e-12]
    return dist, allowed


def old_fraction_margin(share: float, threshold: float) -> float:
    """The mass-overlap margin before issue 17, from its documented formula."""
    return (share - threshold) / (1 - threshold) if share >= threshold else (share - threshold) / threshold


soft_masks = st.integers(3, 9).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0, 1), min_size=n * n, max_size=n * n),
        st.lists(st.sampled_from([0.0, 0.2, 0.7, 1.0]), min_size=n * n, max_size=n * n),
    ).map(lambda ab: tuple(torch.tensor(v, dtype=torch.float64).view(1, 1, n, n) for v in ab))
)


# ------------------------------------------------------------------ inside pulls from afar
@st.composite
def agent_away_from_goal(draw):
    h = draw(st.integers(16, 32))
    w = draw(st.integers(16, 32))
    gw, gh = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    x0, y0 = draw(st.integers(0, w - gw)), draw(st.integers(0, h - gh))
    radius = draw(st.floats(1.5, 3.5))
    cx = draw(st.floats(radius + 1, w - radius - 1))
    cy = draw(st.floats(radius + 1, h - radius - 1))
    goal = rect(h, w, x0, y0, x0 + gw, y0 + gh)
    _, d = nearest_pixel(goal[0, 0].numpy() > 0, cx, cy)
    assume(d >= radius + 2)
    return goal, cx, cy, radius


@given(case=agent_away_from_goal(), frac=st.sampled_from([0.5, 0.9, 0.99]))
def test_inside_gradient_points_towards_the_nearest_goal_pixel(case, frac):
    goal, cx, cy, radius = case
    h, w = goal.shape[-2:]
    pos = torch.tensor([cx, cy], dtype=torch.float64, requires_grad=True)
    agent = soft_disc(pos[0], pos[1], h, w, radius)
    margin = atoms.inside(Smooth(10.0), agent, goal, frac)
    (grad,) = torch.autograd.grad(margin.sum(), pos)
    target, _ = nearest_pixel(goal[0, 0].numpy() > 0, cx, cy)
    towards = torch.from_numpy(target - np.array([cx, cy]))
    assert torch.isfinite(grad).all()
    # not just a sigmoid tail's whisper: at least half the pull of the distance term (1 / REACH_SCALE per frame width)
    pull = float(grad @ towards / towards.norm())
    assert pull > 0.5 / (REACH_SCALE * max(h, w)), (grad, towards)


@given(case=agent_away_from_goal())
def test_inside_keeps_falling_with_distance_where_the_overlap_is_flat(case):
    """Twice as far (no mass overlapping either time) is a lower margin; the old margin was -1 at both."""
    goal, cx, cy, radius = case
    h, w = goal.shape[-2:]
    agent = (soft_disc(torch.tensor(cx), torch.tensor(cy), h, w, radius) > 0.5).double()
    target, _ = nearest_pixel(goal[0, 0].numpy() > 0, cx, cy)
    step = np.array([cx, cy]) - target
    far = np.array([cx, cy]) + step / np.linalg.norm(step) * 3
    assume(radius + 1 <= far[0] <= w - radius - 1 and radius + 1 <= far[1] <= h - radius - 1)
    farther = (soft_disc(torch.tensor(far[0]), torch.tensor(far[1]), h, w, radius) > 0.5).double()
    near_m, far_m = (atoms.inside(Exact(), a, goal) for a in (agent, farther))
    assert float(far_m) < float(near_m) <= -1.0


@pytest.mark.parametrize("sem", SEMANTICS, ids=repr)
def test_inside_gradient_is_finite_on_the_boundary_and_for_empty_masks(sem):
    h = w = 16
    goal = rect(h, w, 4, 4, 10, 10)
    empty = torch.zeros(1, 1, h, w, dtype=torch.float64)
    for cx, cy in [(4.0, 7.0), (10.0, 10.0), (7.0, 7.0), (0.0, 0.0)]:  # on an edge, a corner, inside, off the frame
        pos = torch.tensor([cx, cy], dtype=torch.float64, requires_grad=True)
        for region in (goal, empty):
            for name in ("inside", "overlaps", "touches"):
                margin = getattr(atoms, name)(sem, soft_disc(pos[0], pos[1], h, w, 2.5), region)
                (grad,) = torch.autograd.grad(margin.sum(), pos)
                assert torch.isfinite(margin).all() and torch.isfinite(grad).all(), (name, cx, cy)
    nothing = torch.zeros(1, 1, h, w, dtype=torch.float64, requires_grad=True)
    for region in (goal, empty):
        for name in ("inside", "overlaps", "touches"):
            margin = getattr(atoms, name)(sem, nothing, region)
            (grad,) = torch.autograd.grad(margin.sum(), nothing)
            assert float(margin.detach()) == -1.0 and torch.isfinite(grad).all()


@given(masks=soft_masks, frac=st.sampled_from([0.3, 0.9, 0.99]))
def test_distance_factor_keeps_the_sign_of_the_overlap_margin_and_only_grows_its_size(masks, frac):
    """Against the margin before issue 17 (``fraction_margin`` of the same share): same sign, never smaller."""
    o, r = masks
    share = measures.safe_ratio(measures.mass(o * r), measures.mass(o), 0.0)
    shared = measures.safe_ratio(measures.mass(o * r), torch.minimum(measures.mass(o), measures.mass(r)), 0.0)
    for name, new, old in (
        ("inside", atoms.inside(Smooth(), o, r, frac), atoms.fraction_margin(share, frac)),
        ("overlaps", atoms.overlaps(Smooth(), o, r), atoms.fraction_margin(shared, OVERLAP_FRACTION)),
        ("touches", atoms.touches(Smooth(), o, r), atoms.overlaps(Smooth(), o, morphology.grow(Smooth(), r, TOUCH_RADIUS, "frame"))),
    ):
        assert torch.equal(torch.sign(new), torch.sign(old)), (name, new, old)
        assert float(new.abs()) >= float(old.abs()) - 1e-12, (name, new, old)


@given(masks=soft_masks, frac=st.sampled_from([0.3, 0.9]))
def test_vectorized_inside_and_overlaps_equal_the_per_pixel_reference(masks, frac):
    o, r = masks
    om, rm = o[0, 0].numpy(), r[0, 0].numpy()
    d_r = ref_region_distance(rm > 0.5)
    d_o = ref_region_distance(om > 0.5)

    def mean_dist(m, d):
        return float((m * d).sum() / m.sum()) if m.sum() >= 1e-3 and d.any() else 0.0

    def reach(share, threshold, dbar):
        old = old_fraction_margin(share, threshold)
        return old if share >= threshold else old * (1 + dbar / REACH_SCALE)

    share = float((om * rm).sum() / om.sum()) if om.sum() >= 1e-3 else 0.0
    assume(abs(share - frac) > 1e-9)  # not on the threshold itself, where summation order picks the branch
    expected_inside = reach(share, frac, mean_dist(om, d_r) if (rm > 0.5).any() else 0.0)
    small = min(om.sum(), rm.sum())
    shared = float((om * rm).sum() / small) if small >= 1e-3 else 0.0
    assume(abs(shared - OVERLAP_FRACTION) > 1e-9)
    nearer = min(mean_dist(om, d_r) if (rm > 0.5).any() else 0.0, mean_dist(rm, d_o) if (om > 0.5).any() else 0.0)
    expected_overlaps = reach(shared, OVERLAP_FRACTION, nearer)
    assert float(atoms.inside(Exact(), o, r, frac)) == pytest.approx(expected_inside, rel=1e-9, abs=1e-12)
    assert float(atoms.overlaps(Exact(), o, r)) == pytest.approx(expected_overlaps, rel=1e-9, abs=1e-12)


@given(data=st.data(), frames=st.integers(2, 4), size=st.integers(3, 10))
def test_a_capped_mean_distance_keeps_the_minimum_it_is_taken_for(data, frames, size):
    """``overlaps`` takes min(a->b, b->a) and passes a->b as ``enough``: where the cheap box bound
    is used instead of a transform, the minimum must still be the exact one, frame by frame."""
    cells = st.lists(st.sampled_from([0.0, 0.0, 0.3, 1.0]), min_size=frames * size * size, max_size=frames * size * size)
    o = torch.tensor(data.draw(cells), dtype=torch.float64).view(1, frames, size, size)
    r = torch.tensor(data.draw(cells), dtype=torch.float64).view(1, frames, size, size)
    enough = torch.tensor(data.draw(st.lists(st.floats(0.0, 1.0), min_size=frames, max_size=frames)), dtype=torch.float64).view(1, frames)
    exact = fields.mean_distance(o, r)
    capped = fields.mean_distance(o, r, enough=enough)
    torch.testing.assert_close(torch.minimum(enough, capped), torch.minimum(enough, exact), rtol=1e-9, atol=1e-12)
    for t in range(frames):  # and it is the exact mean distance, per frame, from the brute-force field
        om, rm = o[0, t].numpy(), r[0, t].numpy()
        expected = float((om * ref_region_distance(rm > 0.5)).sum() / om.sum()) if om.sum() > 0 and (rm > 0.5).any() else 0.0
        assert float(exact[0, t]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(grid=st.integers(2, 9).flatmap(lambda n: st.lists(st.booleans(), min_size=n * n, max_size=n * n).map(
    lambda v: np.array(v).reshape(n, n))))
def test_region_distance_equals_the_brute_force_transform(grid):
    field = fields.region_distance(torch.from_numpy(grid).double().view(1, 1, *grid.shape))
    np.testing.assert_allclose(field[0, 0].numpy(), ref_region_distance(grid), atol=1e-12)


# ------------------------------------------------------------------ path_distance
@st.composite
def path_maps(draw):
    h, w = draw(st.integers(2, 8)), draw(st.integers(2, 8))
    free = np.array(draw(st.lists(st.booleans(), min_size=h * w, max_size=h * w))).reshape(h, w)
    goal = np.array(draw(st.lists(st.sampled_from([False] * 6 + [True]), min_size=h * w, max_size=h * w))).reshape(h, w)
    return goal, free


@given(maps=path_maps())
def test_path_field_equals_the_dijkstra_reference(maps):
    goal, free = maps
    field = fields.path_field(torch.from_numpy(goal).double()[None, None], torch.from_numpy(free).double()[None, None])[0, 0].numpy()
    if not goal.any():
        assert np.all(field == EMPTY_PATH_DISTANCE)
        return
    dist, allowed = ref_path_field(goal, free)
    reached = np.isfinite(dist)
    np.testing.assert_allclose(field[reached], dist[reached], atol=1e-12)
    for (y, x), values in allowed.items():
        assert min(abs(field[y, x] - v) for v in values) < 1e-12, ((y, x), field[y, x], values)
        assert field[y, x] >= min(values) - 1e-12


def test_path_distance_is_the_straight_distance_in_an_open_field():
    h = w = 12
    goal = rect(h, w, 1, 1, 2, 2)
    free = torch.ones(1, 1, h, w, dtype=torch.float64)
    agent = rect(h, w, 9, 1, 10, 2)  # same row: 8 steps across
    assert float(measures.path_distance(Exact(), agent, goal, free)) == pytest.approx(8 / w)


def maze_case():
    """A U-turn: the agent in a lower corridor, the goal above it behind a divider that ends at x = 24."""
    h = w = 32
    walls = torch.zeros(1, 1, h, w, dtype=torch.float64)
    walls[..., 15:17, :24] = 1.0  # the divider between the two corridors (the nearest wall above the agent)
    walls[..., 24:26, :] = 1.0  # the floor of the lower corridor
    goal = rect(h, w, 2, 4, 8, 10)
    return walls, goal, (12.0, 20.5)


def test_path_distance_gradient_leads_along_the_corridor_not_through_the_wall():
    walls, goal, (cx, cy) = maze_case()
    h, w = walls.shape[-2:]
    free = 1 - walls
    pos = torch.tensor([cx, cy], dtype=torch.float64, requires_grad=True)
    agent = soft_disc(pos[0], pos[1], h, w, 2.5)
    (geodesic,) = torch.autograd.grad(measures.path_distance(Smooth(10.0), agent, goal, free).sum(), pos)
    pos2 = pos.detach().clone().requires_grad_(True)
    straight_value = measures.distance(Smooth(10.0), soft_disc(pos2[0], pos2[1], h, w, 2.5), goal)
    (straight,) = torch.autograd.grad(straight_value.sum(), pos2)
    # the construction: the straight line to the goal goes up-left, through the divider
    assert straight[0] > 0 and straight[1] > 0
    descent = -geodesic
    corner = torch.tensor([24.0, 16.0], dtype=torch.float64) - pos.detach()  # the end of the divider
    cos = float(descent @ corner / (descent.norm() * corner.norm()))
    assert descent[0] > abs(descent[1]), descent  # mostly along the corridor (+x), away from the goal's side
    assert cos > 0.9, (descent, corner)
    assert float(descent @ torch.tensor([0.0, -1.0], dtype=torch.float64)) < 0.5 * float(descent.norm())


def test_path_distance_through_a_compiled_rule_follows_the_corridor():
    """The same case written in the rules language, on a video: the value is the corridor's length, not the straight line."""
    walls, goal, (cx, cy) = maze_case()
    h, w = walls.shape[-2:]
    video = torch.ones(1, 2, 3, h, w)
    video[:, :, :, walls[0, 0] > 0] = 0.0
    video[:, :, :, goal[0, 0] > 0] = torch.tensor([0x43, 0xA0, 0x47]).float().div(255).view(1, 1, 3, 1)
    disc = soft_disc(torch.tensor(cx), torch.tensor(cy), h, w, 2.5)[0, 0] > 0.5
    video[:, :, :, disc] = torch.tensor([0xE5, 0x39, 0x35]).float().div(255).view(1, 1, 3, 1)
    rules = rulec.compile_rules(
        'object agent = color("#e53935")\nregion goal = color("#43a047") at start\nregion walls = color("#000000") at start\n'
        "goal far : at end path_distance(agent, goal, not walls) > 0.9\n"
        "goal near : at end distance(agent, goal) < 0.6\n"
        "process p : always present(agent)\n"
    )
    with torch.no_grad():
        report = rules.to_reward()(video)
    assert bool(report.passed[0]), report.to_json()


@pytest.mark.parametrize("sem", SEMANTICS, ids=repr)
def test_path_distance_of_an_empty_object_or_goal_is_documented_and_finite(sem):
    walls, goal, (cx, cy) = maze_case()
    h, w = walls.shape[-2:]
    empty = torch.zeros(1, 1, h, w, dtype=torch.float64, requires_grad=True)
    pos = torch.tensor([cx, cy], dtype=torch.float64, requires_grad=True)
    agent = soft_disc(pos[0], pos[1], h, w, 2.5)
    for o, g, leaf in ((empty, goal, empty), (agent, empty.detach(), pos)):
        value = measures.path_distance(sem, o, g, 1 - walls)
        assert float(value.detach()) == pytest.approx(EMPTY_PATH_DISTANCE)
        (grad,) = torch.autograd.grad(value.sum(), leaf)
        assert torch.isfinite(grad).all()


def test_an_enclosed_pocket_gets_a_finite_distance_above_the_corridor_beside_it():
    h = w = 12
    walls = torch.zeros(1, 1, h, w, dtype=torch.float64)
    walls[..., 3:9, 3:9] = 1.0
    walls[..., 5:7, 5:7] = 0.0  # a pocket the goal cannot be reached from
    goal = rect(h, w, 0, 0, 1, 1)
    field = fields.path_field(goal, 1 - walls)[0, 0]
    assert torch.isfinite(field).all()
    assert field[5, 5] > field[3, 3] > field[2, 2]  # pocket > wall > corridor beside the wall


def test_progress_of_path_distance_follows_the_corridor_where_straight_distance_does_not():
    """Towards the divider's end is progress; towards the goal's side (straight closer) is not."""
    walls, goal, (cx, cy) = maze_case()
    h, w = walls.shape[-2:]
    free = 1 - walls
    along = [(cx, cy), (cx + 3, cy), (cx + 6, cy)]
    back = [(cx, cy), (cx - 3, cy), (cx - 6, cy)]
    for path, expected in ((along, True), (back, False)):
        masks = torch.cat([(soft_disc(torch.tensor(x), torch.tensor(y), h, w, 2.5) > 0.5).double() for x, y in path], dim=1)
        geodesic = atoms.decreasing(Exact(), measures.path_distance(Exact(), masks, goal, free))
        straight = atoms.decreasing(Exact(), measures.distance(Exact(), masks, goal))
        assert bool((geodesic > 0).all()) is expected
        assert bool((straight > 0).all()) is not expected  # the straight line would say the opposite


# ------------------------------------------------------------------ smooth <= exact over the new atoms
@given(dv=drawn_videos(max_frames=4), beta=st.sampled_from([1.0, 10.0, 50.0]), data=st.data())
def test_smooth_never_exceeds_exact_over_the_new_atoms(dv, beta, data):
    """Formulas over inside/overlaps/touches/path_distance margins of drawn sprites (the same margins for both semantics)."""
    colours = sorted((c for c in dv.masks if c != dv.background), key=lambda c: -int(dv.masks[c].sum()))
    a = dv.masks[colours[0]].double()
    r = dv.masks[colours[1]].double()[:, :1]
    free = 1 - dv.masks[colours[2]].double()[:, :1]
    margins = torch.stack(
        [
            atoms.inside(Exact(), a, r),
            atoms.overlaps(Exact(), a, r),
            atoms.touches(Exact(), a, r),
            atoms.lt(Exact(), measures.path_distance(Exact(), a, r, free), 0.3).expand(a.shape[:2]),
        ],
        dim=-1,
    )
    assert torch.isfinite(margins).all()
    f = data.draw(formulas(margins.shape[1], margins.shape[2]))
    assert torch.all(evaluate(f, Smooth(beta), margins) <= evaluate(f, Exact(), margins) + 1e-9)


def test_the_teachers_prompt_teaches_path_distance():
    from rulec.runtime.teacher.prompt import system_prompt

    prompt = system_prompt()
    assert "`path_distance(o: mask, goal: mask, free: mask) -> signal`" in prompt  # from the registry
    assert "progress path_distance(agent, goal, shrink(not walls, 2px))" in prompt  # and how to use it


five_by_five = st.tuples(
    st.lists(st.sampled_from([False] * 6 + [True]), min_size=25, max_size=25),
    st.lists(st.booleans(), min_size=25, max_size=25),
).map(lambda gf: (np.array(gf[0]).reshape(5, 5), np.array(gf[1]).reshape(5, 5)))


@given(maps=st.lists(five_by_five, min_size=2, max_size=3))
def test_batched_fields_equal_one_map_at_a_time_and_a_second_call_the_first(maps):
    """Fields are per map: a batch is its maps side by side, and a repeated (memoized) call gives the same values."""
    goals = torch.stack([torch.from_numpy(g).double() for g, _ in maps])[:, None]
    frees = torch.stack([torch.from_numpy(f).double() for _, f in maps])[:, None]
    batched = fields.path_field(goals, frees)
    edt = fields.region_distance(goals)
    for i in range(len(maps)):
        torch.testing.assert_close(batched[i : i + 1], fields.path_field(goals[i : i + 1], frees[i : i + 1]))
        torch.testing.assert_close(edt[i : i + 1], fields.region_distance(goals[i : i + 1]))
    torch.testing.assert_close(fields.path_field(goals, frees), batched)


def test_the_field_memo_is_bounded_and_never_serves_another_map(monkeypatch):
    monkeypatch.setattr(fields, "FIELD_CACHE_BYTES", 5 * 40 * 40 * 8)  # room for five 40x40 fields
    goal = rect(40, 40, 0, 0, 2, 2)
    first = fields.region_distance(goal).clone()
    for k in range(1, 20):  # evicts the first map's field
        fields.region_distance(rect(40, 40, k, k, k + 2, k + 2))
    assert sum(f.nbytes for f in fields._region_map.cache.values()) <= fields.FIELD_CACHE_BYTES
    torch.testing.assert_close(fields.region_distance(goal), first)  # recomputed, the same
    assert not torch.equal(fields.region_distance(rect(40, 40, 1, 0, 3, 2)), first)
