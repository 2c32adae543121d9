"""Sort by size: put same-colour circles on a shelf in a row, smallest on the left (a
realistic family, issue #20).

Default 512x512, 72 frames at 16 fps, anti-aliased circles with dark outlines. Three or four
circles **share one colour** and differ only in size (outer radii r, 1.25 r, 1.25^2 r, ...,
r in 0.04-0.05 of the frame); a brown shelf (0.06 thick) spans the lower part of the frame. They start
scattered above the shelf in an order that is not already sorted, each at least 0.1 above
its resting height.

Solver: the sorted row is centred on the shelf with 0.05-0.08 between neighbours, every
circle resting on the shelf; circles move straight to their places (trapezoidal speed, peak
0.03/frame), starting 8 frames apart, in an order and with paths chosen so that no two
circles ever come within 0.03 of each other (no occlusion in this family).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from rulec.runtime.tasks.base import Corruption, Family, Instance, Score, rng_for
from rulec.runtime.tasks.families import realistic as R

NAME = "sort_by_size"
DEFAULT_SIZE = 512
DEFAULT_FRAMES = 72
RATIO = 1.25
SHELF_THICKNESS = 0.06
HOLD, STAGGER = 3, 8
#: A circle keeps between these multiples of its first-frame area.
AREA_BOUNDS = (0.75, 1.33)
#: The gap (normalized) a resting circle's outline may leave above the shelf.
REST_TOLERANCE = 0.02


def _arrangement(radii: np.ndarray, order, gap: float, y_shelf: float) -> np.ndarray:
    """Centres of circles (indices ``order``, left to right) resting on the shelf, centred in x."""
    widths = 2 * radii[list(order)]
    total = widths.sum() + gap * (len(order) - 1)
    x = 0.5 - total / 2
    out = np.zeros((len(radii), 2))
    for i, w in zip(order, widths):
        out[i] = (x + w / 2, y_shelf - radii[i] - 0.002)
        x += w + gap
    return out


def _paths(starts: np.ndarray, ends: np.ndarray, order, frames: int) -> np.ndarray | None:
    """Per-circle normalized centres ``(N, T, 2)``: circle ``order[k]`` starts moving at frame
    ``HOLD + k * STAGGER``; ``None`` if the motion does not fit in ``frames`` with 4 frames of rest."""
    n = len(starts)
    out = np.repeat(starts[:, None], frames, axis=1)
    for k, i in enumerate(order):
        t0 = HOLD + k * STAGGER
        m = R.move_frames(float(np.hypot(*(ends[i] - starts[i]))))
        if t0 + m > frames - 4:
            return None
        out[i, t0 : t0 + m] = R.moves(starts[i], [(tuple(ends[i]), m)])
        out[i, t0 + m :] = ends[i]
    return out


def _clear(paths: np.ndarray, radii: np.ndarray, margin: float = 0.03) -> bool:
    n = len(radii)
    for i, j in itertools.combinations(range(n), 2):
        if np.hypot(*(paths[i] - paths[j]).T).min() < radii[i] + radii[j] + margin:
            return False
    return True


def _layout(rng: np.random.Generator, frames: int) -> dict:
    while True:
        n = int(rng.choice([3, 4]))
        radii = rng.uniform(0.04, 0.05) * RATIO ** np.arange(n)
        rng.shuffle(radii)
        y_shelf = rng.uniform(0.74, 0.82)
        gap = rng.uniform(0.05, 0.08)
        ends = _arrangement(radii, list(np.argsort(radii)), gap, y_shelf)
        starts = []
        for i in range(n):
            for _ in range(200):
                p = np.array([rng.uniform(0.06 + radii[i], 0.94 - radii[i]), rng.uniform(0.06 + radii[i], y_shelf - 0.1 - 2 * radii[i])])
                if all(np.hypot(*(p - q)) >= radii[i] + radii[j] + 0.05 for j, q in enumerate(starts)):
                    starts.append(p)
                    break
            else:
                break
        if len(starts) < n:
            continue
        starts = np.array(starts)
        if list(np.argsort(starts[:, 0])) == list(np.argsort(radii)):
            continue  # already in size order from left to right: nothing to sort
        if np.any(ends[:, 1] - starts[:, 1] < 0.1):
            continue
        orders = list(itertools.permutations(range(n)))
        rng.shuffle(orders)
        for order in orders:
            paths = _paths(starts, ends, order, frames)
            if paths is not None and _clear(paths, radii):
                return {"radii": radii, "starts": starts, "ends": ends, "order": list(order), "gap": gap,
                        "y_shelf": y_shelf, "paths": paths}


def _shelf_layer(meta: dict, T: int) -> R.Layer:
    size = meta["size"]
    y = meta["positions"]["shelf"][0]
    half_w, half_h = 0.46 * size, SHELF_THICKNESS / 2 * size
    sp = R.rect(half_w, half_h, meta["colours"]["shelf"]["hex"], R.outline_px(size), 0.3 * half_h)
    centre = R.to_pixels(np.array([[0.5, y + SHELF_THICKNESS / 2]]), size)
    return R.Layer("shelf", sp, np.repeat(centre, T, axis=0))


def _render(meta: dict, paths: np.ndarray, radii_per_frame=None, hide=None, shelf_cut=False) -> np.ndarray:
    """A video of the scene with circles along ``paths`` ``(N, T, 2)`` (normalized)."""
    size, T = meta["size"], meta["num_frames"]
    w = R.outline_px(size)
    hexc = meta["colours"]["circle"]["hex"]
    radii = np.asarray(meta["geometry"]["radii"])
    layers = [_shelf_layer(meta, T)]
    if shelf_cut:  # the right third of the shelf painted over with the background from mid-video
        cover = R.Layer("cut", R.rect(0.16 * size, (SHELF_THICKNESS / 2 + 0.01) * size, R.BACKGROUND, 0.0),
                        np.repeat(R.to_pixels(np.array([[0.8, meta["positions"]["shelf"][0] + SHELF_THICKNESS / 2]]), size), T, axis=0))
        cover.sprite = _flat(cover.sprite)
        cover.positions = cover.positions.copy()
        cover.positions[: T // 2] = -10 * size
        layers.append(cover)
    cache: dict = {}
    for i in range(len(radii)):
        px = R.to_pixels(paths[i], size)
        if hide is not None and hide.get(i) is not None:
            px[hide[i]] = -10 * size
        if radii_per_frame is None:
            sprite = R.circle(radii[i] * size, hexc, w)
        else:
            sprite = []
            for t in range(T):
                r = round(float(radii_per_frame[i][t]) * size * 4) / 4
                if r not in cache:
                    cache[r] = R.circle(r, hexc, w)
                sprite.append(cache[r])
        layers.append(R.Layer(f"circle{i}", sprite, px))
    return R.render(size, layers, T)


def _flat(sprite: R.Sprite) -> R.Sprite:
    """A background-coloured patch without an outline (for repainting)."""
    bg = np.array(R.rgb(R.BACKGROUND), dtype=np.float32)
    alpha = (sprite.alpha > 0).astype(np.float32)
    return R.Sprite(alpha[..., None] * bg, alpha, sprite.kx, sprite.ky)


def make(seed: int, size: int = DEFAULT_SIZE, frames: int = DEFAULT_FRAMES) -> Instance:
    if size % 2 or not (64 <= size <= 2048):
        raise ValueError(f"size must be even, 64..2048, got {size}")
    rng = rng_for(NAME, seed)
    colour = ["orange", "blue", "purple", "red"][int(rng.integers(4))]
    lay = _layout(rng, frames)
    colours = {"circle": R.colour_entry(colour), "shelf": R.colour_entry("brown"), **R.base_colours()}
    n = len(lay["radii"])
    meta = {
        "family": NAME, "seed": seed, "size": size, "num_frames": frames, **R.encodes_entry(),
        "colours": colours,
        "positions": {"shelf": [float(lay["y_shelf"])],
                      "starts": [float(v) for v in lay["starts"].ravel()], "ends": [float(v) for v in lay["ends"].ravel()]},
        "geometry": {"radii": [float(r) for r in lay["radii"]], "count": n, "gap": float(lay["gap"]),
                     "shelf_thickness": SHELF_THICKNESS, "move_order": lay["order"]},
    }
    px = [R.to_pixels(lay["paths"][i], size) for i in range(n)]
    meta["tracks"] = [[[float(x) + 0.5, float(y) + 0.5] for x, y in p] for p in px]
    meta["solution_path"] = meta["tracks"][lay["order"][0]]
    video = _render(meta, lay["paths"])
    prompt = (f"Put the {colour} circles on the brown shelf in one row, ordered by size: the smallest on the left, "
              "the largest on the right.")
    return Instance(NAME, seed, video[0], prompt, video, rules_text(prompt, meta), meta)


def rules_text(prompt: str, meta: dict) -> str:
    """The reference rules in today's DSL; numbers from the first frame's geometry and the scorer's constants."""
    size = meta["size"]
    w = R.outline_px(size)
    radii = np.sort(np.asarray(meta["geometry"]["radii"]))
    n = len(radii)
    # each circle's fill area, in the order of its start from the left (track(circles, k)'s order)
    own = np.asarray(meta["geometry"]["radii"])[np.argsort(np.array(meta["positions"]["starts"]).reshape(n, 2)[:, 0], kind="stable")]
    areas = [math.pi * (r * size - w) ** 2 / size**2 for r in own]
    y_top = meta["positions"]["shelf"][0]
    band_top = round(y_top - 2 * radii[-1] - REST_TOLERANCE, 3)
    band_bottom = round(y_top + 0.005, 3)
    # the fill's lowest pixel: above the shelf by its outline, the circle's own outline and the scorer's gap
    rest = round(y_top - REST_TOLERANCE - (2 * w + 1.5) / size, 4)
    hexc = meta["colours"]["circle"]["hex"]
    count = f"(components(circles) > {n - 0.5} and components(circles) < {n + 0.5})"
    lines = [
        f'task {NAME} "{prompt}"\n',
        f'object circles = color("{hexc}", tol=16)',
        "# the shelf is the one large piece of its colour (an mp4's fringes round the circles can come close to it)",
        f'region shelf   = largest(color("{meta["colours"]["shelf"]["hex"]}", tol=16)) at start',
        "",
        f"goal    row     : at end inside(circles, box(0, {band_top}, 1, {band_bottom}), frac=0.98)",
        f"goal    number  : at end {count}",
        "# each circle rests on the shelf: its lowest pixel just above the shelf's top",
        f"goal    rest    : at end (all c in circles: bottom_edge(c) > {rest})",
        "# from left to right, each circle smaller than the next",
        "goal    order   : at end (all c, d in circles: left_of(c, d) implies area(c) < area(d))",
        f"process count   : always {count}",
        "# every circle keeps its own size (followed from its place in frame 0, so sizes cannot trade places)",
        "process size    : always (" + " and ".join(
            f"present(track(circles, {k + 1}), frac={AREA_BOUNDS[0]}) and area(track(circles, {k + 1})) < {round(AREA_BOUNDS[1] * a, 5)}"
            for k, a in enumerate(areas)) + ")",
        f"process steady  : always speed(circles) < {R.MAX_STEP}",
        f"process scenery : always unchanged(shelf - grow(circles, {R.AROUND})) weight 0.5",
    ]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ scorer
def score(inst: Instance, video: np.ndarray) -> Score:
    v = R.Video(inst, video)
    size, margin = v.size, v.margin
    first = R.blobs(v.mask(None, "circle"), 1)
    if not first:
        raise ValueError(f"{inst.name}: no circles in the first frame")
    speck = 0.08 * first[0].area
    first = [b for b in first if b.area >= speck]
    n = len(first)
    shelf = R.blobs(v.mask(None, "shelf"), 1)[0].mask
    shelf_top = int(np.nonzero(shelf.any(1))[0][0])
    lo, hi = AREA_BOUNDS
    area0 = np.array([b.area for b in first], dtype=float)
    pos = np.array([b.centre for b in first])
    prev_area = area0.copy()
    vel = np.zeros_like(pos)
    counts_ok = sizes_ok = cont = True
    final: list = [None] * n
    masks = []
    for t in range(v.T):
        bs = R.blobs(v.mask(t, "circle"), speck)
        m = np.zeros((size, size), dtype=bool)
        for b in bs:
            m |= b.mask
        masks.append(m)
        if len(bs) != n:
            counts_ok = False
        if not bs:
            continue
        step = R.MAX_STEP * size
        cost = np.array([[np.hypot(*(b.centre - pos[i] - vel[i])) / step + abs(math.log(b.area / prev_area[i])) / math.log(RATIO)
                          for b in bs] for i in range(n)])
        pairs = R.assign(cost, unmatched=1e6)
        for i, j in pairs:
            b = bs[j]
            if np.hypot(*(b.centre - pos[i])) > step:
                cont = False
            if not (lo * area0[i] <= b.area <= hi * area0[i]):
                sizes_ok = False
            vel[i] = b.centre - pos[i]
            pos[i], prev_area[i] = b.centre, b.area
            if t == v.T - 1:
                final[i] = b
    ok_final = all(b is not None for b in final)
    tol = 2 * v.outline + REST_TOLERANCE * size + 2
    on_shelf = ok_final and all(0 <= shelf_top - b.bbox[3] <= tol for b in final)
    ordered = ok_final and list(np.argsort([b.centre[0] for b in final])) == list(np.argsort(area0))
    start_fp = np.zeros((size, size), dtype=bool)
    for b in first:
        start_fp |= b.mask
    checks = {
        "first_frame_kept": v.frame_kept(0),
        "count_kept": counts_ok,
        "sizes_kept": sizes_ok,
        "continuous": cont,
        "on_shelf": bool(on_shelf),
        "ordered": bool(ordered),
        "scenery_unchanged": v.scenery_kept(lambda t: R.dilated(masks[t] | start_fp, margin + 1)),
    }
    return Score.from_checks(checks, {"on_shelf": 2.0, "ordered": 2.0})


# ------------------------------------------------------------------ corruptions
def _geometry(inst: Instance):
    m = inst.metadata
    n = m["geometry"]["count"]
    starts = np.array(m["positions"]["starts"]).reshape(n, 2)
    ends = np.array(m["positions"]["ends"]).reshape(n, 2)
    return starts, ends, np.array(m["geometry"]["radii"]), m["geometry"]["move_order"]


def _solution(inst: Instance) -> np.ndarray:
    """The ground truth's circle centres, normalized ``(N, T, 2)``."""
    return np.asarray(inst.metadata["tracks"]) / inst.metadata["size"]


def _to_ends(inst: Instance, ends: np.ndarray) -> np.ndarray:
    starts, _, radii, order = _geometry(inst)
    paths = _paths(starts, ends, order, inst.metadata["num_frames"])
    if paths is None:  # (never for the arrangements below, which are as wide as the solution's)
        raise RuntimeError(f"{inst.name}: the corrupted arrangement does not fit in time")
    return paths


def _arranged(inst: Instance, order) -> np.ndarray:
    _, _, radii, _ = _geometry(inst)
    m = inst.metadata
    return _arrangement(radii, order, m["geometry"]["gap"], m["positions"]["shelf"][0])


def reversed_order(inst: Instance) -> np.ndarray:
    """The row is sorted the wrong way: largest on the left."""
    _, _, radii, _ = _geometry(inst)
    return _render(inst.metadata, _to_ends(inst, _arranged(inst, list(np.argsort(radii))[::-1])))


def swap_two(inst: Instance) -> np.ndarray:
    """Sorted except that the two smallest circles change places."""
    _, _, radii, _ = _geometry(inst)
    order = list(np.argsort(radii))
    order[0], order[1] = order[1], order[0]
    return _render(inst.metadata, _to_ends(inst, _arranged(inst, order)))


def floating(inst: Instance) -> np.ndarray:
    """The sorted row stops 0.12 above the shelf."""
    _, ends, _, _ = _geometry(inst)
    return _render(inst.metadata, _to_ends(inst, ends - [0, 0.12]))


def one_floats(inst: Instance) -> np.ndarray:
    """Sorted, but the smallest circle stops 0.06 above the shelf."""
    _, ends, radii, _ = _geometry(inst)
    ends = ends.copy()
    ends[int(np.argmin(radii))] -= [0, 0.06]
    return _render(inst.metadata, _to_ends(inst, ends))


def stop_short(inst: Instance) -> np.ndarray:
    """The last circle to move halts half-way."""
    starts, ends, _, order = _geometry(inst)
    ends = ends.copy()
    last = order[-1]
    ends[last] = (starts[last] + ends[last]) / 2
    return _render(inst.metadata, _to_ends(inst, ends))


def size_cheat(inst: Instance) -> np.ndarray:
    """The circles keep their left-to-right order and change size instead: the last frame looks
    solved, but each circle grew or shrank into the size its place needs."""
    starts, _, radii, order = _geometry(inst)
    by_x = list(np.argsort(starts[:, 0]))  # the circles' own left-to-right order
    sorted_r = np.sort(radii)
    m = inst.metadata
    ends = _arrangement(np.array([sorted_r[by_x.index(i)] for i in range(len(radii))]), by_x, m["geometry"]["gap"], m["positions"]["shelf"][0])
    paths = _paths(starts, ends, order, m["num_frames"])
    if paths is None:
        raise RuntimeError(f"{inst.name}: the cheat does not fit in time")
    T = m["num_frames"]
    per_frame = np.zeros((len(radii), T))
    for i in range(len(radii)):
        target = sorted_r[by_x.index(i)]
        moving = np.nonzero(np.any(np.diff(paths[i], axis=0) != 0, axis=1))[0]
        t0, t1 = int(moving[0]), int(moving[-1]) + 1
        u = np.clip((np.arange(T) - t0) / max(t1 - t0, 1), 0, 1)
        per_frame[i] = radii[i] + (target - radii[i]) * u
        # keep resting on the shelf at the end whatever the size
        paths[i, t1:, 1] = m["positions"]["shelf"][0] - target - 0.002
    return _render(m, paths, radii_per_frame=per_frame)


def teleport(inst: Instance) -> np.ndarray:
    """The first circle to move jumps to its place."""
    paths = _solution(inst)
    _, ends, _, order = _geometry(inst)
    i = order[0]
    t0 = HOLD + 1
    paths[i, t0:] = ends[i]
    return _render(inst.metadata, paths)


def vanish(inst: Instance) -> np.ndarray:
    """The last circle to move disappears for 8 frames while it waits."""
    _, _, _, order = _geometry(inst)
    hide = np.zeros(inst.metadata["num_frames"], dtype=bool)
    hide[HOLD + 1 : HOLD + 9] = True
    return _render(inst.metadata, _solution(inst), hide={order[-1]: hide})


def duplicate(inst: Instance) -> np.ndarray:
    """A copy of the smallest circle appears in a free spot from mid-video on."""
    m = inst.metadata
    paths = _solution(inst)
    starts, ends, radii, _ = _geometry(inst)
    i = int(np.argmin(radii))
    rng = np.random.default_rng(inst.seed)
    T = m["num_frames"]
    for _ in range(5000):
        p = np.array([rng.uniform(0.08, 0.92), rng.uniform(0.08, m["positions"]["shelf"][0] - 0.1)])
        if all(np.hypot(*(paths[j] - p).T).min() >= radii[j] + radii[i] + 0.04 for j in range(len(radii))):
            break
    else:
        raise RuntimeError(f"{inst.name}: no free spot for a duplicate")
    extra = np.repeat(p[None], T, axis=0)
    m2 = {**m, "geometry": {**m["geometry"], "radii": list(radii) + [float(radii[i])]}}
    hide = np.zeros(T, dtype=bool)
    hide[: T // 2] = True
    return _render(m2, np.concatenate([paths, extra[None]]), hide={len(radii): hide})


def scenery_repainted(inst: Instance) -> np.ndarray:
    """The right part of the shelf is painted over with the background from mid-video on."""
    return _render(inst.metadata, _solution(inst), shelf_cut=True)


FAMILY = Family(
    NAME,
    "realistic (512 px, 72 frames): same-colour circles onto a shelf, sorted by size from left to right",
    make,
    score,
    (
        Corruption("reversed", "ordered", reversed_order),
        Corruption("swap_two", "ordered", swap_two),
        Corruption("floating", "on_shelf", floating),
        Corruption("one_floats", "on_shelf", one_floats),
        Corruption("stop_short", "on_shelf", stop_short),
        Corruption("size_cheat", "sizes_kept", size_cheat),
        Corruption("teleport", "continuous", teleport),
        Corruption("vanish", "count_kept", vanish),
        Corruption("duplicate", "count_kept", duplicate),
        Corruption("scenery_repainted", "scenery_unchanged", scenery_repainted),
    ),
)
