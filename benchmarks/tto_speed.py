"""Speed and memory of test-time optimization; prints the figures docs/runtime.md records.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/tto_speed.py [--instances 3] [--steps 8]

Part 1, embedded model (the shipped weights if present, else a random-init model of the same
architecture, which the output says): wall time per optimization step and per instance,
peak RSS, average steps to the stop, for fixed vs fresh noise, with each stop reason.
Part 2, Wan 2.1 I2V: one optimization step on a tiny random config (measured), and a paper
estimate for 480p x 33 frames with the real 14B config (parameters x bytes + activations).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time

import torch


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def embedded(instances: int, steps: int) -> None:
    from rulec import compile_rules
    from rulec.runtime.optimize.reasoner import TaskInput
    from rulec.runtime.tasks import FAMILIES, make_instance
    from rulec.runtime.models.pixel.reasoner import ToyReasoner
    from rulec.runtime.optimize.config import RunConfig
    from rulec.runtime.optimize.tto import optimize

    try:
        reasoner, which = ToyReasoner.load(), "shipped weights"
    except Exception as err:  # weights not shipped yet
        reasoner, which = ToyReasoner.random_init(0), f"random init ({type(err).__name__})"
    print(f"# embedded model: {which}; torch threads {torch.get_num_threads()}")
    families = list(FAMILIES)
    for noise in ("fixed", "fresh"):
        per_step, per_instance, n_steps, reasons, passed = [], [], [], [], 0
        for i in range(instances):
            inst = make_instance(families[i % len(families)], i)
            reward = compile_rules(inst.rules_text, num_frames=16).to_reward()
            task = TaskInput.from_image(inst.first_frame, "", 16)
            stamps = []
            t0 = time.perf_counter()
            result = optimize(reasoner, task, reward, RunConfig(max_steps=steps, noise=noise),
                              on_step=lambda rec: stamps.append(time.perf_counter()))
            per_instance.append(time.perf_counter() - t0)
            per_step += [b - a for a, b in zip(stamps, stamps[1:])]
            n_steps.append(result.steps)
            reasons.append(result.stopped_because)
            passed += bool(result.final["passed"])
            first_loss, last_loss = result.history[0].loss, min(r.loss for r in result.history)
            print(f"  {noise:5s} {inst.name:16s} steps {result.steps:2d} stop {result.stopped_because:11s} "
                  f"loss {first_loss:.3f} -> best {last_loss:.3f} (final {result.final['loss']:.3f})  passed {result.final['passed']}  "
                  f"evals {result.evaluations}  {per_instance[-1]:.1f} s")
        print(f"{noise}: {statistics.mean(per_step):.2f} s/step, {statistics.mean(per_instance):.1f} s/instance, "
              f"{statistics.mean(n_steps):.1f} steps on average, passed {passed}/{instances}, "
              f"stops {dict((r, reasons.count(r)) for r in set(reasons))}")
    print(f"peak RSS (whole process so far): {peak_rss_mb():.0f} MB")


def wan_tiny() -> None:
    from rulec.runtime.optimize.reasoner import TaskInput
    from rulec.runtime.optimize.config import RunConfig
    from rulec.runtime.optimize.tto import optimize
    from rulec.runtime.models.wan import WanReasoner, save_tiny_wan

    with tempfile.TemporaryDirectory() as d:
        save_tiny_wan(d)
        reasoner = WanReasoner.from_pretrained(d)
        task = TaskInput(first_frame=torch.rand(3, 32, 32), caption="red disc moves right", num_frames=33)
        reward = lambda v, beta=None: _Mean(v)  # noqa: E731  (any differentiable score will do for timing)
        rss0 = peak_rss_mb()
        t0 = time.perf_counter()
        optimize(reasoner, task, reward, RunConfig(max_steps=1, sample_steps=4, grad_steps=2))
        dt = time.perf_counter() - t0
        params = sum(p.numel() for p in reasoner.transformer.parameters())
        print(f"# Wan tiny ({params} transformer params, 32x32, 33 frames): one TTO step + final decode "
              f"{dt:.2f} s, peak RSS {peak_rss_mb():.0f} MB (before: {rss0:.0f} MB)")


class _Mean:
    """A stand-in report: loss = mean brightness (only timing matters here)."""

    def __init__(self, video):
        from types import SimpleNamespace

        m = video.mean(dim=(1, 2, 3, 4))
        rule = SimpleNamespace(name="mean", kind="goal", exact=m.detach(), smooth=m, passed=m.detach() < 0)
        self.rules, self.sample_loss, self.loss, self.passed = [rule], m, m.mean(), rule.passed


def wan_estimate() -> None:
    """Paper estimate: Wan2.1-I2V-14B-480P, 480x832, 33 frames, K=2 steps with gradients, bf16."""
    layers, dim, ffn, params = 40, 5120, 13824, 14.0e9
    lat_frames, lat_h, lat_w = (33 - 1) // 4 + 1, 480 // 8, 832 // 8
    tokens = lat_frames * (lat_h // 2) * (lat_w // 2)
    bytes_bf16 = 2
    weights = params * bytes_bf16
    hidden = tokens * dim * bytes_bf16  # one layer's input, kept per layer with checkpointing
    checkpointed = 2 * layers * hidden  # K = 2 steps
    # without checkpointing, a block keeps ~ q, k, v, attn out, 2 norms, ffn in + out (ffn wide) + cross-attn
    per_layer_full = tokens * (10 * dim + 2 * ffn) * bytes_bf16
    full = 2 * layers * per_layer_full
    recompute_peak = per_layer_full
    lora = 40 * 4 * 2 * 8 * dim * 4 * 4  # rank 8 on q,k,v,o of self-attn: A and B in fp32, grad, 2 AdamW moments
    gib = 1024**3
    print(f"# Wan2.1 I2V 14B at 480x832, 33 frames: {tokens} tokens; estimate, not measured")
    print(f"  transformer weights bf16 {weights / gib:.1f} GiB; LoRA r=8 + AdamW {lora / gib * 1024:.0f} MiB")
    print(f"  activations, K=2, gradient checkpointing: {checkpointed / gib:.1f} GiB "
          f"+ one block recomputed {recompute_peak / gib:.1f} GiB -> total ~{(weights + checkpointed + recompute_peak) / gib:.0f} GiB "
          f"(text/image encoders offloaded after encoding)")
    print(f"  activations, K=2, no checkpointing: ~{full / gib:.0f} GiB -> total ~{(weights + full) / gib:.0f} GiB")


def main() -> None:
    import sys

    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--skip-embedded", action="store_true")
    args = ap.parse_args()
    if not args.skip_embedded:
        embedded(args.instances, args.steps)
    wan_tiny()
    wan_estimate()


if __name__ == "__main__":
    main()
