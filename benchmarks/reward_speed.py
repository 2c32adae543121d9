"""Reward speed: compiled maze rules vs a hand-fused PyTorch function computing the same rules.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/reward_speed.py --threads 1 [--repeats 15]

Times forward + backward (loss.backward into the video) at B=8, T=16, 64x64 for
``rulec.compile_rules(MAZE).to_reward()`` (which converts each video to Lab once for
both semantics, via ``shared_colour_space()``) and for ``fused_maze_reward`` in the same
run, interleaved, and
prints their ratio (target <= 1.2) in wall time and in process CPU time (the CPU figure
is the one to trust on a loaded machine; use ``--threads 1`` for it to be meaningful).
Both evaluate the exact verdict (no grad) and the smooth robustness (with grad) and the
same hinge loss; the script first checks that they agree. It also prints frames per
second for reward evaluation alone (forward, no grad).
"""

from __future__ import annotations

import argparse
import math
import time

import kornia
import torch
import torch.nn.functional as F

#: The maze rules of the DSL sketch (docs/design: dsl.md).
MAZE = """
task maze "Move the red disc to the green square without touching the black walls."

object agent = color("#e53935")
region goal  = color("#43a047") at start
region walls = color("#000000") at start
region floor = not walls

goal    reach    : eventually[-2:] inside(agent, goal)
process corridor : always inside(agent, floor)
process one_disc : always present(agent)
process scenery  : always unchanged(walls)  weight 0.5
"""

RED, GREEN, BLACK = (229, 57, 53), (67, 160, 71), (0, 0, 0)
WEIGHTS = torch.tensor([1.0, 1.0, 1.0, 0.5])


def maze_videos(batch: int, frames: int, size: int, seed: int = 0) -> torch.Tensor:
    """White frames, black walls, a green goal, a red disc walking toward the goal."""
    g = torch.Generator().manual_seed(seed)
    video = torch.ones(batch, frames, 3, size, size)
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    colour = lambda rgb: torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1) / 255  # noqa: E731
    for b in range(batch):
        video[b, :, :, size // 3 : size // 3 + 3, : size * 2 // 3] = colour(BLACK)
        gx, gy = size * 3 // 4, size * 3 // 4
        video[b, :, :, gy - 4 : gy + 4, gx - 4 : gx + 4] = colour(GREEN)
        x0, y0 = 6 + 4 * torch.rand(1, generator=g).item(), size // 2 + 4 * torch.rand(1, generator=g).item()
        for t in range(frames):
            a = t / max(frames - 1, 1)
            cx, cy = x0 + a * (gx - x0), y0 + a * (gy - y0)
            disc = (xs - cx) ** 2 + (ys - cy) ** 2 <= 9
            video[b, t, :, disc] = colour(RED).view(3, 1)
    return video


# ------------------------------------------------------------------ hand-fused reference
def fused_maze_reward(video: torch.Tensor, beta: float = 10.0, hinge_margin: float = 0.25, hinge_sharpness: float = 8.0):
    """The four maze rules, written by hand: one Lab conversion, only the frame-0 values.

    Returns (exact robustness (B, 4), smooth robustness (B, 4), loss (B,)).
    """
    b, t, _, h, w = video.shape
    lab = kornia.color.rgb_to_lab(video.reshape(b * t, 3, h, w)).reshape(b, t, 3, h, w)
    start_lab = lab[:, :1].detach()
    targets = kornia.color.rgb_to_lab(torch.tensor([RED, GREEN, BLACK], dtype=video.dtype).div(255).view(3, 3, 1, 1)).view(3, 3)

    def dist(x, target):
        return ((x - target.view(1, 1, 3, 1, 1)).square().sum(2) + 1e-12).sqrt()

    d_agent, d_goal, d_walls = dist(lab, targets[0]), dist(start_lab, targets[1]), dist(start_lab, targets[2])
    change = (video - video[:, :1].detach()).abs().mean(2)
    tol, tol_unchanged, min_area, frac = 12.0, 0.1, 0.005, 0.9

    def margins(agent, goal, walls):
        floor = 1 - walls
        m_agent = agent.sum((-2, -1))
        ok = m_agent >= 1e-3
        safe = torch.where(ok, m_agent, torch.ones_like(m_agent))

        def inside(region):
            share = torch.where(ok, (agent * region).sum((-2, -1)) / safe, torch.zeros_like(m_agent))
            return torch.where(share >= frac, (share - frac) / (1 - frac), (share - frac) / frac)

        present = torch.tanh((agent.mean((-2, -1)) - min_area) / min_area)
        m_walls = walls.sum((-2, -1))
        ok_w = m_walls >= 1e-3
        mean_change = torch.where(ok_w, (change * walls).sum((-2, -1)) / torch.where(ok_w, m_walls, torch.ones_like(m_walls)), torch.zeros_like(change[:, :, 0, 0]))
        unchanged = (tol_unchanged - mean_change) / tol_unchanged
        return inside(goal), inside(floor), present, unchanged

    with torch.no_grad():
        hard = [(tol - d > 0).to(video.dtype) for d in (d_agent, d_goal, d_walls)]
        reach, corridor, present, unchanged = margins(*hard)
        exact = torch.stack([reach[:, -2:].amax(1), corridor.amin(1), present.amin(1), unchanged.amin(1)], 1)
    soft = [torch.sigmoid((tol - d) / (tol / 4)) for d in (d_agent, d_goal, d_walls)]
    reach, corridor, present, unchanged = margins(*soft)
    smooth = torch.stack(
        [
            (torch.logsumexp(beta * reach[:, -2:], 1) - math.log(2)) / beta,
            -torch.logsumexp(-beta * corridor, 1) / beta,
            -torch.logsumexp(-beta * present, 1) / beta,
            -torch.logsumexp(-beta * unchanged, 1) / beta,
        ],
        1,
    )
    k = hinge_sharpness
    loss = (WEIGHTS.to(video.dtype) * F.softplus(k * (hinge_margin - smooth)) / k).sum(1) / WEIGHTS.sum()
    return exact, smooth, loss


def _time(fns, repeats: int, clock=time.perf_counter) -> list[float]:
    """Fastest time of each function, run interleaved so that load on a shared machine
    hits all of them alike (the minimum is the least load-sensitive statistic)."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, bucket in zip(fns, times):
            t0 = clock()
            fn()
            bucket.append(clock() - t0)
    return [min(bucket) for bucket in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import rulec

    reward = rulec.compile_rules(MAZE, name="maze").to_reward()
    video = maze_videos(args.batch, args.frames, args.size)

    # the two compute the same rules: check before timing
    report = reward(video)
    exact, smooth, loss = fused_maze_reward(video)
    torch.testing.assert_close(torch.stack([r.exact for r in report.rules], 1), exact)
    torch.testing.assert_close(torch.stack([r.smooth for r in report.rules], 1), smooth)
    torch.testing.assert_close(report.sample_loss, loss)

    def compiled_step():
        v = video.clone().requires_grad_(True)
        reward(v).loss.backward()

    def fused_step():
        v = video.clone().requires_grad_(True)
        fused_maze_reward(v)[2].mean().backward()

    def compiled_forward():
        with torch.no_grad():
            reward(video)

    exact_reward = rulec.compile_rules(MAZE, name="maze").to_reward(semantics="exact")

    def exact_forward():
        with torch.no_grad():
            exact_reward(video)

    steps = [compiled_step, fused_step]
    t_compiled, t_fused = _time(steps, args.repeats)
    c_compiled, c_fused = _time(steps, args.repeats, clock=time.process_time)
    t_forward, t_exact = _time([compiled_forward, exact_forward], args.repeats)
    frames = args.batch * args.frames
    print(f"maze rules (4), B={args.batch} T={args.frames} {args.size}x{args.size}, torch threads={torch.get_num_threads()}, best of {args.repeats}")
    print("forward+backward                               wall ms  ratio   CPU ms  ratio   (target ratio <= 1.2)")
    print(f"  fused (hand-written)                         {t_fused * 1e3:8.1f}         {c_fused * 1e3:8.1f}")
    print(f"  compiled                                     {t_compiled * 1e3:8.1f}  {t_compiled / t_fused:5.2f}  {c_compiled * 1e3:8.1f}  {c_compiled / c_fused:5.2f}")
    print("reward evaluation alone (forward, no grad, wall clock):")
    print(f"  exact + smooth                         {frames / t_forward:8.0f} frames/s")
    print(f"  exact only                             {frames / t_exact:8.0f} frames/s")


if __name__ == "__main__":
    main()
