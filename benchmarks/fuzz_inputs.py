"""Fuzz every input path around the compiler for longer than the tests do.

    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/fuzz_inputs.py --n 100000 [--seed 0] [--workers 2] [--max-minutes 0]

Generates task folders (one or two files spoiled), question_metadata.json texts, images,
VLM answers (and HTTP bodies) and bench result files (see :mod:`support.fuzz_inputs`), runs
each through its loader, and counts escapes: any exception other than the path's one
error type, or an input slower than its time bound (a hang). Prints how many inputs it
tried per path, how many escaped, and the first few escapes. Exit status 1 if any escaped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the fuzzers are test support, not installed

from support.fuzz_inputs import PATHS, run_many


def run_slice(args: tuple[int, int, int, tuple[str, ...]]):
    seed, start, count, paths = args
    return run_many(seed, start, count, paths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of inputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=500, help="inputs per progress report")
    parser.add_argument("--paths", default=",".join(PATHS), help=f"comma-separated subset of {','.join(PATHS)}")
    parser.add_argument("--max-minutes", type=float, default=0, help="stop starting new chunks after this long (0: no limit)")
    args = parser.parse_args(argv)
    paths = tuple(p for p in args.paths.split(",") if p)
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        parser.error(f"unknown path {', '.join(unknown)}")

    jobs = [(args.seed, s, min(args.chunk, args.n - s), paths) for s in range(0, args.n, args.chunk)]
    tried, escapes = 0, []
    per_path = dict.fromkeys(paths, 0)
    t0 = time.perf_counter()
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    results = pool.imap(run_slice, jobs) if pool else map(run_slice, jobs)
    for (_, start, count, _), (done, found) in zip(jobs, results):
        tried += done
        for i in range(start, start + count):
            per_path[paths[i % len(paths)]] += 1
        escapes.extend(found)
        elapsed = time.perf_counter() - t0
        print(f"  {tried} inputs, {len(escapes)} escaped, {elapsed:.0f} s", file=sys.stderr, flush=True)
        if args.max_minutes and elapsed > 60 * args.max_minutes:
            print(f"  stopping: --max-minutes {args.max_minutes:g} reached", file=sys.stderr, flush=True)
            break
    if pool:
        pool.terminate()
    elapsed = time.perf_counter() - t0
    print(f"inputs tried: {tried} ({', '.join(f'{p} {n}' for p, n in per_path.items())})")
    print(f"escaped (tracebacks or hangs): {len(escapes)}")
    print(f"time: {elapsed:.0f} s ({1000 * elapsed / max(tried, 1):.2f} ms per input)")
    for i, problem in escapes[:10]:
        print(f"--- input {i} (seed {args.seed}): {problem}")
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
