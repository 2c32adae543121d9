"""Do an instance's compiled rules.txt and its independent scorer give the same verdict?

For N instances per family, on the ground truth and on every corruption: the exact
verdict of the compiled reference rules (``RewardReport.passed``) against the numpy
scorer's ``success`` on the lossless frames (the video's truth), with the rules judging the
lossless frames and (``--codec lossless,mp4``, the default) the same videos after an ordinary
H.264 4:2:0 mp4 encode at the default CRF: a codec must not change a verdict. ``--scale K``
draws the six 32x32 families K times larger (nearest) before judging and encoding them, as a
real generator's frames would be; their truth is still the scorer's on the 32x32 original.
Also checks the scorer itself (ground truth succeeds; each corruption fails the sub-check it names) and, with
``--chance``, how often a blind straight motion (16 directions, as far as the solution's end)
succeeds by either judge, and how often the two agree on those blind motions.

Families: the six 32x32 ones (``--n`` instances each) and the realistic ones (issue #20;
``--n-realistic`` each, ``--n-large`` for the 1024-px one, whose videos take minutes each;
``--size`` renders every realistic family at one smaller size for a quick look). The realistic
families are judged video by video through the streamed evaluator (``rulec.stream``), the
small ones in batches. ``--chance``, ``--noise`` and ``--yuv420`` apply to the six only.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/agreement.py --n 50 [--chance] [--noise 12] [--yuv420] [--json]
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/agreement.py --families realistic --codec lossless,mp4 --n-realistic 4 --n-large 2

Measured on one core of a shared 2-core machine (both codecs, per instance): card_swap 45 s,
sort_by_size 3.5 min, return_home 11.5 min; the six families 0.6 s at 32 px and 15 s at
256 px (``--scale 8``).

Exit status 1 when a scorer misbehaves (on lossless videos, or on mp4 for a realistic family,
whose scorers must be codec-robust) or one of the six families agrees on fewer than 95 % of
its lossless videos; the realistic families' agreement is a measurement of today's rules
language (docs/tasks.md), not a pass mark.
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


def streamed_verdict(rules_text: str, video: np.ndarray, name: str, compiled=None) -> tuple[bool, list[str]]:
    """Exact verdict of the compiled rules on one video, streamed in chunks (large frames)."""
    import rulec
    from rulec.stream import StreamingEvaluator, chunk_frames_for

    if compiled is None:
        compiled = rulec.compile_rules(rules_text, name=name, num_frames=video.shape[0])
    n = chunk_frames_for(*video.shape[1:3])
    report, _ = StreamingEvaluator(compiled).run(video[i : i + n] for i in range(0, len(video), n))
    return bool(report.passed[0]), [r.name for r in report.rules if not bool(r.passed[0])]


CODECS = ("lossless", "mp4")


def scale_up(video: np.ndarray, k: int) -> np.ndarray:
    """``(T, H, W, 3)`` drawn ``k`` times larger, each pixel a k x k block (nearest)."""
    return video if k == 1 else np.repeat(np.repeat(video, k, axis=1), k, axis=2)


def _encode(video: np.ndarray, codec: str, fps: int) -> np.ndarray:
    from rulec.runtime.video_io import h264_round_trip

    return video if codec == "lossless" else h264_round_trip(video, fps=fps)


def _tally(entry: dict, kind: str, rules_ok: bool, rules_failed: list[str], s) -> None:
    entry["videos"] += 1
    if bool(rules_ok) == s.success:
        entry["agree"] += 1
    else:
        bad = ",".join(k for k, v in s.checks.items() if not v) or "-"
        entry["disagreements"][f"{kind}: scorer {'pass' if s.success else 'fail'} ({bad}), rules {'pass' if rules_ok else 'fail'} ({','.join(rules_failed) or '-'})"] += 1
    if kind == "ground_truth":
        entry["gt"] += 1
        entry["gt_success"] += int(s.success)
        entry["gt_rules"] += int(bool(rules_ok))


def _check_scorer(entry: dict, seed: int, kind: str, corr, s) -> None:
    if kind == "ground_truth" and not s.success:
        entry["scorer_problems"].append(f"seed {seed}: ground truth fails {[k for k, v in s.checks.items() if not v]}")
    elif corr is not None and (s.success or s.checks[corr.breaks]):
        entry["scorer_problems"].append(f"seed {seed}: {kind} does not fail {corr.breaks}")


def _new_entry() -> dict:
    return {"videos": 0, "agree": 0, "gt": 0, "gt_success": 0, "gt_rules": 0, "disagreements": Counter(), "scorer_problems": []}


def run_realistic(fam: str, n: int, codecs: list[str], size: int | None, first_seed: int = 0) -> dict:
    """Agreement on a realistic family, one video at a time (memory: one video and its encode)."""
    import rulec
    from rulec.runtime import tasks

    module = sys.modules[tasks.REALISTIC[fam].make.__module__]
    entries = {c: _new_entry() for c in codecs}
    shape = None
    for seed in range(first_seed, first_seed + n):
        inst = module.make(seed, **({"size": size} if size else {}))
        shape = inst.ground_truth.shape
        compiled = rulec.compile_rules(inst.rules_text, name=inst.name, num_frames=shape[0])
        fps = int(inst.metadata.get("fps", 16))
        items = [("ground_truth", None)] + [(c.name, c) for c in tasks.corruption_list(inst)]
        for kind, corr in items:
            video = inst.ground_truth if corr is None else corr.make(inst)
            truth = tasks.score(inst, video)
            for codec in codecs:
                judged = _encode(video, codec, fps)
                ok, failed = streamed_verdict(inst.rules_text, judged, inst.name, compiled)
                _tally(entries[codec], kind, ok, failed, truth)
                _check_scorer(entries[codec], seed, kind, corr, tasks.score(inst, judged) if codec != "lossless" else truth)
            del video
    return {"size": shape[1], "frames": shape[0], "n": n, "seeds": [first_seed, first_seed + n], "codecs": entries}


def run_six(fam: str, args, codecs: list[str]) -> dict:
    """Agreement on one of the six 32x32 families (batched verdicts), and the optional extras."""
    from rulec.runtime import tasks
    from rulec.runtime.video_io import h264_round_trip

    entries = {c: _new_entry() for c in codecs}
    extra = {"chance_rules": 0, "chance_scorer": 0, "chance_total": 0, "chance_agree": 0, "noisy": _new_entry(), "yuv_success": 0}
    for seed in range(args.n):
        inst = tasks.make_instance(fam, seed)
        corrs = list(tasks.corruption_list(inst))
        kinds = ["ground_truth"] + [c.name for c in corrs]
        videos = [inst.ground_truth] + [c.make(inst) for c in corrs]
        truths = [tasks.score(inst, v) for v in videos]  # the six scorers read exact colours: lossless 32x32 only
        for kind, corr, s in zip(kinds, [None] + corrs, truths):
            _check_scorer(entries[codecs[0]], seed, kind, corr, s)
        drawn = [scale_up(v, args.scale) for v in videos]
        for codec in codecs:
            judged = [_encode(v, codec, 8) for v in drawn]
            passed, failed = verdicts(inst.rules_text, np.stack(judged), inst.name)
            for kind, s, rules_ok, rules_failed in zip(kinds, truths, passed, failed):
                _tally(entries[codec], kind, rules_ok, rules_failed, s)
        if args.yuv420:
            extra["yuv_success"] += tasks.score(inst, h264_round_trip(inst.ground_truth, fps=8, crf=0)).success
        if args.noise:
            rng = np.random.default_rng(seed)
            stack = np.stack(videos).astype(int)
            noisy = np.clip(stack + rng.integers(-args.noise, args.noise + 1, size=stack.shape), 0, 255).astype(np.uint8)
            n_passed, n_failed = verdicts(inst.rules_text, noisy, inst.name)
            for kind, video, rules_ok, rules_failed in zip(kinds, noisy, n_passed, n_failed):
                _tally(extra["noisy"], "noisy " + kind, rules_ok, rules_failed, tasks.score(inst, video))
        if args.chance:
            guesses = straight_motions(inst)
            ok, _ = verdicts(inst.rules_text, guesses, inst.name)
            by_scorer = np.array([tasks.score(inst, g).success for g in guesses])
            extra["chance_rules"] += int(ok.sum())
            extra["chance_scorer"] += int(by_scorer.sum())
            extra["chance_agree"] += int((ok == by_scorer).sum())
            extra["chance_total"] += len(guesses)
    out = {"size": inst.first_frame.shape[0] * args.scale, "frames": inst.ground_truth.shape[0], "n": args.n, "codecs": entries}
    if args.yuv420:
        out["yuv420_ground_truth_success"] = extra["yuv_success"] / args.n
    if args.noise:
        out["noisy_agreement"] = extra["noisy"]["agree"] / extra["noisy"]["videos"]
        out["noisy_disagreements"] = dict(extra["noisy"]["disagreements"])
    if args.chance:
        t = extra["chance_total"]
        out.update(chance_scorer=extra["chance_scorer"] / t, chance_rules=extra["chance_rules"] / t,
                   chance_videos=t, chance_agreement=extra["chance_agree"] / t)
    return out


def _save(path: str, record: dict) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(record, fh, indent=1)
    import os

    os.replace(tmp, path)


def merge_saved(paths: list[str]) -> dict:
    """Saved runs as one record: a family's counts and disagreements are summed over the files."""
    merged: dict = {"codecs": None, "families": {}, "seconds": 0.0}
    for p in paths:
        with open(p) as fh:
            rec = json.load(fh)
        merged["codecs"] = merged["codecs"] or rec["codecs"]
        merged["seconds"] += rec.get("seconds", 0.0)
        for fam, r in rec["families"].items():
            if fam not in merged["families"]:
                merged["families"][fam] = json.loads(json.dumps(r))
                continue
            m = merged["families"][fam]
            m["n"] += r["n"]
            for c, e in r["codecs"].items():
                me = m["codecs"].setdefault(c, _new_entry() | {"disagreements": {}})
                for k in ("videos", "agree", "gt", "gt_success", "gt_rules"):
                    me[k] += e[k]
                for k, v in e["disagreements"].items():
                    me["disagreements"][k] = me["disagreements"].get(k, 0) + v
                me["scorer_problems"] += e["scorer_problems"]
    for r in merged["families"].values():
        for e in r["codecs"].values():
            e["agreement"] = e["agree"] / e["videos"] if e["videos"] else float("nan")
            e["ground_truth_scorer_success"] = e["gt_success"] / e["gt"] if e["gt"] else float("nan")
            e["ground_truth_rules_pass"] = e["gt_rules"] / e["gt"] if e["gt"] else float("nan")
    return merged


def print_table(record: dict, args) -> None:
    codecs, results = record["codecs"], record["families"]
    print("agreement of the compiled rules.txt's verdict, on each codec, with the independent scorer's on the lossless video "
          "(ground truth + every corruption; mp4 = H.264 4:2:0 at the default CRF; GT scorer / GT rules = ground truths the "
          "scorer / the rules pass)")
    head = f"{'family':<13} {'size':>5} {'frames':>6} {'n':>3} {'videos':>6}"
    for c in codecs:
        head += f" {c:>9} {'GT scorer':>9} {'GT rules':>8}"
    if args.yuv420:
        head += f" {'GT after 4:2:0':>14}"
    if args.noise:
        head += f" {'noisy +-' + str(args.noise):>10}"
    if args.chance:
        head += f" {'blind':>6} {'success (scorer)':>16} {'success (rules)':>15} {'agreement':>9}"
    print(head)
    for fam, r in results.items():
        line = f"{fam:<13} {r['size']:>5} {r['frames']:>6} {r['n']:>3} {r['codecs'][codecs[0]]['videos']:>6}"
        for c in codecs:
            e = r["codecs"][c]
            line += f" {e['agreement']:>9.1%} {e['ground_truth_scorer_success']:>9.0%} {e['ground_truth_rules_pass']:>8.0%}"
        if args.yuv420 and "yuv420_ground_truth_success" in r:
            line += f" {r['yuv420_ground_truth_success']:>14.1%}"
        if args.noise and "noisy_agreement" in r:
            line += f" {r['noisy_agreement']:>10.1%}"
        if args.chance and "chance_videos" in r:
            line += f" {r['chance_videos']:>6} {r['chance_scorer']:>16.1%} {r['chance_rules']:>15.1%} {r['chance_agreement']:>9.1%}"
        print(line)
    for fam, r in results.items():
        for c in codecs:
            for what, count in sorted(r["codecs"][c]["disagreements"].items(), key=lambda kv: -kv[1]):
                print(f"  {fam} [{c}]: {count}x {what}")
            for p in r["codecs"][c]["scorer_problems"]:
                print(f"  {fam} [{c}]: SCORER {p}")
        for what, count in sorted(r.get("noisy_disagreements", {}).items(), key=lambda kv: -kv[1]):
            print(f"  {fam}: {count}x {what}")
    print(f"({record['seconds']:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="instances per 32x32 family (seeds 0..n-1)")
    ap.add_argument("--n-realistic", type=int, default=2, help="instances per realistic family of 256-512 px (sort_by_size: ~3.5 min each)")
    ap.add_argument("--n-large", type=int, default=1, help="instances per realistic family of 1024 px or more (return_home: ~11.5 min each)")
    ap.add_argument("--size", type=int, default=None, help="render every realistic family at this size instead of its default (a quick look)")
    ap.add_argument("--families", default="all", help="comma-separated names, 'six', 'realistic' or 'all'")
    ap.add_argument("--codec", default="lossless,mp4", help="judge the videos as they are (lossless) and/or after an H.264 4:2:0 mp4 encode at the default CRF (mp4)")
    ap.add_argument("--scale", type=int, default=1, help="draw the 32x32 families this many times larger (nearest) before judging and encoding")
    ap.add_argument("--chance", action="store_true", help="also measure blind straight-motion success (32x32 families)")
    ap.add_argument("--noise", type=int, default=0, help="also judge every video with uniform +-NOISE RGB noise added (32x32 families)")
    ap.add_argument("--yuv420", action="store_true", help="also score each ground truth after a 4:2:0 H.264 round trip at crf 0 (32x32 families)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--save", default=None, help="also write the results as JSON to this file (rewritten after every family)")
    ap.add_argument("--first-seed", type=int, default=0, help="realistic families: instances from this seed on (to split a long run)")
    ap.add_argument("--report", default=None, help="print the table of saved results (comma-separated --save files, merged) and exit")
    args = ap.parse_args(argv)
    if args.report:
        record = merge_saved([p for p in args.report.split(",") if p])
        print_table(record, args)
        return 0
    codecs = [c.strip() for c in args.codec.split(",") if c.strip()]
    if not codecs or any(c not in CODECS for c in codecs):
        ap.error(f"--codec takes {', '.join(CODECS)} (comma-separated), got {args.codec!r}")

    import torch

    torch.set_num_threads(1)
    from rulec.runtime import tasks

    groups = {"all": list(tasks.ALL_FAMILIES), "six": list(tasks.FAMILIES), "realistic": list(tasks.REALISTIC)}
    names = groups.get(args.families) or [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in names if f not in tasks.ALL_FAMILIES]
    if unknown:
        ap.error(f"unknown families {', '.join(unknown)}; known: {', '.join(tasks.ALL_FAMILIES)}")
    results: dict[str, dict] = {}
    t0 = time.time()
    for fam in names:
        t = time.time()
        if fam in tasks.REALISTIC:
            default_size = sys.modules[tasks.REALISTIC[fam].make.__module__].DEFAULT_SIZE
            n = args.n_large if (args.size or default_size) >= 1024 else args.n_realistic
            results[fam] = run_realistic(fam, n, codecs, args.size, args.first_seed)
        else:
            results[fam] = run_six(fam, args, codecs)
        results[fam]["seconds"] = round(time.time() - t, 1)
        for c, e in results[fam]["codecs"].items():
            e["agreement"] = e["agree"] / e["videos"] if e["videos"] else float("nan")
            e["ground_truth_scorer_success"] = e["gt_success"] / e["gt"] if e["gt"] else float("nan")
            e["ground_truth_rules_pass"] = e["gt_rules"] / e["gt"] if e["gt"] else float("nan")
            e["disagreements"] = dict(e["disagreements"])
        results[fam]["agreement"] = results[fam]["codecs"][codecs[0]]["agreement"]
        print(f"# {fam}: done in {results[fam]['seconds']} s", file=sys.stderr, flush=True)
        if args.save:
            _save(args.save, {"codecs": codecs, "families": results, "seconds": round(time.time() - t0, 1), "complete": False})
    elapsed = time.time() - t0

    record = {"codecs": codecs, "families": results, "seconds": round(elapsed, 1), "complete": True}
    if args.save:
        _save(args.save, record)
    if args.json:
        print(json.dumps(record, indent=1))
    else:
        print_table(record, args)
    ok = True
    for fam, r in results.items():
        for c, e in r["codecs"].items():
            if e["scorer_problems"]:
                ok = False
        if fam in tasks.FAMILIES and "lossless" in r["codecs"] and r["codecs"]["lossless"]["agreement"] < 0.95:
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
