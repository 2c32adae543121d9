"""Test-time optimization: the loss falls, the verdict flips, the base model is untouched."""

from __future__ import annotations

import math

import pytest
import torch
from test_tto_support import PixelWanReasoner, RedRightReward, base_setup, redness

from rulec.runtime.optimize.lora import base_weights_digest
from rulec.runtime.optimize.config import RunConfig
from rulec.runtime.optimize.judge import rank
from rulec.runtime.optimize.tto import optimize, optimize_budgets
from rulec.verdict import rule_map

CFG = dict(sample_steps=4, grad_steps=2, noise="fixed", screen=0)  # the plain loop; screening is tested on its own


@pytest.fixture(scope="module")
def setup():
    return base_setup(8, 4)


def test_loss_falls_and_verdict_flips_where_base_fails(setup):
    reasoner, task, base_red = setup
    reward = RedRightReward(threshold=base_red + 0.03)
    with torch.no_grad():
        assert not bool(reward(reasoner.sample(task, seed=0, num_steps=4)).passed[0])  # base fails
    result = optimize(reasoner, task, reward, RunConfig(max_steps=20, lr=1e-2, **CFG))
    losses = [r.loss for r in result.history]
    assert losses[-1] < losses[0]
    assert result.stopped_because == "passed"
    assert result.final["passed"] and rule_map(result.final)["red_right"]["passed"]
    assert float(redness(result.video[None])[0, -1]) > base_red + 0.03
    assert 0 < result.steps < 20


def test_base_weights_bitwise_unchanged_and_adapter_removed(setup):
    reasoner, task, base_red = setup
    before = base_weights_digest(reasoner.transformer)
    keys_before = {k.replace(".base_layer", "") for k in reasoner.transformer.state_dict()}
    result = optimize(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(max_steps=3, lr=1e-2, **CFG))
    assert result.steps == 3 and any(v.abs().sum() > 0 for k, v in result.lora_state.items() if "lora_B" in k)
    assert base_weights_digest(reasoner.transformer) == before
    assert not any("lora" in k for k in reasoner.transformer.state_dict())
    assert {k.replace(".base_layer", "") for k in reasoner.transformer.state_dict()} == keys_before


def test_each_instance_starts_from_a_fresh_adapter(setup):
    reasoner, task, base_red = setup
    cfg = RunConfig(max_steps=2, lr=1e-2, **CFG)
    first = optimize(reasoner, task, RedRightReward(base_red + 0.5), cfg)
    second = optimize(reasoner, task, RedRightReward(base_red + 0.5), cfg)
    assert [r.loss for r in first.history] == [r.loss for r in second.history]


def test_already_passing_stops_before_any_update(setup):
    reasoner, task, base_red = setup
    result = optimize(reasoner, task, RedRightReward(base_red - 0.05), RunConfig(max_steps=5, **CFG))
    assert result.stopped_because == "passed" and result.steps == 0 and len(result.history) == 1
    # one sample with gradients, one full-decode confirmation
    assert result.evaluations == reasoner.evaluations(4, 2) + reasoner.evaluations(4, 0)


def test_evaluations_are_counted_and_budget_respected(setup):
    reasoner, task, base_red = setup
    result = optimize(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(max_steps=3, **CFG))
    # 3 steps with gradients, 1 last scoring sample, 1 final decode
    assert result.stopped_because == "budget"
    assert result.evaluations == 3 * reasoner.evaluations(4, 2) + 2 * reasoner.evaluations(4, 0)
    capped = optimize(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(max_steps=10, max_evaluations=30, **CFG))
    assert capped.stopped_because == "evaluations"
    assert capped.evaluations - reasoner.evaluations(4, 0) <= 30


class NaNOnce(RedRightReward):
    """Makes the loss NaN on its second call: that step's update must be skipped."""

    def forward(self, video, start=None, beta=None):
        report = super().forward(video, start, beta)
        if self.calls == 2:
            report.loss = report.loss * float("nan")
        return report


def test_non_finite_gradient_skips_the_step_and_restores_the_adapter(setup):
    reasoner, task, base_red = setup
    result = optimize(reasoner, task, NaNOnce(base_red + 0.5), RunConfig(max_steps=3, lr=1e-2, **CFG))
    skipped = [r.step for r in result.history if r.skipped]
    assert skipped == [1] and result.steps == 2
    assert all(torch.isfinite(v).all() for v in result.lora_state.values())
    assert all(math.isfinite(r.loss) for r in result.history)


def test_gradient_checkpointing_gives_the_same_optimization(setup):
    reasoner, task, base_red = setup
    cfg = dict(max_steps=2, lr=1e-2, **CFG)
    plain = optimize(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(**cfg))
    ckpt = optimize(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(gradient_checkpointing=True, **cfg))
    assert [r.loss for r in ckpt.history] == pytest.approx([r.loss for r in plain.history], abs=1e-5)
    assert not reasoner.transformer.gradient_checkpointing


def test_beta_anneals_upward():
    cfg = RunConfig(max_steps=5, beta_start=2.0, beta_end=32.0)
    betas = [cfg.beta_at(i) for i in range(5)]
    assert betas[0] == pytest.approx(2.0) and betas[-1] == pytest.approx(32.0)
    assert all(a < b for a, b in zip(betas, betas[1:]))


def test_bad_config_is_rejected():
    with pytest.raises(ValueError, match="grad_steps"):
        RunConfig(sample_steps=2, grad_steps=3)
    with pytest.raises(ValueError, match="noise"):
        RunConfig(noise="sometimes")
    with pytest.raises(ValueError, match="screen"):
        RunConfig(screen=-1)


def test_real_compiled_rules_drive_the_loss_down():
    """The contract's RewardModule (compiled from a suite task's rules) as the reward."""
    from rulec import compile_rules
    from rulec.runtime.optimize.reasoner import TaskInput
    from rulec.runtime.tasks import make_instance

    inst = make_instance("navigate", 0)
    reward = compile_rules(inst.rules_text, num_frames=8).to_reward()
    task = TaskInput.from_image(inst.first_frame, "", 8)
    result = optimize(PixelWanReasoner(), task, reward, RunConfig(max_steps=4, lr=1e-2, patience=10, **CFG))
    losses = [r.loss for r in result.history]
    assert not result.history[0].passed
    assert losses[-1] < losses[0]
    assert [r["name"] for r in result.final["rules"]] == [r.name for r in reward(result.video[None]).rules]


def test_screening_optimizes_from_the_seed_the_rules_like_best(setup):
    reasoner, task, base_red = setup
    reward = RedRightReward(base_red + 0.5)
    screened = optimize(reasoner, task, reward, RunConfig(max_steps=1, **{**CFG, "screen": 4}))
    cands = screened.to_json()["screened"]
    assert [c["seed"] for c in cands] == [0, 1, 2, 3]
    best = max(cands, key=lambda c: rank(c["rules_passed"], c["loss"]))
    assert screened.history[0].seed == best["seed"]
    # step 0 samples the chosen seed with a zero adapter: the same loss as its screening
    assert screened.history[0].loss == pytest.approx(best["loss"], abs=1e-5)
    # 4 screened samples, 1 step with gradients, 1 last scoring sample, 1 final decode
    assert screened.evaluations == 6 * reasoner.evaluations(4, 0) + reasoner.evaluations(4, 2)


def test_screening_stops_at_a_seed_that_already_passes(setup):
    reasoner, task, base_red = setup
    result = optimize(reasoner, task, RedRightReward(base_red - 0.05), RunConfig(max_steps=5, **{**CFG, "screen": 3}))
    assert result.stopped_because == "passed" and result.steps == 0 and result.history == []
    assert len(result.to_json()["screened"]) == 1 and result.final["passed"]
    assert result.evaluations == reasoner.evaluations(4, 0)


def test_screening_stays_within_the_evaluation_budget(setup):
    reasoner, task, base_red = setup
    cost = reasoner.evaluations(4, 0)
    result = optimize(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(max_steps=5, max_evaluations=3 * cost, **{**CFG, "screen": 10}))
    assert len(result.to_json()["screened"]) == 3 and result.steps == 0
    assert result.stopped_because == "evaluations"


@pytest.mark.parametrize("screen", [0, 2])
def test_one_run_at_several_budgets_equals_separate_runs(setup, screen):
    reasoner, task, base_red = setup
    cfg = dict(CFG, max_steps=10, lr=1e-2, screen=screen)
    budgets = (20, 36, 60)
    together = optimize_budgets(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(**cfg), budgets)
    assert sorted(together) == list(budgets)
    assert len({r.evaluations for r in together.values()}) == 3  # the budgets really cut the run apart
    for budget in budgets:
        alone = optimize(reasoner, task, RedRightReward(base_red + 0.5), RunConfig(max_evaluations=budget, **cfg))
        got = together[budget]
        assert (got.evaluations, got.steps, got.stopped_because, got.best_step) == (
            alone.evaluations, alone.steps, alone.stopped_because, alone.best_step)
        assert got.config == alone.config  # each result says the budget it answers for
        assert [r.loss for r in got.history] == pytest.approx([r.loss for r in alone.history], abs=1e-6)
        assert got.final["loss"] == pytest.approx(alone.final["loss"], abs=1e-6)
        assert torch.allclose(got.video, alone.video, atol=1e-5)


def test_budgets_that_screen_different_seed_counts_are_refused(setup):
    reasoner, task, base_red = setup
    cost = reasoner.evaluations(4, 0)
    with pytest.raises(ValueError, match="screen different numbers"):
        optimize_budgets(reasoner, task, RedRightReward(base_red), RunConfig(**{**CFG, "screen": 4}), (2 * cost, 10 * cost))
