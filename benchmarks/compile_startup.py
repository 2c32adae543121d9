"""Wall time of `rulec compile examples/maze.rules` against `python -c "import torch"`.

    .venv/bin/python benchmarks/compile_startup.py [--repeat 5]

Each command runs in a fresh interpreter; the script prints the median and the best of
``--repeat`` runs for both, so docs/architecture.md can quote them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_times(cmd: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return times


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
        t = wall_times(cmd, args.repeat)
        print(f"{name:40s} median {statistics.median(t):.3f} s   best {min(t):.3f} s   ({args.repeat} runs)")


if __name__ == "__main__":
    main()
