"""Baselines that test-time optimization must beat: the base sample, and Best-of-N.

Best-of-N draws N noise seeds from the frozen model and keeps the sample the compiled
reward likes best (lowest smooth loss; ties broken by more rules passed). N is chosen so
its model evaluations match a TTO run's budget, which is the fair comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from rulec.runtime.reasoner import Reasoner, TaskInput
from rulec.runtime.tto import summarize


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
    if n < 1:
        raise ValueError(f"Best-of-N needs n >= 1, got {n}")
    best_video, best_key, best_summary = None, None, None
    candidates = []
    for i in range(n):
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
    return SampleResult("best-of-n", best_video, best_summary, n * reasoner.evaluations(sample_steps), candidates)
