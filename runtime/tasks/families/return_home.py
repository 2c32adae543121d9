"""Return home: the ball leaves the pad it starts on, goes onto the target, and comes back to
*its* pad, passing behind a wall both ways (a realistic family, issue #20).

Default 1024x1024, 64 frames at 16 fps, anti-aliased shapes with dark outlines. The agent (a
ball) **starts on a region** (its home pad); the home pad has two **decoys of the same
colour**; a grey wall is drawn **on top** of the ball's way, so the ball is partly, then
fully, hidden for a few frames going and coming back (**occlusion**).

Geometry is normalized (one layout at any size): ball radius 0.045, pads and target 0.15 a
side, wall 0.24 a side centred on the way's midpoint; home-target distance 0.46-0.56 with
at least 0.46 along one axis (so the axis-aligned wall lies between them). Solver: hold 3
frames, straight to the target (trapezoidal speed, peak 0.03/frame), rest 6 frames, straight
back to the exact start, rest.
"""

from __future__ import annotations

import math

import numpy as np

from rulec.runtime.tasks.base import Corruption, Family, Instance, Score, rng_for
from rulec.runtime.tasks.families import realistic as R

NAME = "return_home"
DEFAULT_SIZE = 1024
DEFAULT_FRAMES = 64
AGENT_RADIUS = 0.045
PAD_SIDE = 0.15
WALL_SIDE = 0.24
HOLD, DWELL = 3, 6
#: Frames a ball may stay fully hidden (behind the wall) in a row; the rules mirror it.
MAX_HIDDEN = 12
#: "Beside the wall" in the rules: within this distance of it (frame units), more than the ball's
#: outline at any size.
BESIDE = 0.02
#: An object keeps between these multiples of its first-frame area while nothing hides it.
AREA_BOUNDS = (0.7, 1.3)
INSIDE_FRAC = 0.9


def _overlap(a, ha, b, hb, margin=0.0) -> bool:
    """Axis-aligned squares (centre, half side) closer than ``margin``."""
    return abs(a[0] - b[0]) < ha + hb + margin and abs(a[1] - b[1]) < ha + hb + margin


def _layout(rng: np.random.Generator) -> dict:
    half = PAD_SIDE / 2
    while True:
        home = rng.uniform(0.1, 0.9, size=2)
        ang = rng.uniform(0, 2 * np.pi)
        dist = rng.uniform(0.46, 0.56)
        target = home + dist * np.array([np.cos(ang), np.sin(ang)])
        if not np.all((target > 0.1) & (target < 0.9)) or np.abs(target - home).max() < 0.46:
            continue
        wall = (home + target) / 2 + rng.uniform(-0.02, 0.02, size=2)
        wh = WALL_SIDE / 2
        if not np.all((wall - wh > 0.02) & (wall + wh < 0.98)):
            continue
        if _overlap(wall, wh, home, half, 0.03) or _overlap(wall, wh, target, half, 0.03):
            continue
        decoys = []
        for _ in range(200):
            d = rng.uniform(0.1, 0.9, size=2)
            if any(_overlap(d, half, o, half, 0.05) for o in [home, target, *decoys]) or _overlap(d, half, wall, wh, 0.05):
                continue
            # clear of the ball's way (a band of the ball's width plus a margin)
            u = np.clip(np.dot(d - home, target - home) / dist**2, 0, 1)
            if np.hypot(*(home + u * (target - home) - d)) < half * 1.5 + AGENT_RADIUS + 0.04:
                continue
            decoys.append(d)
            if len(decoys) == 2:
                break
        if len(decoys) < 2:
            continue
        return {"home": home, "target": target, "wall": wall, "decoys": decoys, "distance": dist}


def _path(lay: dict, frames: int, back_to=None, go_to=None, dwell=DWELL) -> np.ndarray | None:
    """Normalized ball centres per frame: hold, go, dwell, come back, rest."""
    home, target = lay["home"], lay["target"] if go_to is None else go_to
    back = home if back_to is None else back_to
    n1 = R.move_frames(float(np.hypot(*(target - home))))
    n2 = R.move_frames(float(np.hypot(*(back - target))))
    rest = frames - HOLD - n1 - dwell - n2
    if rest < 4:
        return None
    out = [home] * HOLD
    out += list(R.moves(home, [(tuple(target), n1)]))
    out += [target] * dwell
    out += list(R.moves(target, [(tuple(back), n2)]))
    out += [back] * rest
    return np.array(out)


def _sprites(size: int, colours: dict, agent_scale: float = 1.0):
    w = R.outline_px(size)
    half = PAD_SIDE / 2 * size
    return {
        "pad": R.rect(half, half, colours["pad"]["hex"], w, 0.12 * half),
        "target": R.rect(half, half, colours["target"]["hex"], w, 0.12 * half),
        "agent": R.circle(AGENT_RADIUS * size * agent_scale, colours["agent"]["hex"], w),
        "wall": R.rect(WALL_SIDE / 2 * size, WALL_SIDE / 2 * size, colours["wall"]["hex"], w, 0.04 * size),
    }


def _layers(inst_or_meta, agent_path_px: np.ndarray, *, agent_scale=None, hide=None, extra_agent=None, repaint_decoy=False):
    """The layers of a video: pads, target, the ball (with per-frame tweaks for corruptions), the wall on top."""
    meta = inst_or_meta.metadata if isinstance(inst_or_meta, Instance) else inst_or_meta
    size, T = meta["size"], meta["num_frames"]
    sp = _sprites(size, meta["colours"])
    pos = meta["positions"]
    static = lambda p: np.repeat(R.to_pixels(np.array([p]), size), T, axis=0)
    layers = [R.Layer("home", sp["pad"], static(pos["home"])),
              R.Layer("decoy0", sp["pad"], static(pos["decoys"][:2])),
              R.Layer("decoy1", sp["pad"], static(pos["decoys"][2:])),
              R.Layer("target", sp["target"], static(pos["target"]))]
    if repaint_decoy:  # the first decoy is painted over with the background from mid-video
        layers[1].positions = layers[1].positions.copy()
        layers[1].positions[T // 2 :] = -10 * size
    agent = agent_path_px.copy()
    if hide is not None:
        agent[hide] = -10 * size
    if agent_scale is None:
        layers.append(R.Layer("agent", sp["agent"], agent))
    else:  # the ball changes size from frame agent_scale[0] on
        t0, scale = agent_scale
        big = _sprites(size, meta["colours"], scale)["agent"]
        a, b = agent.copy(), agent.copy()
        a[t0:] = -10 * size
        b[:t0] = -10 * size
        layers += [R.Layer("agent", sp["agent"], a), R.Layer("agent_big", big, b)]
    if extra_agent is not None:
        layers.append(R.Layer("agent2", sp["agent"], extra_agent))
    layers.append(R.Layer("wall", sp["wall"], static(pos["wall"])))
    return layers


def make(seed: int, size: int = DEFAULT_SIZE, frames: int = DEFAULT_FRAMES) -> Instance:
    if size % 2 or not (64 <= size <= 2048):
        raise ValueError(f"size must be even, 64..2048, got {size}")
    rng = rng_for(NAME, seed)
    agent_c, pad_c, target_c = [("blue", "green", "red"), ("purple", "green", "orange"), ("blue", "yellow", "red"),
                                ("red", "green", "blue")][int(rng.integers(4))]
    colours = {"agent": R.colour_entry(agent_c), "pad": R.colour_entry(pad_c), "target": R.colour_entry(target_c),
               "wall": R.colour_entry("grey"), **R.base_colours()}
    while True:
        lay = _layout(rng)
        path = _path(lay, frames)
        if path is not None:
            break
    px = R.to_pixels(path, size)
    meta = {
        "family": NAME, "seed": seed, "size": size, "num_frames": frames, **R.encodes_entry(),
        "colours": colours,
        "positions": {"home": [float(v) for v in lay["home"]], "target": [float(v) for v in lay["target"]],
                      "wall": [float(v) for v in lay["wall"]], "decoys": [float(v) for d in lay["decoys"] for v in d]},
        "geometry": {"agent_radius": AGENT_RADIUS, "pad_side": PAD_SIDE, "wall_side": WALL_SIDE},
        "solution_path": [[float(x) + 0.5, float(y) + 0.5] for x, y in px],
    }
    layers = _layers(meta, px)
    video = R.render(size, layers, frames)
    vis = R.visible_fraction(size, layers, "agent", frames)
    meta["agent_visible_fraction"] = [round(float(v), 4) for v in vis]
    prompt = (f"The {agent_c} ball starts on a {pad_c} pad. Move it onto the {target_c} square, then bring it back "
              f"to the {pad_c} pad it started on. It passes behind the grey wall on the way.")
    return Instance(NAME, seed, video[0], prompt, video, rules_text(prompt, meta), meta)


def rules_text(prompt: str, meta: dict) -> str:
    """The reference rules in today's DSL (see docs/tasks.md, "Realistic families", for what each
    workaround stands in for). Numbers come from the geometry a teacher reads off the first frame
    and from the scorer's constants."""
    colours, size = meta["colours"], meta["size"]
    w = R.outline_px(size)
    fill = math.pi * (AGENT_RADIUS * size - w) ** 2 / size**2
    hi = round(AREA_BOUNDS[1] * fill, 5)
    grow = R.AROUND
    end = round(PAD_SIDE / 2 - AGENT_RADIUS, 3)
    hexes = {k: v["hex"] for k, v in colours.items()}
    tol = 16
    return (
        f'task {NAME} "{prompt}"\n\n'
        f'object agent  = color("{hexes["agent"]}", tol={tol})\n'
        f'region pads   = color("{hexes["pad"]}", tol={tol}) at start\n'
        f'region target = color("{hexes["target"]}", tol={tol}) at start\n'
        f'region wall   = color("{hexes["wall"]}", tol={tol}) at start\n'
        "# the pad under the ball in frame 0 is whole: a region frozen at start fills the holes its objects cover\n\n"
        "goal    visit   : eventually inside(agent, target)\n"
        "goal    back    : inside(agent, target) then inside(agent, pads)\n"
        "goal    home    : at end inside(agent, pads)\n"
        "# its own pad, not another pad of the same colour: back where it started\n"
        f"goal    same    : at end distance(agent, agent at start) < {end}\n"
        "# hidden or partly hidden only behind the wall: within a few frames it shows beside it (its outline between)\n"
        f"process seen    : always (present(agent) or eventually[0:{MAX_HIDDEN}] overlaps(agent, grow(wall, {BESIDE})))\n"
        f"process size    : always area(agent) < {hi}\n"
        f"process steady  : always speed(agent) < {R.MAX_STEP}\n"
        "# unchanged() compares with frame 0, which shows the ball, not the pad, where it stood\n"
        f"process scenery : always unchanged(pads - grow(agent, {grow}) - grow(agent at start, {grow})) weight 0.5\n"
        f"process pad     : always unchanged(target - grow(agent, {grow})) weight 0.5\n"
        "# the ball passes behind the wall: an mp4's blocks at its edges change up to 1.5 % of it\n"
        "process wall_up : always unchanged(wall, tol=0.03) weight 0.5\n"
    )


# ------------------------------------------------------------------ scorer
def score(inst: Instance, video: np.ndarray) -> Score:
    v = R.Video(inst, video)
    size, margin = v.size, v.margin
    agent0 = R.blobs(v.mask(None, "agent"), 1)
    if not agent0:
        raise ValueError(f"{inst.name}: no {inst.metadata['colours']['agent']['name']} ball in the first frame")
    a0 = agent0[0]
    area0 = a0.area
    pads = R.blobs(R.filled(v.mask(None, "pad") | R.dilated(a0.mask, margin)), 1)
    home = next((p.mask for p in pads if p.mask[int(a0.centre[1]), int(a0.centre[0])]), None)
    if home is None:
        raise ValueError(f"{inst.name}: the ball does not start on a pad")
    home = R.filled(home)
    target = R.filled(v.mask(None, "target"))
    wall = R.filled(v.mask(None, "wall"))
    near_wall_zone = R.dilated(wall, margin + 1)
    lo, hi = AREA_BOUNDS
    speck = 0.05 * area0
    radius = math.sqrt(area0 / math.pi)

    vis, cen, count, near, masks = [], [], [], [], []
    for t in range(v.T):
        bs = R.blobs(v.mask(t, "agent"), speck)
        count.append(sum(b.area >= 0.25 * area0 for b in bs))
        m = np.zeros((size, size), dtype=bool)
        for b in bs:
            m |= b.mask
        masks.append(m)
        vis.append(int(m.sum()))
        cen.append(bs[0].centre / size if bs else np.array([np.nan, np.nan]))
        near.append(bool((m & near_wall_zone).any()))
    vis, count, near = np.array(vis), np.array(count), np.array(near)
    seen = vis >= speck

    # hidden runs: only next to the wall, and short
    visible_ok = bool(seen[0] and seen[-1])
    t = 0
    while t < v.T:
        if seen[t]:
            t += 1
            continue
        s = t
        while t < v.T and not seen[t]:
            t += 1
        if t - s > MAX_HIDDEN or s == 0 or t == v.T or not (near[s - 1] and near[t]):
            visible_ok = False

    size_ok = bool(np.all(vis <= hi * area0) and all(vis[t] >= lo * area0 for t in range(v.T) if seen[t] and not near[t]))

    cont = True
    idx = [t for t in range(v.T) if seen[t]]
    for a, b in zip(idx[:-1], idx[1:]):
        allowed = (b - a) * R.MAX_STEP + (2 * radius / size if (near[a] or near[b]) else 0.0)
        if np.hypot(*(cen[b] - cen[a])) > allowed:
            cont = False

    def inside(t, region):
        return seen[t] and R.inside_frac(masks[t], region) >= INSIDE_FRAC

    visited = [t for t in range(v.T) if inside(t, target)]
    checks = {
        "first_frame_kept": v.frame_kept(0),
        "agent_single": bool(np.all(count <= 1) and count[0] == 1 and count[-1] == 1),
        "agent_visible": visible_ok,
        "agent_size": size_ok,
        "continuous": cont,
        "visited_target": bool(visited),
        "returned_home": bool(visited and inside(v.T - 1, home) and vis[-1] >= lo * area0),
        "scenery_unchanged": v.scenery_kept(lambda t: R.dilated(masks[t] | a0.mask, margin + 1)),
    }
    return Score.from_checks(checks, {"visited_target": 2.0, "returned_home": 2.0})


# ------------------------------------------------------------------ corruptions
def _lay(inst: Instance) -> dict:
    p = inst.metadata["positions"]
    lay = {k: np.array(p[k]) for k in ("home", "target", "wall")}
    lay["decoys"] = [np.array(p["decoys"][:2]), np.array(p["decoys"][2:])]
    return lay


def _video(inst: Instance, path_norm=None, path_px=None, **kw) -> np.ndarray:
    size, T = inst.metadata["size"], inst.metadata["num_frames"]
    px = R.to_pixels(path_norm, size) if path_px is None else path_px
    return R.render(size, _layers(inst, px, **kw), T)


def _solution_px(inst: Instance) -> np.ndarray:
    return np.floor(np.asarray(inst.metadata["solution_path"])).astype(int)


def no_visit(inst: Instance) -> np.ndarray:
    """Turns back a third of the way (partly behind the wall), never reaching the target."""
    lay = _lay(inst)
    short = lay["home"] + 0.35 * (lay["target"] - lay["home"])
    return _video(inst, _path(lay, inst.metadata["num_frames"], go_to=short))


def stays_away(inst: Instance) -> np.ndarray:
    """Goes onto the target and stays there."""
    lay = _lay(inst)
    return _video(inst, _path(lay, inst.metadata["num_frames"], back_to=lay["target"]))


def wrong_pad(inst: Instance) -> np.ndarray:
    """Comes back to the nearer decoy pad of the home pad's colour, not to its own."""
    lay = _lay(inst)
    decoy = min(lay["decoys"], key=lambda d: float(np.hypot(*(d - lay["target"]))))
    path = _path(lay, inst.metadata["num_frames"], back_to=decoy)
    if path is None:
        path = _path(lay, inst.metadata["num_frames"], back_to=decoy, dwell=1)
    return _video(inst, path)


def teleport(inst: Instance) -> np.ndarray:
    """Waits at home, appears on the target, then at home again, crossing nothing in between."""
    lay, T = _lay(inst), inst.metadata["num_frames"]
    path = np.array([lay["home"]] * T)
    path[T // 3 : 2 * T // 3] = lay["target"]
    return _video(inst, path)


def vanish(inst: Instance) -> np.ndarray:
    """The ball disappears for 8 frames while it rests on the target (in the open)."""
    px = _solution_px(inst)
    on_target = np.nonzero(np.all(px == px[len(px) // 2], axis=1))[0]
    mid = int(on_target[len(on_target) // 2])
    hide = np.zeros(len(px), dtype=bool)
    hide[max(mid - 4, 1) : mid + 4] = True
    return _video(inst, path_px=px, hide=hide)


def _free_spot(inst: Instance) -> np.ndarray:
    lay, px = _lay(inst), np.asarray(inst.metadata["solution_path"]) / inst.metadata["size"]
    rng = np.random.default_rng(inst.seed)
    for _ in range(2000):
        p = rng.uniform(0.08, 0.92, size=2)
        if np.hypot(*(px - p).T).min() < 3 * AGENT_RADIUS:
            continue
        if any(_overlap(p, AGENT_RADIUS, o, PAD_SIDE / 2, 0.03) for o in [lay["home"], lay["target"], *lay["decoys"]]):
            continue
        if _overlap(p, AGENT_RADIUS, lay["wall"], WALL_SIDE / 2, 0.03):
            continue
        return p
    raise RuntimeError(f"{inst.name}: no free spot for a duplicate")


def duplicate(inst: Instance) -> np.ndarray:
    """A second ball appears in the open from mid-video on."""
    size, T = inst.metadata["size"], inst.metadata["num_frames"]
    extra = np.repeat(R.to_pixels(np.array([_free_spot(inst)]), size), T, axis=0)
    extra[: T // 2] = -10 * size
    return _video(inst, path_px=_solution_px(inst), extra_agent=extra)


def grow(inst: Instance) -> np.ndarray:
    """The ball swells to 1.5 times its radius once it is on the target."""
    px = _solution_px(inst)
    t0 = int(np.nonzero(np.all(px == px[len(px) // 2], axis=1))[0][0])
    return _video(inst, path_px=px, agent_scale=(t0, 1.5))


def scenery_repainted(inst: Instance) -> np.ndarray:
    """A decoy pad is painted over with the background from mid-video on."""
    return _video(inst, path_px=_solution_px(inst), repaint_decoy=True)


FAMILY = Family(
    NAME,
    "realistic (1024 px, 64 frames): the ball goes onto the target and back to its own pad, passing behind a wall",
    make,
    score,
    (
        Corruption("no_visit", "visited_target", no_visit),
        Corruption("stays_away", "returned_home", stays_away),
        Corruption("wrong_pad", "returned_home", wrong_pad),
        Corruption("teleport", "continuous", teleport),
        Corruption("vanish", "agent_visible", vanish),
        Corruption("duplicate", "agent_single", duplicate),
        Corruption("grow", "agent_size", grow),
        Corruption("scenery_repainted", "scenery_unchanged", scenery_repainted),
    ),
)
