"""Base sample and Best-of-N at a matched number of model evaluations."""

from __future__ import annotations

import pytest
import torch
from test_tto_support import RedRightReward, base_setup

from rulec.runtime.optimize.baselines import base_sample, best_of_n, best_of_ns
from rulec.runtime.optimize.budget import Costs
from rulec.runtime.optimize.config import RunConfig
from rulec.runtime.optimize.tto import optimize


@pytest.fixture(scope="module")
def setup():
    reasoner, task, red = base_setup(8, 4)
    return reasoner, task, RedRightReward(red + 0.5)


def test_base_sample_is_the_frozen_models_sample(setup):
    reasoner, task, reward = setup
    result = base_sample(reasoner, task, reward, RunConfig(seed=3, sample_steps=4))
    with torch.no_grad():
        expected = reasoner.sample(task, seed=3, num_steps=4)[0]
    assert torch.equal(result.video, expected)
    assert result.evaluations == 4 and result.final["seed"] == 3


def test_best_of_n_keeps_the_lowest_loss_sample(setup):
    """Among samples passing as many rules (here: all fail the goal), the lowest loss is best."""
    reasoner, task, reward = setup
    result = best_of_n(reasoner, task, reward, 5, RunConfig(seed=10, sample_steps=4))
    assert len({c["rules_passed"] for c in result.candidates}) == 1
    losses = [c["loss"] for c in result.candidates]
    assert [c["seed"] for c in result.candidates] == list(range(10, 15))
    assert result.final["loss"] == min(losses) and len(set(losses)) == 5
    best_seed = result.candidates[losses.index(min(losses))]["seed"]
    with torch.no_grad():
        assert torch.equal(result.video, reasoner.sample(task, seed=best_seed, num_steps=4)[0])


def test_best_of_n_budget_matches_a_tto_run(setup):
    reasoner, task, reward = setup
    tto = optimize(reasoner, task, reward, RunConfig(max_steps=3, sample_steps=4, grad_steps=2))
    n = Costs.of(reasoner, RunConfig(sample_steps=4)).matched_n(tto.evaluations)
    bon = best_of_n(reasoner, task, reward, n, RunConfig(sample_steps=4))
    assert bon.evaluations <= tto.evaluations < bon.evaluations + reasoner.evaluations(4)


def test_best_of_several_ns_in_one_pass_equals_separate_runs(setup):
    reasoner, task, reward = setup
    together = best_of_ns(reasoner, task, reward, [2, 5, 3], RunConfig(seed=10, sample_steps=4))
    assert sorted(together) == [2, 3, 5]
    for n, got in together.items():
        alone = best_of_n(reasoner, task, reward, n, RunConfig(seed=10, sample_steps=4))
        assert got.final == alone.final and got.evaluations == alone.evaluations == 4 * n
        assert got.candidates == alone.candidates and torch.equal(got.video, alone.video)


def test_best_of_n_rejects_zero():
    with pytest.raises(ValueError, match="n >= 1"):
        best_of_n(None, None, None, 0)
