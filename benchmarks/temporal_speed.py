"""Temporal operators vs rtamt: time and memory against the video length T (prints figures).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/temporal_speed.py

Four formulas on random signals in [-1, 1] (float32): ``always x > 0``, ``eventually[0:11] x > 0``
(rtamt's [0, 10]), ``x > 0 until y > 0`` and the response nest
``always (x > 0 implies eventually[0:11] y > 0)``. For each T and batch size: our Exact
evaluation (forward), our Smooth evaluation (forward + backward), and rtamt's discrete-time
offline monitor (one signal at a time, so a batch costs B times one signal; it is skipped
where B * T exceeds --rtamt-max, and the table says so). Times are the best of a few runs.
Then: the growth exponent of each time between T = 1e4 and the largest T (1.0 = linear), the
speed-up over rtamt, and the peak extra memory (RSS) of each operator at the largest T in a
fresh subprocess. Not a test: it prints, it does not assert.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time

import torch

from rulec.primitives.kernels import KERNELS
from rulec.primitives.semantics import Exact, Smooth

FORMULAS = {
    "always": "always(x>0)",
    "eventually[0:11]": "eventually[0,10](x>0)",
    "until": "(x>0) until (y>0)",
    "response": "always((x>0) implies eventually[0,10](y>0))",
}


def ours(name: str, sem, x, y):
    k = KERNELS
    if name == "always":
        return k["always"](sem, x, None, None, 0)
    if name == "eventually[0:11]":
        return k["eventually"](sem, x, 0, 11, 0)
    if name == "until":
        return k["until"](sem, x, y, None, None)
    return k["always"](sem, k["or"](sem, k["neg"](sem, x), k["eventually"](sem, y, 0, 11, 0)), None, None, 0)


def signals(batch: int, frames: int, grad: bool = False):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, frames, generator=g) * 2 - 1).requires_grad_(grad)
    y = torch.rand(batch, frames, generator=g) * 2 - 1
    return x, y


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_exact(name, batch, frames, repeats):
    x, y = signals(batch, frames)
    with torch.no_grad():
        return best(lambda: ours(name, Exact(), x, y), repeats)


def time_smooth(name, batch, frames, repeats):
    x, y = signals(batch, frames, grad=True)

    def run():
        ours(name, Smooth(10.0), x, y)[:, 0].sum().backward()
        x.grad = None

    return best(run, repeats)


def time_rtamt(name, batch, frames, repeats):
    import rtamt

    x, y = signals(1, frames)
    data = {"time": list(range(frames)), "x": x[0].tolist(), "y": y[0].tolist()}

    def run():
        spec = rtamt.StlDiscreteTimeOfflineSpecification()
        spec.declare_var("x", "float")
        spec.declare_var("y", "float")
        spec.spec = FORMULAS[name]
        spec.parse()
        t0 = time.perf_counter()
        spec.evaluate(data)
        return time.perf_counter() - t0

    return min(run() for _ in range(repeats)) * batch  # one signal at a time


def memory_child(name: str, mode: str, batch: int, frames: int) -> None:
    """Peak RSS growth (MB) of one evaluation, printed as JSON (run in a fresh process)."""
    x, y = signals(batch, frames, grad=(mode == "smooth"))
    with open("/proc/self/clear_refs", "w") as f:  # Linux: reset the peak (VmHWM) to the current RSS
        f.write("5")
    base = _status_kb("VmRSS")
    if mode == "exact":
        with torch.no_grad():
            ours(name, Exact(), x, y)
    else:
        ours(name, Smooth(10.0), x, y)[:, 0].sum().backward()
    print(json.dumps({"mb": (_status_kb("VmHWM") - base) / 1024}))


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def memory(name, mode, batch, frames) -> float:
    out = subprocess.run([sys.executable, __file__, "--memory-child", name, mode, str(batch), str(frames)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["mb"]


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "skipped"
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", default="16,1000,10000,100000,1000000")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--rtamt-max", type=float, default=1e6, help="run rtamt only where batch * T <= this")
    ap.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        name, mode, batch, frames = args.memory_child
        memory_child(name, mode, int(batch), int(frames))
        return
    torch.set_num_threads(1)
    lengths = [int(float(t)) for t in args.frames.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    try:
        import rtamt  # noqa: F401
        have_rtamt = True
    except ImportError:
        have_rtamt = False
    results = {}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); rtamt {'present' if have_rtamt else 'missing'}")
    print()
    print("| formula | B | T | exact | smooth fwd+bwd | rtamt | rtamt / exact |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in FORMULAS:
        for batch in batches:
            for frames in lengths:
                repeats = 5 if batch * frames <= 1e5 else 2 if batch * frames <= 1e7 else 1
                ex = time_exact(name, batch, frames, repeats)
                sm = time_smooth(name, batch, frames, repeats)
                rt = time_rtamt(name, batch, frames, 1 if frames >= 1e5 else 3) if have_rtamt and batch * frames <= args.rtamt_max else None
                results[(name, batch, frames)] = (ex, sm, rt)
                ratio = f"{rt / ex:.0f}x" if rt else ""
                print(f"| `{name}` | {batch} | {frames:g} | {fmt(ex)} | {fmt(sm)} | {fmt(rt)} | {ratio} |", flush=True)
    lo, hi = 10000, max(lengths)
    if lo in lengths and hi > lo:
        print()
        print(f"Growth exponent of time between T = {lo:g} and T = {hi:g} (1.0 = linear):")
        print()
        print("| formula | B | exact | smooth fwd+bwd | rtamt |")
        print("| --- | --- | --- | --- | --- |")
        for name in FORMULAS:
            for batch in batches:
                cells = []
                for i in range(3):
                    a, b = results[(name, batch, lo)][i], results[(name, batch, hi)][i]
                    cells.append(f"{math.log(b / a) / math.log(hi / lo):.2f}" if a and b else "-")
                print(f"| `{name}` | {batch} | " + " | ".join(cells) + " |", flush=True)
    print()
    print(f"Peak extra memory (RSS) at T = {hi:g}, fresh process per cell:")
    print()
    print("| formula | B | exact | smooth fwd+bwd |")
    print("| --- | --- | --- | --- |")
    for name in FORMULAS:
        for batch in batches:
            if batch * hi > 1e8:
                continue
            print(f"| `{name}` | {batch} | {memory(name, 'exact', batch, hi):.0f} MB | {memory(name, 'smooth', batch, hi):.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
