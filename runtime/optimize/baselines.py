"""Baselines that test-time optimization must beat: the base sample, and Best-of-N.

Best-of-N draws N noise seeds from the frozen model and keeps the sample that ranks best
(:func:`~rulec.runtime.optimize.judge.rank`: most rules passed, then lowest loss). N is
chosen so its model evaluations match a TTO run's budget
(:meth:`~rulec.runtime.optimize.budget.Costs.matched_n`), which is the fair comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from rulec.runtime.optimize.budget import Costs
from rulec.runtime.optimize.config import RunConfig
from rulec.runtime.optimize.judge import UNRANKED, final_sample, rank_of, summarize
from rulec.runtime.optimize.reasoner import Reasoner, TaskInput


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


def _judged(reasoner: Reasoner, task: TaskInput, reward, config: RunConfig, seed: int):
    """A frozen-model sample at ``seed`` and its summary (which names the seed)."""
    video, report = final_sample(reasoner, task, reward, config, seed)
    return video[0], summarize(report) | {"seed": seed}


def base_sample(reasoner: Reasoner, task: TaskInput, reward: Callable[..., Any], config: RunConfig = RunConfig()) -> SampleResult:
    """The frozen model's sample for ``config.seed``, scored by the rules."""
    video, final = _judged(reasoner, task, reward, config, config.seed)
    return SampleResult("base", video, final, Costs.of(reasoner, config).sample)


def best_of_n(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    n: int,
    config: RunConfig = RunConfig(),
    *,
    on_sample: Callable[[int, dict[str, Any]], None] | None = None,
) -> SampleResult:
    """Sample seeds ``config.seed .. config.seed+n-1``; keep the one that ranks best.

    Samples are drawn one at a time so memory does not grow with N; only the best video is kept.
    """
    return best_of_ns(reasoner, task, reward, [n], config, on_sample=on_sample)[n]


def best_of_ns(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    ns: Sequence[int],
    config: RunConfig = RunConfig(),
    *,
    on_sample: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[int, SampleResult]:
    """Best-of-N for several N at the cost of the largest: Best-of-n is Best-of-N's choice
    among its first n seeds, so one pass gives every N's answer."""
    ns = sorted(set(int(n) for n in ns))
    if not ns or ns[0] < 1:
        raise ValueError(f"Best-of-N needs n >= 1, got {ns}")
    costs = Costs.of(reasoner, config)
    results: dict[int, SampleResult] = {}
    best_video, best_rank, best_summary = None, UNRANKED, None
    candidates = []
    for i in range(ns[-1]):
        video, summary = _judged(reasoner, task, reward, config, config.seed + i)
        candidates.append({k: summary[k] for k in ("seed", "loss", "rules_passed", "passed")})
        if rank_of(summary) > best_rank:
            best_rank, best_video, best_summary = rank_of(summary), video, summary
        if on_sample:
            on_sample(i, summary)
        if i + 1 in ns:
            results[i + 1] = SampleResult("best-of-n", best_video, best_summary, costs.best_of_n(i + 1), list(candidates))
    return results
