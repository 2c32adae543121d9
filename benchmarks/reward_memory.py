"""The differentiable reward at video-model sizes: forward + backward time and peak memory.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/reward_memory.py [--size 480x832x81] [--whole]

One fresh process per run (B = 1): the six rules of ``benchmarks/check_speed.py`` on its
anti-aliased video at the given size, as a float32 tensor that requires grad; the reward's
smooth forward and ``loss.backward()`` into the video. Prints the wall time and the peak
resident memory above the process before the call (the video itself is already held).
``--whole`` also runs with chunking off (``whole_pixels=None``), the evaluation that
holds every node's masks for the whole video.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _status(key: str) -> float:
    """A /proc/self/status figure in MB."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key)) / 1024


def child(height: int, width: int, frames: int, whole: bool) -> None:
    import gc

    import torch

    sys.path.insert(0, str(HERE))
    from check_speed import RULES, draw_video

    import rulec
    from rulec.frames import to_float

    video = to_float(draw_video(height, frames, width)).unsqueeze(0).requires_grad_(True)
    gc.collect()
    reward = rulec.compile_rules(RULES, num_frames=frames).to_reward(**({"whole_pixels": None} if whole else {}))
    chunked = reward._chunk_frames(video)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident size
    base = _status("VmRSS")
    t0 = time.perf_counter()
    reward(video).loss.backward()
    seconds = time.perf_counter() - t0
    finite = bool(torch.isfinite(video.grad).all())
    how = "whole" if chunked is None else f"chunks of {chunked} frames"
    print(f"{height}x{width} x {frames}, B=1, {how:<20} {seconds:8.1f} s {_status('VmHWM') - base:9.0f} MB above "
          f"(video {video.numel() * 4 / 2**20:.0f} MB, gradient finite: {finite})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="480x832x81", help="HxWxT")
    parser.add_argument("--whole", action="store_true", help="also run with chunking off")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        h, w, t, whole = args.child
        child(int(h), int(w), int(t), whole == "1")
        return
    h, w, t = (int(v) for v in args.size.lower().split("x"))
    print("reward forward + backward, six rules (benchmarks/check_speed.py), fresh process per run")
    for whole in ([False, True] if args.whole else [False]):
        subprocess.run([sys.executable, __file__, "--child", str(h), str(w), str(t), "1" if whole else "0"], check=True)


if __name__ == "__main__":
    main()
