"""Checking real-size videos: ``rulec check`` against the cost of decoding the video.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/check_speed.py [--out /tmp/check_speed] [--repeats 3]

Generates mp4 videos of anti-aliased shapes (a red disc walking to a green goal past black
walls, a blue block drifting, a purple block still; lossless RGB H.264 via
``rulec.runtime.video_io.write_video``) at 1024x1024 x 64 frames, 256x256 x 64 and 256x256 x 16,
480x832 x 81 (a Wan 2.x video) and a 32x32 x 8 one for start-up. For each it prints the decode-only time (PyAV to RGB
frames, in process: the floor), ``rulec check`` wall time and peak memory in a fresh
process (VmHWM, best of ``--repeats``), the check time beyond start-up (minus the tiny
video's check) and its ratio to the decode time; then the growth exponents of the check
time beyond start-up in frames (256x256, 16 -> 64) and in pixels (64 frames, 256^2 -> 1024^2).
Targets at 1024x1024 x 64 (issue 21): beyond start-up <= 4x decode, peak <= 1 GB.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RULES = """
task bench "Move the red disc to the green square without touching the black walls; the blue block drifts, the purple one stays."

object agent = color("#e53935")
object block = color("#1e88e5")
object other = color("#8e24aa")
region goal  = color("#43a047") at start
region walls = color("#000000") at start

goal    reach    : eventually[-4:] inside(agent, goal)
process clear    : always not touches(agent, walls)
process one      : always (present(agent) and present(block))
process steady   : always speed(agent) < 0.11
process anchored : always still(other)
process scenery  : always unchanged(walls, tol=0.03)  weight 0.5
"""

WHITE, RED, GREEN, BLACK, BLUE, PURPLE = (255, 255, 255), (229, 57, 53), (67, 160, 71), (0, 0, 0), (30, 136, 229), (142, 36, 170)


def _paint(frame: np.ndarray, coverage: np.ndarray, rgb) -> None:
    """Blend ``rgb`` over ``frame`` (float) with per-pixel coverage in [0, 1] (anti-aliased edges)."""
    frame += coverage[..., None] * (np.asarray(rgb, dtype=np.float32) - frame)


def draw_video(size: int, frames: int, width: int | None = None) -> np.ndarray:
    """``(frames, size, width or size, 3)`` uint8: anti-aliased discs and boxes (coverage from
    signed distances), laid out on a 64-unit canvas centred in the frame."""
    width = width or size
    ys, xs = np.mgrid[0:size, 0:width].astype(np.float32) + 0.5
    s = min(size, width) / 64.0
    xs -= (width - 64 * s) / 2  # a wide frame keeps the scene's proportions, centred
    ys -= (size - 64 * s) / 2

    def disc(cx, cy, r):
        return np.clip(r * s - np.hypot(xs - cx * s, ys - cy * s) + 0.5, 0, 1)

    def rect(x0, y0, x1, y1):
        cover_x = np.clip(np.minimum(xs - x0 * s, x1 * s - xs) + 0.5, 0, 1)
        cover_y = np.clip(np.minimum(ys - y0 * s, y1 * s - ys) + 0.5, 0, 1)
        return cover_x * cover_y

    scene = np.full((size, width, 3), WHITE, dtype=np.float32)
    _paint(scene, rect(0.3, 20.3, 40.7, 23.7), BLACK)
    _paint(scene, rect(44.2, 40.2, 60.8, 56.8), GREEN)
    _paint(scene, rect(6.4, 4.4, 14.6, 12.6), PURPLE)
    out = np.empty((frames, size, width, 3), dtype=np.uint8)
    for t in range(frames):
        a = t / max(frames - 1, 1)
        frame = scene.copy()
        _paint(frame, rect(30 + 10 * a, 6.2, 38 + 10 * a, 14.2), BLUE)
        _paint(frame, disc(8 + a * (52.5 - 8), 34 + a * (48.5 - 34), 3.1), RED)
        out[t] = np.rint(frame).astype(np.uint8)
    return out


def decode_seconds(path: Path, repeats: int) -> float:
    """Best time to decode every frame to RGB with PyAV (what any scorer must pay)."""
    import av

    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                frame.to_ndarray(format="rgb24")
        best = min(best, time.perf_counter() - t0)
    return best


def check_child(rules: str, video: str, report: str) -> None:
    """Run ``rulec check`` in this process, then write its peak memory (VmHWM, kB) to ``report``."""
    from rulec.cli import main

    sys.argv = ["rulec", "check", rules, video]
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code or 0
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    Path(report).write_text(f"{hwm} {code}")


def check_run(rules: Path, video: Path, repeats: int) -> tuple[float, float, int]:
    """Best wall time (s) of ``rulec check`` in a fresh process, its peak memory (MB) and exit code."""
    best, peak, code = math.inf, 0.0, -1
    report = video.with_suffix(".hwm")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--check-child", str(rules), str(video), str(report)],
                       check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
        hwm, code = (int(v) for v in report.read_text().split())
        peak = max(peak, hwm / 1024)
    return best, peak, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/rulec_check_speed"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.check_child:
        check_child(*args.check_child)
        return

    from rulec.runtime.video_io import write_video

    args.out.mkdir(parents=True, exist_ok=True)
    rules = args.out / "bench.rules"
    rules.write_text(RULES)
    sizes = [("tiny", 32, 32, 8), ("256x256 x 16", 256, 256, 16), ("256x256 x 64", 256, 256, 64),
             ("480x832 x 81", 480, 832, 81), ("1024x1024 x 64", 1024, 1024, 64)]
    rows = {}
    for name, height, width, frames in sizes:
        video = args.out / f"bench_{height}x{width}_{frames}.mp4"
        if not video.exists():
            write_video(video, draw_video(height, frames, width))
        decode = decode_seconds(video, args.repeats)
        wall, peak, code = check_run(rules, video, args.repeats)
        rows[name] = (decode, wall, peak, code)
    startup = rows["tiny"][1]
    print(f"rulec check, 6 rules (5 colours), fresh process per run, best of {args.repeats}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; start-up (32x32 x 8 video) {startup:.2f} s")
    print(f"{'video':<16} {'decode s':>9} {'check s':>8} {'beyond start-up s':>18} {'ratio to decode':>16} {'peak MB':>8} {'exit':>5}")
    for name, (decode, wall, peak, code) in rows.items():
        beyond = wall - startup
        ratio = "" if name == "tiny" else f"{beyond / decode:.1f}x"
        print(f"{name:<16} {decode:9.3f} {wall:8.2f} {beyond:18.2f} {ratio:>16} {peak:8.0f} {code:5d}")

    def exponent(a: str, b: str, factor: float) -> float:
        return math.log(max(rows[b][1] - startup, 1e-3) / max(rows[a][1] - startup, 1e-3)) / math.log(factor)

    print(f"growth exponent of check beyond start-up: frames (256x256, 16 -> 64) {exponent('256x256 x 16', '256x256 x 64', 4):.2f}; "
          f"pixels (64 frames, 256^2 -> 1024^2) {exponent('256x256 x 64', '1024x1024 x 64', 16):.2f}")
    decode_growth = math.log(rows["1024x1024 x 64"][0] / rows["256x256 x 64"][0]) / math.log(16)
    print(f"decode's own growth in pixels: {decode_growth:.2f}")


if __name__ == "__main__":
    main()
