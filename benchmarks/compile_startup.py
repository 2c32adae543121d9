"""Wall time of `rulec compile examples/maze.rules` against `python -c "import torch"`.

    .venv/bin/python benchmarks/compile_startup.py [--repeat 5]

Each command runs in a fresh interpreter; the script prints the median and the best wall
time of ``--repeat`` runs, the median CPU time (less sensitive to a busy machine), and the
load average, so docs/architecture.md can quote them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall_times(cmd: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each run."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = _children_cpu(), time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        cpus.append(_children_cpu() - c0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rulec = str(Path(sys.executable).with_name("rulec"))
    cases = {
        "rulec compile examples/maze.rules": [rulec, "compile", "examples/maze.rules"],
        'python -c "import torch"': [sys.executable, "-c", "import torch"],
    }
    for name, cmd in cases.items():
        wall_times(cmd, 1)  # warm the file cache
        walls, cpus = wall_times(cmd, args.repeat)
        print(f"{name:36s} wall median {statistics.median(walls):.3f} s, best {min(walls):.3f} s;"
              f"  CPU median {statistics.median(cpus):.3f} s  ({args.repeat} runs)")
    print(f"load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
