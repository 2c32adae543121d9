"""Quality bars of an embedded video model, measured on unseen task-suite instances.

    .venv/bin/python benchmarks/toy_quality.py [--model latent|pixel|PATH] [--per-family 20] [--steps 8]

The embedded models never train on task instances (only on motion clips), so every
instance is unseen. Figures come from the task suite's independent scorer
(``rulec.runtime.tasks``): its ``Scene`` detection for the per-frame sub-checks and
``score`` for success. Three samples per instance, seed ``--seed``:

* **prompt**: the task's instruction as the caption (what ``rulec bench`` gives base,
  Best-of-N and TTO): one agent, scenery, continuity, walls, and the chance rate;
* **direction**: a one-direction caption ("blue disc moves up", the plan's first move):
  does the agent move that way;
* **plan**: the whole plan as the caption (plan-in-prompt's success).

Bars (issue 16): exactly one agent in >= 99 % of frames; scenery unchanged in >= 95 % of
samples; continuous motion (no jump larger than the agent's radius) in >= 98 %; captioned
direction >= 80 %; walls crossed in <= 10 % of samples with walls.
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


def scene_of(inst, video: np.ndarray):
    from rulec.runtime.tasks import world
    from rulec.runtime.tasks.scoring import Scene

    return Scene(inst.first_frame, video, world.hex_to_rgb(inst.metadata["colours"]["agent"]["hex"]), world.rgb(world.BACKGROUND))


def displacement(scene) -> tuple[float, np.ndarray | None]:
    """Largest distance of the agent centre from its start, and the net displacement."""
    c = scene.agent.centre
    ok = ~np.isnan(c).any(axis=1)
    if not ok[0] or ok.sum() < 2:
        return 0.0, None
    d = c[ok] - c[0]
    return float(np.hypot(*d.T).max()), d[-1]


def largest_step(scene) -> float:
    c = scene.agent.centre
    if np.isnan(c).any():
        return float("inf")
    return float(np.hypot(*np.diff(c, axis=0).T).max())


def sample(reasoner, inst, caption: str, steps: int, seed: int) -> np.ndarray:
    import torch

    from rulec.frames import to_uint8
    from rulec.runtime.optimize.reasoner import TaskInput

    with torch.no_grad():
        video = reasoner.sample(TaskInput.from_image(inst.first_frame, caption, inst.ground_truth.shape[0]), seed=seed, num_steps=steps)
    return to_uint8(video[0])


def one_direction_caption(inst) -> tuple[str, str]:
    from rulec.runtime.tasks import world

    d = (inst.metadata.get("plan_caption") or "").split(" moves ")[-1].split(",")[0].strip()
    if d not in world.DIRECTIONS:
        return "", ""
    return world.caption(inst.metadata["colours"]["agent"]["name"], [d]), d


def run(args: argparse.Namespace) -> dict:
    import torch

    from rulec.runtime import tasks

    from rulec.runtime.tasks import world
    from rulec.runtime.models.load import load_reasoner

    torch.set_num_threads(args.threads)
    reasoner = load_reasoner(args.model)
    training = getattr(reasoner.model, "config", None)
    training = getattr(training, "training", {}) or {}
    steps = args.steps or reasoner.default_steps
    fams = [f for f in tasks.FAMILIES if f in (args.families or tasks.FAMILIES)]
    agg = {k: 0 for k in ("samples", "scene", "frames", "one_agent_frames", "continuous", "within_radius", "moves",
                          "wall_samples", "wall_crossed", "dir_samples", "dir_ok", "dir_near")}
    rows, film = {}, []
    t0 = time.time()
    for fam in fams:
        r = {"n": 0, "prompt_success": 0, "plan_success": 0}
        for i in range(args.per_family):
            inst = tasks.make_instance(fam, SEED_BASE + i)
            base = sample(reasoner, inst, inst.prompt, steps, args.seed)
            sc = scene_of(inst, base)
            agg["samples"] += 1
            agg["scene"] += sc.scenery_unchanged()
            agg["frames"] += len(base) - 1
            agg["one_agent_frames"] += int((sc.agent.count[1:] == 1).sum())
            agg["continuous"] += sc.continuous()
            agg["within_radius"] += largest_step(sc) <= world.AGENT_RADIUS
            agg["moves"] += displacement(sc)[0] >= MOVE_PX
            walls = world.colour_mask(inst.first_frame, world.WALL)
            if walls.any():
                agg["wall_samples"] += 1
                agg["wall_crossed"] += bool((sc.agent.mask & walls[None]).any())
            r["n"] += 1
            r["prompt_success"] += tasks.score(inst, base).success
            plan = sample(reasoner, inst, inst.metadata.get("plan_caption", ""), steps, args.seed)
            r["plan_success"] += tasks.score(inst, plan).success
            caption, d = one_direction_caption(inst)
            directed = sample(reasoner, inst, caption, steps, args.seed) if d else None
            if d:
                agg["dir_samples"] += 1
                _, net = displacement(scene_of(inst, directed))
                if net is not None and np.hypot(*net) >= MOVE_PX:
                    got = world.direction_word(float(net[0]), float(net[1]))
                    agg["dir_ok"] += got == d
                    agg["dir_near"] += _angle_gap(got, d) <= 45
            if i == 0:
                film.append((fam, inst.prompt, base, caption, directed if d else base))
        rows[fam] = r
        print(f"  {fam}: prompt {r['prompt_success']}/{r['n']}, plan-in-prompt {r['plan_success']}/{r['n']} "
              f"({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)

    n = agg["samples"]
    figures = {
        "model": args.model or "latent",
        "weights_steps": training.get("steps"),
        "train_minutes": training.get("train_minutes"),
        "sampling_steps": steps,
        "samples": n,
        "one_agent_frames": agg["one_agent_frames"] / agg["frames"],
        "scene_preserved": agg["scene"] / n,
        "continuous_scorer": agg["continuous"] / n,
        "steps_within_radius": agg["within_radius"] / n,
        "agent_moves": agg["moves"] / n,
        "direction_followed": agg["dir_ok"] / max(agg["dir_samples"], 1),
        "direction_within_45deg": agg["dir_near"] / max(agg["dir_samples"], 1),
        "direction_samples": agg["dir_samples"],
        "walls_crossed": agg["wall_crossed"] / max(agg["wall_samples"], 1),
        "wall_samples": agg["wall_samples"],
        "seconds": round(time.time() - t0, 1),
        "families": rows,
    }
    if args.filmstrip:
        _filmstrip(film, Path(args.filmstrip), args.model or "latent")
    return figures


def _angle_gap(a: str, b: str) -> float:
    from rulec.runtime.tasks import world

    angle = {w: i * 45.0 for i, w in enumerate(("right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right"))}
    assert set(angle) == set(world.DIRECTIONS)
    g = abs(angle[a] - angle[b]) % 360
    return min(g, 360 - g)


def _filmstrip(film, path: Path, model: str = "latent") -> None:
    """Rows per family: the prompt-captioned sample and the direction-captioned one, every other
    frame; each row named (family, caption), each column numbered, the model in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = list(range(0, 16, 2)) + [15]
    fig, axes = plt.subplots(2 * len(film), len(frames), figsize=(1.25 * len(frames) + 1.9, 1.45 * 2 * len(film) + 0.5), dpi=110)
    for row, (fam, prompt, base, caption, directed) in enumerate(film):
        for k, (video, label) in enumerate(((base, f"{fam}\ntask prompt"), (directed, f"{fam}\n'{caption.split(' moves ')[-1]}'"))):
            for col, t in enumerate(frames):
                ax = axes[2 * row + k, col]
                ax.imshow(video[t], interpolation="nearest")
                ax.set_xticks([]), ax.set_yticks([])
                for side in ax.spines.values():
                    side.set_color("#444444")
                if col == 0:
                    ax.set_ylabel(label, fontsize=10, rotation=0, ha="right", va="center")
                if row == 0 and k == 0:
                    ax.set_title(f"frame {t}", fontsize=10)
    name = Path(model).stem if model not in ("latent", "pixel") else f"embedded {model}"
    fig.suptitle(f"{name} model: base samples (seed 0) on unseen task instances; rows: family and caption", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def plot_loss(log: Path, png: Path, title: str) -> None:
    """Training loss per step (log scale) with a running mean, from a ``loss.jsonl`` log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    steps = np.array([r["step"] for r in recs])
    loss = np.array([r["loss"] for r in recs])
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=120)
    ax.plot(steps, loss, lw=0.5, alpha=0.35, color="#1565c0")
    k = 50
    if len(loss) > k:
        ax.plot(steps[k - 1:], np.convolve(loss, np.ones(k) / k, mode="valid"), lw=1.8, color="#1565c0", label=f"mean of {k} steps")
        ax.legend(fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (MSE of the clean latent)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None, help="latent (default) | pixel | a weights path")
    p.add_argument("--per-family", type=int, default=20)
    p.add_argument("--families", nargs="*")
    p.add_argument("--steps", type=int, default=None, help="Euler steps (default: the model's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--filmstrip", default=None)
    p.add_argument("--json", default=None)
    p.add_argument("--loss-log", default=None, help="a training loss.jsonl to plot (with --loss-png)")
    p.add_argument("--loss-png", default=None)
    args = p.parse_args(argv)
    if args.loss_log and args.loss_png:
        plot_loss(Path(args.loss_log), Path(args.loss_png), f"{args.model or 'latent'} model: training loss (judge samples, not this)")
        if args.per_family == 0:
            return 0
    f = run(args)
    bars = [
        ("exactly one agent (frames)", f["one_agent_frames"], 0.99, True),
        ("scenery unchanged (samples)", f["scene_preserved"], 0.95, True),
        ("continuous: steps <= agent radius", f["steps_within_radius"], 0.98, True),
        ("moves in the captioned direction", f["direction_followed"], 0.80, True),
        ("walls crossed (samples with walls)", f["walls_crossed"], 0.10, False),
    ]
    print(f"{f['model']} model at {f['weights_steps']} training steps ({f['train_minutes']} min), "
          f"{f['sampling_steps']} Euler steps, {f['samples']} unseen task instances ({f['seconds']} s)")
    for name, value, bar, at_least in bars:
        met = value >= bar if at_least else value <= bar
        print(f"  {name:38s} {value:6.1%}   bar {'>=' if at_least else '<='} {bar:.0%}  {'MET' if met else 'NOT MET'}")
    print(f"  {'continuous (scorer, <= 3.5 px)':38s} {f['continuous_scorer']:6.1%}")
    print(f"  {'agent moves':38s} {f['agent_moves']:6.1%}")
    print(f"  {'direction within 45 degrees':38s} {f['direction_within_45deg']:6.1%}   (of {f['direction_samples']})")
    print(f"  {'samples with walls':38s} {f['wall_samples']}")
    print("  success per family (chance rate with the prompt / plan caption in the prompt):")
    for fam, r in f["families"].items():
        print(f"    {fam:10s} {r['prompt_success']:3d}/{r['n']}   {r['plan_success']:3d}/{r['n']}")
    if args.json:
        Path(args.json).write_text(json.dumps(f, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
