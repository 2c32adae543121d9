"""Fuzz the compiler for longer than the tests do.

    .venv/bin/python benchmarks/fuzz_compiler.py --n 100000 [--seed 0] [--workers 1]

Feeds random token soup, mutated example files, random bytes and deeply nested formulas
to ``rulec.compile_rules`` and counts inputs whose outcome is anything other than success
or a ``RulesError`` with positioned diagnostics. Prints how many inputs it tried, how many
escaped, and the first few escapes. Exit status 1 if any escaped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the fuzzers are test support, not installed

from support.fuzzing import escape, example_texts, generate


def run_slice(args: tuple[int, int, int]) -> tuple[int, list[tuple[str, str]]]:
    seed, start, count = args
    seeds = example_texts()
    escapes = []
    for i in range(start, start + count):
        rng = random.Random(seed * 1_000_003 + i)
        text = generate(rng, seeds)
        problem = escape(text, num_frames=rng.choice((None, None, 1, 4, 16)))
        if problem is not None:
            escapes.append((text[:300], problem))
    return count, escapes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of inputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=2_000, help="inputs per progress report")
    args = parser.parse_args(argv)

    jobs = [(args.seed, s, min(args.chunk, args.n - s)) for s in range(0, args.n, args.chunk)]
    tried, escapes = 0, []
    t0 = time.perf_counter()
    pool = multiprocessing.Pool(args.workers) if args.workers > 1 else None
    results = pool.imap(run_slice, jobs) if pool else map(run_slice, jobs)
    for count, found in results:
        tried += count
        escapes.extend(found)
        print(f"  {tried} inputs, {len(escapes)} escaped, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    if pool:
        pool.close()
    elapsed = time.perf_counter() - t0
    print(f"inputs tried: {tried}")
    print(f"escaped as other exceptions: {len(escapes)}")
    print(f"time: {elapsed:.0f} s ({1000 * elapsed / max(tried, 1):.2f} ms per input)")
    for text, problem in escapes[:5]:
        print(f"--- {problem}\n{text!r}")
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
