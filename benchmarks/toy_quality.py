"""Quality bars of the embedded toy VGM, measured on unseen task-suite instances.

    .venv/bin/python benchmarks/toy_quality.py [--per-family 20] [--steps 8] [--weights PATH]

The model never trains on task instances (only on motion clips), so every instance is
unseen. Figures come from the task suite's independent scorer (``rulec.runtime.tasks``):
its ``Scene`` detection for the per-frame sub-checks and ``score`` for success.

Bars (issue 6): scene preserved (scorer sub-check ``scenery_unchanged``) in >= 90% of
samples; exactly one agent in >= 90% of frames; the agent moves in >= 80% of samples;
given a one-direction caption the agent moves that way in >= 70%; base success per
family (expected low). Optional: ``--filmstrip PNG`` (samples) and ``--loss-png PNG``
(training loss curve from ``--loss-log``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

MOVE_PX = 2.0  # an agent "moves" when its centre gets this far from where it started
SEED_BASE = 50_000  # instance seeds used here (any seed is unseen: no task trains the model)


def agent_rgb(inst) -> tuple[int, int, int]:
    from rulec.runtime import world

    return world.hex_to_rgb(inst.metadata["colours"]["agent"]["hex"])


def scene_of(inst, video: np.ndarray):
    from rulec.runtime import world
    from rulec.runtime.tasks.scoring import Scene

    return Scene(inst.first_frame, video, agent_rgb(inst), world.rgb(world.BACKGROUND))


def displacement(scene) -> tuple[float, np.ndarray | None]:
    """Largest distance of the agent centre from its start, and the net displacement."""
    c = scene.agent.centre
    ok = ~np.isnan(c).any(axis=1)
    if not ok[0] or ok.sum() < 2:
        return 0.0, None
    d = c[ok] - c[0]
    return float(np.hypot(*d.T).max()), d[-1]


def sample_family(model, insts, captions, steps: int, seed: int, guidance: float = 1.0) -> np.ndarray:
    import torch

    from rulec.runtime.toy_reasoner import sample_videos

    first = torch.from_numpy(np.stack([i.first_frame for i in insts])).float().div(255).permute(0, 3, 1, 2)
    with torch.no_grad():
        v = sample_videos(model, first, captions, seed=seed, num_steps=steps, guidance=guidance)
    return (v.permute(0, 1, 3, 4, 2).numpy() * 255).round().astype(np.uint8)


def run(args: argparse.Namespace) -> dict:
    import torch

    from rulec.runtime import tasks, toy_model, world

    torch.set_num_threads(args.threads)
    model = toy_model.load(args.weights)
    steps = args.steps or model.config.default_steps
    fams = [f for f in tasks.FAMILIES if f in (args.families or tasks.FAMILIES)]
    rows = {}
    agg = {"samples": 0, "scene": 0, "frames": 0, "one_agent_frames": 0, "moves": 0,
           "dir_samples": 0, "dir_ok": 0, "dir_near": 0}
    film = []
    t0 = time.time()
    for fam in fams:
        insts = [tasks.make_instance(fam, SEED_BASE + i) for i in range(args.per_family)]
        base = sample_family(model, insts, [""] * len(insts), steps, seed=args.seed)
        plan = sample_family(model, insts, [i.metadata.get("plan_caption", "") for i in insts], steps, seed=args.seed)
        # one-direction caption: the first direction of the plan (a feasible direction)
        dirs = [(i.metadata.get("plan_caption") or "").split(" moves ")[-1].split(",")[0].strip() for i in insts]
        dir_caps = [world.caption(i.metadata["colours"]["agent"]["name"], [d]) if d in world.DIRECTIONS else ""
                    for i, d in zip(insts, dirs)]
        directed = sample_family(model, insts, dir_caps, steps, seed=args.seed, guidance=args.guidance)
        r = {"n": len(insts), "base_success": 0, "plan_success": 0}
        for inst, vb, vp, vd, d in zip(insts, base, plan, directed, dirs):
            sc = scene_of(inst, vb)
            agg["samples"] += 1
            agg["scene"] += sc.scenery_unchanged()
            agg["frames"] += len(vb) - 1
            agg["one_agent_frames"] += int((sc.agent.count[1:] == 1).sum())
            agg["moves"] += displacement(sc)[0] >= MOVE_PX
            r["base_success"] += tasks.score(inst, vb).success
            r["plan_success"] += tasks.score(inst, vp).success
            if d in world.DIRECTIONS:
                agg["dir_samples"] += 1
                _, net = displacement(scene_of(inst, vd))
                if net is not None and np.hypot(*net) >= MOVE_PX:
                    got = world.direction_word(float(net[0]), float(net[1]))
                    agg["dir_ok"] += got == d
                    agg["dir_near"] += _angle_gap(got, d) <= 45
        rows[fam] = r
        film.append((insts[0].first_frame, base[0], directed[0], dir_caps[0]))
        print(f"  {fam}: base {r['base_success']}/{r['n']}, plan-in-prompt {r['plan_success']}/{r['n']} "
              f"({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)

    n = agg["samples"]
    figures = {
        "weights_steps": model.config.training.get("steps"),
        "train_minutes": model.config.training.get("train_minutes"),
        "sampling_steps": steps,
        "guidance": args.guidance,
        "samples": n,
        "scene_preserved": agg["scene"] / n,
        "one_agent_frames": agg["one_agent_frames"] / agg["frames"],
        "agent_moves": agg["moves"] / n,
        "direction_followed": agg["dir_ok"] / max(agg["dir_samples"], 1),
        "direction_within_45deg": agg["dir_near"] / max(agg["dir_samples"], 1),
        "direction_samples": agg["dir_samples"],
        "families": rows,
    }
    if args.filmstrip:
        _filmstrip(film, Path(args.filmstrip))
    return figures


def _angle_gap(a: str, b: str) -> float:
    from rulec.runtime import world

    angle = {w: i * 45.0 for i, w in enumerate(("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"))}
    assert set(angle) == set(world.DIRECTIONS)
    g = abs(angle[a] - angle[b]) % 360
    return min(g, 360 - g)


def _filmstrip(film, path: Path) -> None:
    """Rows: per family, base sample then direction-captioned sample, every 3rd frame."""
    import imageio.v3 as iio

    rows = []
    for _first, vb, vd, _cap in film:
        for v in (vb, vd):
            cells = [v[t] for t in range(0, 16, 3)]
            rows.append(np.concatenate([np.pad(f, ((1, 1), (1, 1), (0, 0)), constant_values=128) for f in cells], 1))
    img = np.concatenate(rows, 0).repeat(4, 0).repeat(4, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, img)


def plot_loss(log: Path, png: Path, runs: list | None = None) -> None:
    """Loss per step (log scale); ``runs`` = [[first step, loss space], ...] colours each run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    steps = np.array([r["step"] for r in recs])
    loss = np.array([r["loss"] for r in recs])
    runs = runs or [[0, "?"]]
    bounds = [r[0] for r in runs] + [int(steps.max()) + 1]
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=120)
    k = 20
    for (start, space), end in zip(runs, bounds[1:]):
        sel = (steps > start) & (steps <= end)
        if not sel.any():
            continue
        s, l = steps[sel], loss[sel]
        line = ax.plot(s, l, lw=0.5, alpha=0.35)[0]
        if len(l) > k:
            ax.plot(s[k - 1:], np.convolve(l, np.ones(k) / k, mode="valid"), lw=1.6, color=line.get_color(),
                    label=f"steps {start + 1}-{int(s.max())}: {space}-space loss (mean of {k})")
    ax.set_yscale("log")
    ax.set_xlabel("training step (batch 16)")
    ax.set_ylabel("weighted MSE")
    ax.set_title(f"toy VGM training loss ({sum(r['sec'] for r in recs) / 60:.0f} min of steps, shared 2-core CPU)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--per-family", type=int, default=20)
    p.add_argument("--families", nargs="*")
    p.add_argument("--steps", type=int, default=None, help="Euler steps (default: the model's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--guidance", type=float, default=1.0, help="classifier-free guidance scale for the direction-captioned samples (1: off)")
    p.add_argument("--filmstrip", default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--loss-log", default=None)
    p.add_argument("--loss-png", default=None)
    args = p.parse_args(argv)
    if args.loss_log and args.loss_png:
        from rulec.runtime import toy_model

        runs = toy_model.load(args.weights).config.training.get("loss_runs")
        plot_loss(Path(args.loss_log), Path(args.loss_png), runs)
    f = run(args)
    bars = [
        ("scene preserved (samples)", f["scene_preserved"], 0.90),
        ("exactly one agent (frames)", f["one_agent_frames"], 0.90),
        ("agent moves (samples)", f["agent_moves"], 0.80),
        ("moves in the captioned direction", f["direction_followed"], 0.70),
    ]
    print(f"toy VGM at {f['weights_steps']} training steps ({f['train_minutes']} min), "
          f"{f['sampling_steps']} Euler steps, {f['samples']} unseen task instances"
          + (f", guidance {f['guidance']} on the direction captions" if f["guidance"] != 1.0 else ""))
    for name, value, bar in bars:
        print(f"  {name:36s} {value:6.1%}   bar {bar:.0%}  {'MET' if value >= bar else 'NOT MET'}")
    print(f"  {'direction within 45 degrees':36s} {f['direction_within_45deg']:6.1%}   (of {f['direction_samples']})")
    print("  base success per family (empty caption / plan caption in the prompt):")
    for fam, r in f["families"].items():
        print(f"    {fam:10s} {r['base_success']:3d}/{r['n']}   {r['plan_success']:3d}/{r['n']}")
    if args.json:
        Path(args.json).write_text(json.dumps(f, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
