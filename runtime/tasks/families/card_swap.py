"""Card swap: swap the two outer cards of a row of three identical cards, one card at a time,
the middle card staying put (a realistic family, issue #20).

Default 256x256, 80 frames at 16 fps, anti-aliased rounded cards with dark outlines on a
table. All three cards **share one colour** and one size (0.15 x 0.21 of the frame), so only
their motion tells them apart. One outer card (the *parker*) first moves out of the row
(up or down by 1.25 card heights); the other (the *slider*) slides along the row into the
parker's place **behind** the middle card (drawn under it, so it is partly, then almost
entirely hidden for several frames: **occlusion**); the parker then goes round above (or
below) the row into the slider's old place. Trapezoidal speeds, peak 0.03/frame, 2 frames of
pause between moves.
"""

from __future__ import annotations

import math

import numpy as np

from rulec.runtime.tasks.base import Corruption, Family, Instance, Score, rng_for
from rulec.runtime.tasks.families import realistic as R

NAME = "card_swap"
DEFAULT_SIZE = 256
DEFAULT_FRAMES = 80
CARD_W, CARD_H = 0.15, 0.21
PARK = 1.25  # parking offset, in card heights
HOLD, PAUSE = 3, 2
#: Frames a card may stay hidden (behind another card) in a row.
MAX_HIDDEN = 16
#: A visible card keeps between these multiples of its first-frame area; less is a card partly hidden.
AREA_BOUNDS = (0.75, 1.3)
#: A card not seen whole must have at least this fraction of its box (outline included) behind a card seen whole.
BEHIND = 0.15
#: Displacement (px, at least; or this fraction of the frame) above which a card counts as moving in a frame.
MOVE_EPS = 0.004


def _plan(lay: dict, frames: int, kind: str = "solution") -> np.ndarray | None:
    """Normalized centres ``(3, T, 2)`` of the cards (0 left, 1 middle, 2 right) for a plan.

    ``solution``: park, slide behind the middle card, go round; ``fake``: each outer card goes
    out of the row and back; ``both``: the three moves of the solution at once; ``wrong``: the
    parker swaps with the middle card instead."""
    slots, park_dir, parker = lay["slots"], lay["park_dir"], lay["parker"]
    slider = 2 - parker
    off = np.array([0.0, park_dir * PARK * CARD_H])
    out = np.repeat(slots[:, None], frames, axis=1).astype(float)

    def go(i, t0, pts):
        t = t0
        cur = out[i, t0 - 1] if t0 > 0 else slots[i]
        for p in pts:
            n = R.move_frames(float(np.hypot(*(np.asarray(p) - cur))))
            if t + n > frames:
                return None
            out[i, t : t + n] = R.moves(cur, [(tuple(p), n)])
            out[i, t + n :] = p
            cur, t = np.asarray(p), t + n
        return t

    p0 = slots[parker] + off
    if kind == "solution":
        t = go(parker, HOLD, [p0])
        t = t and go(slider, t + PAUSE, [slots[parker]])
        t = t and go(parker, t + PAUSE, [np.array([slots[slider][0], p0[1]]), slots[slider]])
    elif kind == "both":
        t = go(parker, HOLD, [p0])
        t = t and go(slider, HOLD, [slots[parker]])
        t = t and go(parker, HOLD + R.move_frames(float(np.hypot(*off))), [np.array([slots[slider][0], p0[1]]), slots[slider]])
    elif kind == "fake":
        t = go(parker, HOLD, [p0, slots[parker]])
        t = t and go(slider, t + PAUSE, [slots[slider] - off, slots[slider]])
    elif kind == "wrong":
        t = go(parker, HOLD, [p0])
        t = t and go(1, t + PAUSE, [slots[parker]])
        t = t and go(parker, t + PAUSE, [np.array([slots[1][0], p0[1]]), slots[1]])
    else:
        raise ValueError(kind)
    if not t or t > frames - 4:
        return None
    return out


def _layout(rng: np.random.Generator, frames: int) -> dict:
    while True:
        y = rng.uniform(0.42, 0.58)
        spacing = rng.uniform(0.2, 0.23)
        cx = 0.5 + rng.uniform(-0.03, 0.03)
        slots = np.array([[cx - spacing, y], [cx, y], [cx + spacing, y]])
        park_dir = float(rng.choice([-1.0, 1.0]))
        parker = int(rng.choice([0, 2]))
        lay = {"slots": slots, "park_dir": park_dir, "parker": parker, "spacing": spacing}
        edge = y + park_dir * (PARK * CARD_H + CARD_H / 2)
        if not (0.06 < edge < 0.94):
            continue
        if _plan(lay, frames) is not None:
            return lay


def _layers(meta: dict, paths: np.ndarray, *, grow_card=None, hide=None, extra=None, repaint=False) -> list:
    size, T = meta["size"], meta["num_frames"]
    w = R.outline_px(size)
    hexc = meta["colours"]["card"]["hex"]
    card = R.rect(CARD_W / 2 * size, CARD_H / 2 * size, hexc, w, 0.1 * CARD_W * size)
    table = R.rect(0.47 * size, 0.47 * size, meta["colours"]["table"]["hex"], w, 0.04 * size)
    layers = [R.Layer("table", table, np.repeat(R.to_pixels(np.array([[0.5, 0.5]]), size), T, axis=0))]
    if repaint:  # a corner of the table painted over with the background from mid-video on
        patch = R.rect(0.08 * size, 0.08 * size, R.BACKGROUND, 1.0)
        alpha = (patch.alpha > 0).astype(np.float32)
        patch = R.Sprite(alpha[..., None] * np.array(R.rgb(R.BACKGROUND), dtype=np.float32), alpha, patch.kx, patch.ky)
        pos = np.repeat(R.to_pixels(np.array([[0.06, 0.06]]), size), T, axis=0)
        pos[: T // 2] = -10 * size
        layers.append(R.Layer("patch", patch, pos))
    parker = meta["geometry"]["parker"]
    slider = 2 - parker
    px = {i: R.to_pixels(paths[i], size) for i in range(3)}
    if hide is not None:
        for i, h in hide.items():
            px[i][h] = -10 * size
    sprite = {i: card for i in range(3)}
    if grow_card is not None:
        i, t0, scale = grow_card
        big = R.rect(CARD_W / 2 * size * scale, CARD_H / 2 * size * scale, hexc, w, 0.1 * CARD_W * size)
        sprite[i] = [card] * t0 + [big] * (T - t0)
    for i in (slider, 1, parker):  # the slider under the middle card, the parker on top
        layers.append(R.Layer(f"card{i}", sprite[i], px[i]))
    if extra is not None:
        pos = np.repeat(R.to_pixels(np.array([extra]), size), T, axis=0)
        pos[: T // 2] = -10 * size
        layers.append(R.Layer("card3", card, pos))
    return layers


def make(seed: int, size: int = DEFAULT_SIZE, frames: int = DEFAULT_FRAMES) -> Instance:
    if size % 2 or not (64 <= size <= 2048):
        raise ValueError(f"size must be even, 64..2048, got {size}")
    rng = rng_for(NAME, seed)
    colour = ["blue", "red", "purple", "green"][int(rng.integers(4))]
    lay = _layout(rng, frames)
    paths = _plan(lay, frames)
    colours = {"card": R.colour_entry(colour), "table": R.colour_entry("table"), **R.base_colours()}
    meta = {
        "family": NAME, "seed": seed, "size": size, "num_frames": frames, **R.encodes_entry(),
        "colours": colours,
        "positions": {"slots": [float(v) for v in lay["slots"].ravel()]},
        "geometry": {"card_w": CARD_W, "card_h": CARD_H, "parker": lay["parker"], "park_dir": lay["park_dir"],
                     "spacing": float(lay["spacing"])},
    }
    px = [R.to_pixels(paths[i], size) for i in range(3)]
    meta["tracks"] = [[[float(x) + 0.5, float(y) + 0.5] for x, y in p] for p in px]
    meta["solution_path"] = meta["tracks"][2 - lay["parker"]]  # the slider's, which passes behind
    layers = _layers(meta, paths)
    meta["slider_visible_fraction"] = [round(float(f), 4) for f in R.visible_fraction(size, layers, f"card{2 - lay['parker']}", frames)]
    video = R.render(size, layers, frames)
    prompt = (f"Swap the leftmost and the rightmost {colour} card, moving one card at a time; "
              "the middle card stays where it is.")
    return Instance(NAME, seed, video[0], prompt, video, rules_text(prompt, meta), meta)


def rules_text(prompt: str, meta: dict) -> str:
    """The reference rules in today's DSL: the three places read off the first frame as boxes."""
    size = meta["size"]
    w = R.outline_px(size)
    area = (CARD_W * size - 2 * w) * (CARD_H * size - 2 * w) / size**2
    slots = np.array(meta["positions"]["slots"]).reshape(3, 2)
    box = lambda c: ", ".join(f"{v:.3f}" for v in (c[0] - CARD_W / 2, c[1] - CARD_H / 2, c[0] + CARD_W / 2, c[1] + CARD_H / 2))
    full, big = round(0.8 * area, 5), round(AREA_BOUNDS[1] * area, 5)
    gaps = (meta["geometry"]["spacing"] - CARD_W, (PARK - 1) * CARD_H)
    band = max(1, int(min(gaps) * size) - 2)
    return (
        f'task {NAME} "{prompt}"\n\n'
        f'object cards  = color("{meta["colours"]["card"]["hex"]}", tol=16)\n'
        f'region table  = color("{meta["colours"]["table"]["hex"]}", tol=16) at start\n'
        "# the three places, read off the first frame\n"
        f"region left   = box({box(slots[0])})\n"
        f"region middle = box({box(slots[1])})\n"
        f"region right  = box({box(slots[2])})\n"
        "# a band around the middle card, narrower than the gaps to the other places and the parking places\n"
        f"region beside = grow(middle, {band}px) - middle\n\n"
        "# the cards by their place in frame 0, followed through the swap (and behind the middle card)\n"
        "let first = track(cards, 1)\n"
        "let second = track(cards, 2)\n"
        "let third = track(cards, 3)\n\n"
        "goal    swapped    : at end (inside(first, right) and inside(third, left) and inside(second, middle))\n"
        f"goal    filled     : at end (area(cards and left) > {full} and area(cards and right) > {full} and area(cards and middle) > {full})\n"
        f"process middle     : always area(cards and middle) > {full}\n"
        "# less than three cards' worth of colour (halfway between two and three) only while some shows\n"
        "# in the band around the middle card: a card is behind it\n"
        f"process seen       : always (area(cards) > {round(2.5 * area, 5)} or eventually[0:{MAX_HIDDEN}] area(cards and beside) > {round(0.1 * area, 5)})\n"
        f"process size       : always (all c in cards: area(c) < {big})\n"
        "# one card at a time: never two of them moving in the same frame\n"
        f"process one_move   : always not ((moving(first, v={MOVE_EPS}) and moving(third, v={MOVE_EPS})) or moving(second, v={MOVE_EPS}))\n"
        "process count      : always components(cards) < 3.5\n"
        f"process steady     : always speed(cards) < {R.MAX_STEP}\n"
        "# unchanged() compares with frame 0, which shows the cards, not the table, where they stood\n"
        f"process scenery    : always unchanged(table - grow(cards, {R.AROUND}) - grow(cards at start, {R.AROUND})) weight 0.5\n"
    )


# ------------------------------------------------------------------ scorer
def _box(centre, wh):
    return (centre[0] - wh[0] / 2, centre[1] - wh[1] / 2, centre[0] + wh[0] / 2, centre[1] + wh[1] / 2)


def _covered(a, b) -> float:
    """Fraction of box a covered by box b."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / max((a[2] - a[0]) * (a[3] - a[1]), 1e-9)


def _box_gap(a, b) -> float:
    """Chebyshev distance between two boxes (0 when they touch or overlap)."""
    return max(0.0, max(a[0], b[0]) - min(a[2], b[2]), max(a[1], b[1]) - min(a[3], b[3]))


def score(inst: Instance, video: np.ndarray) -> Score:
    v = R.Video(inst, video)
    size, margin = v.size, v.margin
    first = R.blobs(v.mask(None, "card"), 1)
    if len(first) < 3:
        raise ValueError(f"{inst.name}: fewer than three cards in the first frame")
    first = sorted(first[:3], key=lambda b: b.centre[0])
    area0 = float(np.median([b.area for b in first]))
    wh = np.median([b.size for b in first], axis=0)
    outer = wh + 2 * v.outline  # the card's box, outline included
    lo, hi = AREA_BOUNDS
    speck = 0.03 * area0
    step = R.MAX_STEP * size
    slack = 0.02 * size
    eps = max(1.0, MOVE_EPS * size)

    def full(b):
        return lo * area0 <= b.area <= hi * area0 and np.all(np.abs(np.array(b.size) - wh) <= 0.15 * wh + 2)

    n = 3
    start = np.array([b.centre for b in first])
    pos, vel = start.copy(), np.zeros((n, 2))
    last = np.zeros(n, dtype=int)
    count_ok = shape_ok = cont = one_at_a_time = True
    middle_ok = True
    masks = []
    seen_last = np.zeros(n, dtype=bool)
    for t in range(v.T):
        bs = R.blobs(v.mask(t, "card"), speck)
        m = np.zeros((size, size), dtype=bool)
        for b in bs:
            m |= b.mask
        masks.append(m)
        fulls = [b for b in bs if full(b)]
        others = [b for b in bs if not full(b)]
        if any(b.area > hi * area0 for b in others):
            shape_ok = False
        gap = t - last
        pred = pos + vel * gap[:, None]
        matched: dict[int, R.Blob] = {}
        if fulls:
            gate = np.maximum(gap, 1) * step + slack
            # a card seen in the last frame is preferred to one hidden for a while (two identical
            # cards on top of each other: the one in front is the one that was in front)
            cost = np.array([[np.hypot(*(b.centre - pred[i])) / gate[i] + min(0.05 * (gap[i] - 1), 0.5) for b in fulls] for i in range(n)])
            for i, j in R.assign(cost, unmatched=1.0):
                matched[i] = fulls[j]
        free = [j for j, b in enumerate(fulls) if all(b is not mb for mb in matched.values())]
        vis_boxes = [_box(b.centre, outer) for b in matched.values()]
        behind = {i for i in range(n) if i not in matched and any(
            max(_covered(_box(p, outer), vb) for p in (pos[i], pred[i])) >= BEHIND for vb in vis_boxes)}
        lost = [i for i in range(n) if i not in matched and i not in behind]
        if lost and free:  # identity by elimination: a card seen far from where it was is a jump
            cost = np.array([[np.hypot(*(fulls[j].centre - pos[i])) for j in free] for i in lost])
            for a, b in R.assign(cost, unmatched=10.0 * size):
                matched[lost[a]] = fulls[free[b]]
            free = [j for j in free if all(fulls[j] is not mb for mb in matched.values())]
        if free:
            count_ok = False  # a card more than there were
        for i in behind:  # where a hidden card is, slivers of it may show: not scenery
            x0, y0, x1, y1 = (int(round(c)) for c in _box(pred[i], outer + 2 * margin))
            m[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = True
        for i in range(n):
            if i not in matched and i not in behind:
                count_ok = False  # gone without anything to hide behind
            if i not in matched and gap[i] >= MAX_HIDDEN:
                count_ok = False
        if (t == 0 or t == v.T - 1) and len(matched) < n:
            count_ok = False
        for b in others:  # a piece of card must show beside a whole one (a card behind it)
            if not any(_box_gap(b.bbox, fb.bbox) <= margin for fb in fulls):
                count_ok = False
        moving = 0
        for i, b in matched.items():
            d = float(np.hypot(*(b.centre - pos[i])))
            if d > max(gap[i], 1) * step + (slack if gap[i] > 1 else 0.0):
                cont = False
            if gap[i] == 1 and d > eps:
                moving += 1
            vel[i] = (b.centre - pos[i]) / max(gap[i], 1)
            pos[i], last[i] = b.centre, t
            if i == 1 and np.hypot(*(b.centre - start[1])) > 0.02 * size:
                middle_ok = False
        if moving > 1:
            one_at_a_time = False
        seen_last = np.array([i in matched for i in range(n)])
    tol = 0.03 * size
    swapped = bool(seen_last.all() and np.hypot(*(pos[0] - start[2])) <= tol and np.hypot(*(pos[2] - start[0])) <= tol)
    start_fp = np.zeros((size, size), dtype=bool)
    for b in first:
        start_fp |= b.mask
    checks = {
        "first_frame_kept": v.frame_kept(0),
        "cards_kept": count_ok,
        "card_shape": shape_ok,
        "continuous": cont,
        "swapped": swapped,
        "middle_still": middle_ok,
        "one_at_a_time": one_at_a_time,
        "scenery_unchanged": v.scenery_kept(lambda t: R.dilated(masks[t] | start_fp, margin + 1)),
    }
    return Score.from_checks(checks, {"swapped": 2.0, "middle_still": 1.5})


# ------------------------------------------------------------------ corruptions
def _lay(inst: Instance) -> dict:
    g = inst.metadata["geometry"]
    return {"slots": np.array(inst.metadata["positions"]["slots"]).reshape(3, 2), "park_dir": g["park_dir"],
            "parker": g["parker"], "spacing": g["spacing"]}


def _solution(inst: Instance) -> np.ndarray:
    return np.asarray(inst.metadata["tracks"]) / inst.metadata["size"]


def _video(inst: Instance, paths: np.ndarray, **kw) -> np.ndarray:
    return R.render(inst.metadata["size"], _layers(inst.metadata, paths, **kw), inst.metadata["num_frames"])


def _plan_or_fail(inst: Instance, kind: str) -> np.ndarray:
    paths = _plan(_lay(inst), inst.metadata["num_frames"], kind)
    if paths is None:
        raise RuntimeError(f"{inst.name}: the {kind} plan does not fit in time")
    return paths


def no_swap(inst: Instance) -> np.ndarray:
    """Nothing moves (the last frame looks exactly like a finished swap of identical cards)."""
    paths = _solution(inst)
    return _video(inst, np.repeat(paths[:, :1], paths.shape[1], axis=1))


def fake_swap(inst: Instance) -> np.ndarray:
    """Each outer card steps out of the row and back into its own place."""
    return _video(inst, _plan_or_fail(inst, "fake"))


def wrong_pair(inst: Instance) -> np.ndarray:
    """The parker swaps with the middle card instead of the other outer card."""
    return _video(inst, _plan_or_fail(inst, "wrong"))


def both_move(inst: Instance) -> np.ndarray:
    """The same three moves, all started together."""
    return _video(inst, _plan_or_fail(inst, "both"))


def middle_moves(inst: Instance) -> np.ndarray:
    """After the swap the middle card drifts 0.06 along the row and stays there."""
    paths = _solution(inst)
    T = paths.shape[1]
    k = np.clip((np.arange(T) - (T - 12)) / 6, 0, 1)
    paths[1, :, 0] += 0.06 * k
    return _video(inst, paths)


def teleport(inst: Instance) -> np.ndarray:
    """The parker jumps from its parking place into the slider's old place."""
    paths = _solution(inst)
    parker = inst.metadata["geometry"]["parker"]
    moving = np.nonzero(np.any(np.diff(paths[parker], axis=0) != 0, axis=1))[0]
    # the parker's last move starts after the longest pause in its motion
    gaps = np.diff(moving)
    t0 = int(moving[int(np.argmax(gaps)) + 1])
    paths[parker, t0:] = paths[parker, -1]
    return _video(inst, paths)


def vanish(inst: Instance) -> np.ndarray:
    """The parked card disappears for 6 frames while the other card slides."""
    paths = _solution(inst)
    slider = 2 - inst.metadata["geometry"]["parker"]
    moving = np.nonzero(np.any(np.diff(paths[slider], axis=0) != 0, axis=1))[0]
    mid = int(moving[len(moving) // 2])
    hide = np.zeros(paths.shape[1], dtype=bool)
    hide[mid - 3 : mid + 3] = True
    return _video(inst, paths, hide={inst.metadata["geometry"]["parker"]: hide})


def duplicate(inst: Instance) -> np.ndarray:
    """A fourth card appears from mid-video on, in a free place on the other side of the row."""
    lay = _lay(inst)
    paths = _solution(inst)
    y = lay["slots"][1][1] - lay["park_dir"] * PARK * CARD_H
    x = float(lay["slots"][1][0])
    if not (CARD_H / 2 + 0.03 < y < 1 - CARD_H / 2 - 0.03):
        raise RuntimeError(f"{inst.name}: no free place for a duplicate")
    return _video(inst, paths, extra=(x, y))


def grow(inst: Instance) -> np.ndarray:
    """The parked card grows to 1.3 times its size."""
    paths = _solution(inst)
    parker = inst.metadata["geometry"]["parker"]
    moving = np.nonzero(np.any(np.diff(paths[parker], axis=0) != 0, axis=1))[0]
    t0 = int(moving[int(np.argmax(np.diff(moving)))]) + 2  # parked
    return _video(inst, paths, grow_card=(parker, t0, 1.3))


def scenery_repainted(inst: Instance) -> np.ndarray:
    """A corner of the table is painted over with the background from mid-video on."""
    return _video(inst, _solution(inst), repaint=True)


FAMILY = Family(
    NAME,
    "realistic (256 px, 80 frames): swap the outer cards of three identical ones, one at a time; one passes behind the middle card",
    make,
    score,
    (
        Corruption("no_swap", "swapped", no_swap),
        Corruption("fake_swap", "swapped", fake_swap),
        Corruption("wrong_pair", "swapped", wrong_pair),
        Corruption("both_move", "one_at_a_time", both_move),
        Corruption("middle_moves", "middle_still", middle_moves),
        Corruption("teleport", "continuous", teleport),
        Corruption("vanish", "cards_kept", vanish),
        Corruption("duplicate", "cards_kept", duplicate),
        Corruption("grow", "card_shape", grow),
        Corruption("scenery_repainted", "scenery_unchanged", scenery_repainted),
    ),
)
