"""The decisions every run shares, made once: its configuration, what it costs, which sample is best."""

from __future__ import annotations

import math

import pytest
import torch
from test_tto_support import FakeReport, FakeRule, RedRightReward, base_setup

from rulec.runtime.bench.run import BenchSettings
from rulec.runtime.optimize.baselines import best_of_n
from rulec.runtime.optimize.budget import Costs
from rulec.runtime.optimize.config import RunConfig
from rulec.runtime.optimize.judge import UNRANKED, rank
from rulec.runtime.optimize.lora import LoRASpec
from rulec.runtime.optimize.solve import solve
from rulec.runtime.optimize.tto import optimize, optimize_budgets


@pytest.fixture(scope="module")
def setup():
    return base_setup(4, 2)


# ------------------------------------------------------------------ configuration
def test_options_left_out_are_the_defaults_and_few_sample_steps_clip_k():
    assert RunConfig.from_options(seed=None, lr=None) == RunConfig()
    assert RunConfig.from_options(sample_steps=1) == RunConfig(sample_steps=1, grad_steps=1)
    assert RunConfig.from_options(sample_steps=1, grad_steps=0).grad_steps == 0
    with pytest.raises(ValueError, match="grad_steps"):
        RunConfig.from_options(sample_steps=1, grad_steps=2)
    with pytest.raises(ValueError, match="rank"):
        RunConfig(rank=0)
    with pytest.raises(TypeError, match="unknown run options: alpah"):
        RunConfig.from_options(alpah=3)


def test_the_benchmark_runs_with_the_same_defaults():
    settings = BenchSettings()
    config = settings.run_config(seed=7)
    assert config == RunConfig(seed=7)
    assert BenchSettings.from_options(sample_steps=1, lr=None).run_config(0) == RunConfig.from_options(sample_steps=1)
    with pytest.raises(ValueError, match="caption"):
        BenchSettings(caption="plan")


def test_lora_alpha_is_the_rank_unless_given():
    assert RunConfig(rank=8).lora_spec(("to_q",)) == LoRASpec(rank=8, alpha=8.0, target_modules=("to_q",))
    assert LoRASpec(rank=4, alpha=2.0).alpha == 2.0
    assert RunConfig(target_modules=("to_v",)).lora_spec(("to_q",)).target_modules == ("to_v",)


# ------------------------------------------------------------------ costs
def test_costs_of_each_part_of_a_run(setup):
    reasoner = setup[0]
    costs = Costs.of(reasoner, RunConfig(sample_steps=4, grad_steps=2))
    assert (costs.sample, costs.step, costs.final_decode) == (4, 8, 4)
    assert costs.screening(3) == costs.best_of_n(3) == 12
    assert costs.screened_seeds(5, None) == 5 and costs.screened_seeds(5, 13) == 3
    assert costs.matched_n(13) == 3 and costs.matched_n(1) == 1
    assert costs.before_final_decode(20) == 16 and costs.before_final_decode(2) == 1
    assert costs.tto_run(RunConfig(sample_steps=4, grad_steps=2, max_steps=3, screen=2)) == 2 * 4 + 3 * 8 + 4 + 4


def test_a_full_tto_run_costs_what_the_budget_says(setup):
    reasoner, task, base_red = setup
    config = RunConfig(sample_steps=2, grad_steps=1, max_steps=3, screen=2, patience=100)
    result = optimize(reasoner, task, RedRightReward(base_red + 0.5), config)  # never passes, never plateaus
    assert result.stopped_because == "budget"
    assert result.evaluations == Costs.of(reasoner, config).tto_run(config)


def test_a_budget_that_pays_for_the_final_decode_is_kept(setup):
    reasoner, task, base_red = setup
    config = RunConfig(sample_steps=2, grad_steps=1, max_steps=10, screen=1, patience=100)
    costs = Costs.of(reasoner, config)
    budgets = (9, 14)
    results = optimize_budgets(reasoner, task, RedRightReward(base_red + 0.5), config,
                               [costs.before_final_decode(b) for b in budgets])
    for budget in budgets:
        assert results[costs.before_final_decode(budget)].evaluations <= budget


def test_best_of_n_in_rulec_run_is_matched_to_a_whole_tto_run_screening_included(setup):
    reasoner, task, base_red = setup
    config = RunConfig(sample_steps=1, grad_steps=1, max_steps=1, screen=1)
    solution = solve(reasoner, task, RedRightReward(base_red + 0.5), "best-of-n", config)
    assert solution.result["n"] == 6  # 1 screened sample (1) + 1 step (3) + its scoring sample (1) + the final decode (1)
    assert solution.result["evaluations"] == 6


# ------------------------------------------------------------------ ranking
def test_rank_orders_by_rules_passed_then_lower_loss():
    assert rank(2, 5.0) > rank(1, 0.0) > rank(1, 0.5) > rank(0, -3.0) > UNRANKED
    assert rank(1, math.nan) < rank(1, 1e9) and rank(0, math.nan) > UNRANKED


class ScriptedReward(torch.nn.Module):
    """Two rules; the i-th call's sample passes ``script[i][0]`` of them with loss ``script[i][1]``."""

    def __init__(self, script):
        super().__init__()
        self.script, self.calls = list(script), 0

    def forward(self, video, start=None, beta=None):
        passes, loss = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        b = video.shape[0]
        loss_t = (video.mean() * 0 + loss).expand(b)  # depends on the video: gradients flow
        rules = []
        for i in range(2):
            ok = torch.full((b,), i < passes)
            value = torch.where(ok, 1.0, -1.0)
            rules.append(FakeRule(f"r{i}", "goal", 1.0, value, value, ok, value.view(b, 1)))
        return FakeReport(rules, loss_t, loss_t.mean(), torch.full((b,), passes == 2))


SCRIPT = [(0, 0.1), (1, 0.9), (1, 0.5), (0, 0.05)]  # lowest loss: seed 3; most rules, then lowest loss: seed 2


def test_best_of_n_keeps_the_sample_with_most_rules_passed(setup):
    reasoner, task, _ = setup
    result = best_of_n(reasoner, task, ScriptedReward(SCRIPT), 4, RunConfig(sample_steps=1, grad_steps=1))
    assert result.final["seed"] == 2 and result.final["rules_passed"] == 1
    assert [c["rules_passed"] for c in result.candidates] == [0, 1, 1, 0]


def test_screening_starts_from_the_seed_with_most_rules_passed(setup):
    reasoner, task, _ = setup
    reward = ScriptedReward(SCRIPT + [(0, 1.0)])
    result = optimize(reasoner, task, reward, RunConfig(sample_steps=1, grad_steps=1, max_steps=0, screen=4))
    assert [c["seed"] for c in result.to_json()["screened"]] == [0, 1, 2, 3]
    assert result.history[0].seed == 2


def test_the_answer_is_the_step_with_most_rules_passed(setup):
    reasoner, task, _ = setup
    # step 0 passes one rule at loss 0.9, steps 1-2 none at lower losses: the answer is step 0's adapter
    reward = ScriptedReward([(1, 0.9), (0, 0.2), (0, 0.1), (0, 0.1)])
    result = optimize(reasoner, task, reward, RunConfig(sample_steps=1, grad_steps=1, max_steps=2, screen=0, patience=100))
    assert [r.rules_passed for r in result.history] == [1, 0, 0]
    assert result.best_step == 0
