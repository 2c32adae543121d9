"""Do an instance's compiled rules.txt and its independent scorer give the same verdict?

For N instances per family, on the ground truth and on every corruption: the exact
verdict of the compiled reference rules (``RewardReport.passed``) against the numpy
scorer's ``success``. Also checks the scorer itself (ground truth succeeds; each
corruption fails the sub-check it names) and, with ``--chance``, how often a blind
straight motion (16 directions, as far as the solution's end) succeeds by either judge,
and how often the two agree on those blind motions.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/agreement.py --n 50 [--chance] [--noise 12] [--yuv420] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

import numpy as np


def verdicts(rules_text: str, videos: np.ndarray, name: str) -> tuple[np.ndarray, list[list[str]]]:
    """Exact verdict of the compiled rules per video, and the names of the rules that failed."""
    import torch

    import rulec
    from rulec.frames import to_float

    compiled = rulec.compile_rules(rules_text, name=name, num_frames=videos.shape[1])
    reward = compiled.to_reward()
    x = to_float(videos)
    with torch.no_grad():
        report = reward(x)
    failed = [[r.name for r in report.rules if not bool(r.passed[b])] for b in range(len(videos))]
    return report.passed.cpu().numpy().astype(bool), failed


def straight_motions(inst, directions: int = 16) -> np.ndarray:
    """Blind guesses: the agent moves straight in one of ``directions`` directions, as far as the solution's end."""
    from rulec.runtime.tasks import corrupt
    from rulec.runtime.tasks.base import MOTION_FRAMES, follow

    path = corrupt.agent_path(inst)
    dist = float(np.hypot(*(path[-1] - path[0])))
    videos = []
    for k in range(directions):
        a = 2 * np.pi * k / directions
        end = np.rint(path[0] + dist * np.array([np.cos(a), np.sin(a)])).astype(int)
        end = np.clip(end, 2, inst.first_frame.shape[0] - 3)
        p = follow([path[0], end], motion_frames=MOTION_FRAMES)
        if p is None:  # too far at the solver's speed: go as far as fits
            p = follow([path[0], path[0] + (end - path[0]) * 0.6], motion_frames=MOTION_FRAMES)
        if p is None:
            continue
        videos.append(corrupt.with_path(inst, p))
    return np.stack(videos)


def yuv420_round_trip(frames: np.ndarray, crf: int = 0) -> np.ndarray:
    """Frames after an ordinary H.264 4:2:0 encode (what a default mp4 export does)."""
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=8)
        s.width, s.height, s.pix_fmt, s.options = frames.shape[2], frames.shape[1], "yuv420p", {"crf": str(crf)}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    buf.seek(0)
    with av.open(buf) as c:
        return np.stack([fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="instances per family (seeds 0..n-1)")
    ap.add_argument("--families", default="all", help="comma-separated names or 'all'")
    ap.add_argument("--chance", action="store_true", help="also measure blind straight-motion success")
    ap.add_argument("--noise", type=int, default=0, help="also judge every video with uniform +-NOISE RGB noise added (model-like off-palette colours)")
    ap.add_argument("--yuv420", action="store_true", help="also score each ground truth after a lossy 4:2:0 H.264 round trip (crf 0)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from rulec.runtime import tasks

    names = list(tasks.FAMILIES) if args.families == "all" else args.families.split(",")
    results: dict[str, dict] = {}
    t0 = time.time()
    for fam in names:
        agree = total = 0
        disagreements: Counter = Counter()
        scorer_problems: list[str] = []
        chance_rules = chance_scorer = chance_total = chance_agree = 0
        noisy_agree = noisy_total = 0
        yuv_success = 0
        noisy_disagreements: Counter = Counter()
        for seed in range(args.n):
            inst = tasks.make_instance(fam, seed)
            kinds = ["ground_truth"] + [c.name for c in tasks.corruption_list(inst)]
            videos = [inst.ground_truth] + [c.make(inst) for c in tasks.corruption_list(inst)]
            passed, failed = verdicts(inst.rules_text, np.stack(videos), inst.name)
            for kind, video, rules_ok, rules_failed in zip(kinds, videos, passed, failed):
                s = tasks.score(inst, video)
                total += 1
                if bool(rules_ok) == s.success:
                    agree += 1
                else:
                    bad_checks = ",".join(k for k, v in s.checks.items() if not v) or "-"
                    disagreements[f"{kind}: scorer {'pass' if s.success else 'fail'} ({bad_checks}), rules {'pass' if rules_ok else 'fail'} ({','.join(rules_failed) or '-'})"] += 1
                if kind == "ground_truth" and not s.success:
                    scorer_problems.append(f"seed {seed}: ground truth fails {s.checks}")
                elif kind != "ground_truth":
                    c = next(c for c in tasks.corruption_list(inst) if c.name == kind)
                    if s.success or s.checks[c.breaks]:
                        scorer_problems.append(f"seed {seed}: {kind} does not fail {c.breaks}")
            if args.yuv420:
                yuv_success += tasks.score(inst, yuv420_round_trip(inst.ground_truth)).success
            if args.noise:
                rng = np.random.default_rng(seed)
                stack = np.stack(videos).astype(int)
                noisy = np.clip(stack + rng.integers(-args.noise, args.noise + 1, size=stack.shape), 0, 255).astype(np.uint8)
                n_passed, n_failed = verdicts(inst.rules_text, noisy, inst.name)
                for kind, video, rules_ok, rules_failed in zip(kinds, noisy, n_passed, n_failed):
                    s = tasks.score(inst, video)
                    noisy_total += 1
                    if bool(rules_ok) == s.success:
                        noisy_agree += 1
                    else:
                        noisy_disagreements[f"noisy {kind}: scorer {'pass' if s.success else 'fail'}, rules {'pass' if rules_ok else 'fail'} ({','.join(rules_failed) or '-'})"] += 1
            if args.chance:
                guesses = straight_motions(inst)
                ok, _ = verdicts(inst.rules_text, guesses, inst.name)
                by_scorer = np.array([tasks.score(inst, g).success for g in guesses])
                chance_rules += int(ok.sum())
                chance_scorer += int(by_scorer.sum())
                chance_agree += int((ok == by_scorer).sum())
                chance_total += len(guesses)
        results[fam] = {
            "videos": total,
            "agreement": agree / total,
            "disagreements": dict(disagreements),
            "scorer_problems": scorer_problems,
        }
        if args.yuv420:
            results[fam]["yuv420_ground_truth_success"] = yuv_success / args.n
        if args.noise:
            results[fam]["noisy_agreement"] = noisy_agree / noisy_total
            results[fam]["disagreements"].update(noisy_disagreements)
        if args.chance:
            results[fam]["chance_scorer"] = chance_scorer / chance_total
            results[fam]["chance_rules"] = chance_rules / chance_total
            results[fam]["chance_videos"] = chance_total
            results[fam]["chance_agreement"] = chance_agree / chance_total
    elapsed = time.time() - t0

    if args.json:
        print(json.dumps({"n": args.n, "families": results, "seconds": round(elapsed, 1)}, indent=1))
    else:
        print(f"agreement of compiled rules.txt with the independent scorer ({args.n} instances per family; ground truth + every corruption)")
        head = f"{'family':<10} {'videos':>6} {'agreement':>9}"
        if args.yuv420:
            head += f" {'GT after 4:2:0':>14}"
        if args.noise:
            head += f" {'noisy +-' + str(args.noise):>10}"
        if args.chance:
            head += f" {'blind':>6} {'success (scorer)':>16} {'success (rules)':>15} {'agreement':>9}"
        print(head)
        for fam, r in results.items():
            line = f"{fam:<10} {r['videos']:>6} {r['agreement']:>9.1%}"
            if args.yuv420:
                line += f" {r['yuv420_ground_truth_success']:>14.1%}"
            if args.noise:
                line += f" {r['noisy_agreement']:>10.1%}"
            if args.chance:
                line += f" {r['chance_videos']:>6} {r['chance_scorer']:>16.1%} {r['chance_rules']:>15.1%} {r['chance_agreement']:>9.1%}"
            print(line)
        for fam, r in results.items():
            for what, count in sorted(r["disagreements"].items(), key=lambda kv: -kv[1]):
                print(f"  {fam}: {count}x {what}")
            for p in r["scorer_problems"]:
                print(f"  {fam}: SCORER {p}")
        print(f"({elapsed:.0f} s)")
    ok = all(r["agreement"] >= 0.95 and not r["scorer_problems"] for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
