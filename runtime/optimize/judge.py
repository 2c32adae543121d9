"""How a sample is judged, and which of two samples is better: one way for every method.

Base, Best-of-N and test-time optimization (its screened seeds, its confirmations, its
final decode) judge a sample alike: sampled at saved quality, scored at the final
sharpness (:func:`final_sample`). They all keep the sample that ranks highest
(:func:`rank`): more rules passed by the exact verdict first (what a user is judged on),
then the lower smooth loss (how close the rest came). One order, so the methods the
benchmark compares choose alike.
"""

from __future__ import annotations

import math
from typing import Any


def final_sample(reasoner, task, reward, config, seed: int):
    """``(video, report)``: the saved-quality sample at ``seed``, without gradients, judged
    at ``config.beta_end``."""
    import torch

    with torch.no_grad():
        video = reasoner.sample(task, seed=seed, num_steps=config.sample_steps, grad_steps=0, final=True)
        return video, reward(video, beta=config.beta_end)


def summarize(report, index: int = 0) -> dict[str, Any]:
    """One sample of a RewardReport as a verdict (rulec.verdict: the schema of every output),
    with the sample's smooth ``loss`` beside the exact verdicts: the two things a sample is ranked by."""
    from rulec.verdict import verdict

    data = verdict(report, index)
    data.setdefault("loss", float(report.sample_loss[index].detach()))
    return data


def rank(rules_passed: int, loss: float) -> tuple[int, float]:
    """A sample's sort key, larger is better: rules passed, then lower loss (a NaN loss is the worst)."""
    return int(rules_passed), -math.inf if math.isnan(loss) else -float(loss)


def rank_of(summary: dict[str, Any]) -> tuple[int, float]:
    """:func:`rank` of a :func:`summarize` result."""
    return rank(summary["rules_passed"], summary["loss"])


#: lower than the rank of any sample: what "no sample yet" compares as
UNRANKED = (-1, -math.inf)
