"""Baselines that test-time optimization must beat: the base sample, and Best-of-N.

Best-of-N draws N noise seeds from the frozen model and keeps the sample the compiled
reward likes best (lowest smooth loss; ties broken by more rules passed). N is chosen so
its model evaluations match a TTO run's budget, which is the fair comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from rulec.runtime.optimize.reasoner import Reasoner, TaskInput
from rulec.runtime.optimize.tto import summarize


@dataclass
class SampleResult:
    """A chosen sample and how it was chosen."""

    method: str  # "base" | "best-of-n"
    video: torch.Tensor  # (T, 3, H, W) in [0, 1]
    final: dict[str, Any]  # loss, passed, rules_passed, rules, seed
    evaluations: int
    candidates: list[dict[str, Any]] = field(default_factory=list)  # best-of-n: one summary per seed

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "evaluations": self.evaluations,
            "final": self.final,
            "candidates": self.candidates,
        }


def base_sample(
    reasoner: Reasoner, task: TaskInput, reward: Callable[..., Any], *, seed: int = 0, sample_steps: int = 8, beta: float = 40.0
) -> SampleResult:
    """The frozen model's sample for ``seed``, scored by the rules."""
    with torch.no_grad():
        video = reasoner.sample(task, seed=seed, num_steps=sample_steps, grad_steps=0, final=True)
        report = reward(video, beta=beta)
    final = summarize(report)
    final["seed"] = seed
    return SampleResult("base", video[0], final, reasoner.evaluations(sample_steps))


def matched_n(reasoner: Reasoner, evaluations: int, sample_steps: int = 8) -> int:
    """The largest N whose Best-of-N costs no more than ``evaluations`` (at least 1)."""
    return max(1, evaluations // reasoner.evaluations(sample_steps))


def best_of_n(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    n: int,
    *,
    seed: int = 0,
    sample_steps: int = 8,
    beta: float = 40.0,
    on_sample: Callable[[int, dict[str, Any]], None] | None = None,
) -> SampleResult:
    """Sample seeds ``seed .. seed+n-1``; keep the lowest-loss sample (ties: more rules passed).

    Samples are drawn one at a time so memory does not grow with N; only the best video is kept.
    """
    return best_of_ns(reasoner, task, reward, [n], seed=seed, sample_steps=sample_steps, beta=beta, on_sample=on_sample)[n]


def best_of_ns(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    ns: Sequence[int],
    *,
    seed: int = 0,
    sample_steps: int = 8,
    beta: float = 40.0,
    on_sample: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[int, SampleResult]:
    """Best-of-N for several N at the cost of the largest: Best-of-n is Best-of-N's choice
    among its first n seeds, so one pass gives every N's answer."""
    ns = sorted(set(int(n) for n in ns))
    if not ns or ns[0] < 1:
        raise ValueError(f"Best-of-N needs n >= 1, got {ns}")
    results: dict[int, SampleResult] = {}
    best_video, best_key, best_summary = None, None, None
    candidates = []
    for i in range(ns[-1]):
        s = seed + i
        with torch.no_grad():
            video = reasoner.sample(task, seed=s, num_steps=sample_steps, grad_steps=0, final=True)
            report = reward(video, beta=beta)
        summary = summarize(report)
        summary["seed"] = s
        candidates.append({"seed": s, "loss": summary["loss"], "rules_passed": summary["rules_passed"], "passed": summary["passed"]})
        key = (summary["loss"], -summary["rules_passed"])
        if best_key is None or key < best_key:
            best_key, best_video, best_summary = key, video[0], summary
        if on_sample:
            on_sample(i, summary)
        if i + 1 in ns:
            results[i + 1] = SampleResult("best-of-n", best_video, best_summary, (i + 1) * reasoner.evaluations(sample_steps), list(candidates))
    return results
