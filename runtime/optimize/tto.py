"""Test-time optimization: a fresh LoRA per task instance, trained until the rules hold.

For one instance: attach a new adapter to the frozen video model, sample a video with
gradients through the last K denoising steps, score it with the compiled rules' smooth
loss, and update only the adapter with AdamW. Early stopping is decided by the rules'
exact verdicts (all pass) or by the loss no longer improving; a step budget (optimization
steps and/or model evaluations) bounds the cost. Every model evaluation is counted
(:mod:`rulec.runtime.optimize.budget`) so that baselines can be compared at the same compute.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Sequence

import torch

from rulec.runtime.optimize.budget import Costs
from rulec.runtime.optimize.config import RunConfig
from rulec.runtime.optimize.lora import (
    LoRASpec,
    attach_lora,
    detach_lora,
    load_lora_state,
    lora_parameters,
    lora_state_dict,
)
from rulec.runtime.optimize.judge import UNRANKED, final_sample, rank, rank_of, summarize
from rulec.runtime.optimize.reasoner import Reasoner, TaskInput


@dataclass
class StepRecord:
    """What one optimization step saw (the sample before that step's update)."""

    step: int
    seed: int
    beta: float
    loss: float
    rules: list[dict[str, Any]]  # the verdict's rule entries (rulec.verdict)
    rules_passed: int
    passed: bool
    evaluations: int  # cumulative, after this step
    skipped: bool = False  # a non-finite gradient: update skipped, adapter restored


@dataclass
class TTOResult:
    """The outcome of :func:`optimize`."""

    video: torch.Tensor  # (T, 3, H, W) final video (full decode) in [0, 1]
    final: dict[str, Any]  # final verdicts: loss, passed, per-rule exact/smooth/passed
    history: list[StepRecord]
    evaluations: int
    steps: int  # optimization updates taken
    stopped_because: str  # "passed" | "plateau" | "budget" | "evaluations"
    lora_state: dict[str, torch.Tensor]
    lora_spec: LoRASpec
    config: RunConfig
    best_step: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        cfg = asdict(self.config)
        cfg["target_modules"] = list(self.lora_spec.target_modules)
        cfg["alpha"] = self.lora_spec.alpha
        return {
            "method": "tto",
            "config": cfg,
            "evaluations": self.evaluations,
            "steps": self.steps,
            "stopped_because": self.stopped_because,
            "best_step": self.best_step,
            "final": self.final,
            "history": [asdict(r) for r in self.history],
            **self.extra,
        }


def optimize(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    config: RunConfig = RunConfig(),
    *,
    on_step: Callable[[StepRecord], None] | None = None,
) -> TTOResult:
    """Optimize a fresh LoRA on ``reasoner`` so that ``reward``'s rules hold for ``task``.

    The adapter is removed again before returning (its weights are in the result), so the
    reasoner is left exactly as it was. The returned video is the full-decode sample of the
    best step's adapter (:func:`~rulec.runtime.optimize.judge.rank`) at that step's noise seed.
    """
    return _optimize(reasoner, task, reward, config, on_step, limits=())[config.max_evaluations]


def optimize_budgets(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    config: RunConfig,
    budgets: Sequence[int],
    *,
    on_step: Callable[[StepRecord], None] | None = None,
) -> dict[int, TTOResult]:
    """:func:`optimize` at several evaluation budgets (``max_evaluations``) in one run.

    A run with a smaller budget is a prefix of a run with a larger one (same seeds, same
    updates, stopped earlier), so one run at the largest budget, with the best adapter
    snapshotted where each smaller budget would have stopped, gives every budget's result,
    identical to running them one by one. ``config.max_evaluations`` is ignored.
    """
    budgets = sorted(set(int(b) for b in budgets))
    if not budgets or budgets[0] < 1:
        raise ValueError(f"budgets must be positive evaluation counts, got {budgets}")
    costs = Costs.of(reasoner, config)
    if len({costs.screened_seeds(config.screen, b) for b in budgets}) > 1:
        raise ValueError(f"with screen={config.screen}, budgets {budgets} screen different numbers of seeds; run them apart")
    top = replace(config, max_evaluations=budgets[-1])
    return _optimize(reasoner, task, reward, top, on_step, limits=budgets[:-1])


def _optimize(reasoner, task, reward, config: RunConfig, on_step, limits) -> dict[int | None, TTOResult]:
    spec = config.lora_spec(reasoner.default_lora_targets)
    transformer = reasoner.transformer
    name = attach_lora(transformer, spec)
    checkpointing = config.gradient_checkpointing and not getattr(transformer, "gradient_checkpointing", False)
    if checkpointing:
        transformer.enable_gradient_checkpointing()
    try:
        return _Run(reasoner, task, reward, config, spec, name, on_step).results(limits)
    finally:
        if checkpointing:
            transformer.disable_gradient_checkpointing()
        detach_lora(transformer, name)


@dataclass
class _Best:
    """The best step so far: its adapter, noise seed, step and rank (the answer if the run stopped now)."""

    state: dict[str, torch.Tensor]
    seed: int
    step: int = 0
    rank: tuple[int, float] = UNRANKED


@dataclass
class _Progress:
    """How far a run got: what :meth:`_Run.finish` turns into a result. A smaller budget's
    progress is a copy taken where that budget would have stopped."""

    best: _Best
    history: list[StepRecord] = field(default_factory=list)
    evaluations: int = 0
    updates: int = 0
    stopped_because: str = "budget"
    confirmed: tuple | None = None  # (video, report, seed) of a sample whose saved video passes

    def stopped_here(self, because: str) -> _Progress:
        return replace(self, best=replace(self.best), history=list(self.history), stopped_because=because)


class _Run:
    """One optimization of an attached adapter: the loop's state and the steps that change it."""

    def __init__(self, reasoner: Reasoner, task: TaskInput, reward, config: RunConfig, spec: LoRASpec, name: str, on_step):
        self.reasoner, self.task, self.reward, self.config = reasoner, task, reward, config
        self.spec, self.name, self.on_step = spec, name, on_step
        self.costs = Costs.of(reasoner, config)
        self.params = lora_parameters(reasoner.transformer, name)
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=config.weight_decay)
        self.progress = _Progress(_Best(self._adapter(), config.seed))
        self.screened: list[dict[str, Any]] = []
        self.lowest_loss, self.since_improved = math.inf, 0  # the plateau test

    def _adapter(self) -> dict[str, torch.Tensor]:
        return lora_state_dict(self.reasoner.transformer, self.name)

    def _sample(self, seed: int):
        return final_sample(self.reasoner, self.task, self.reward, self.config, seed)

    def record(self, record: StepRecord) -> None:
        """A finished step: into the history, and to the caller's progress callback."""
        self.progress.history.append(record)
        if self.on_step:
            self.on_step(record)

    def results(self, limits: Sequence[int]) -> dict[int | None, TTOResult]:
        """Run to the end; the result at ``config.max_evaluations`` and at every smaller limit."""
        config, progress = self.config, self.progress
        start_seed = self.screen() if config.screen > 0 else config.seed
        snapshots: dict[int, _Progress] = {}
        for step in range(config.max_steps + 1 if progress.confirmed is None else 0):  # +1: the last sample scores the last update
            for limit in limits:
                if limit not in snapshots and progress.evaluations + self.costs.step > limit:
                    snapshots[limit] = progress.stopped_here("evaluations")
            if config.max_evaluations is not None and progress.evaluations + self.costs.step > config.max_evaluations:
                progress.stopped_because = "evaluations"
                break
            if not self.step(step, start_seed if config.noise == "fixed" else start_seed + step):
                break
        top = self.finish(progress, config)
        results = {config.max_evaluations: top}
        for limit in limits:  # budgets the run outlived: their answer, decoded from their snapshot
            own = replace(config, max_evaluations=limit)
            # a budget the run never reached (it passed or plateaued first) has the same answer
            results[limit] = self.finish(snapshots[limit], own) if limit in snapshots else replace(top, config=own)
        return results

    def screen(self) -> int:
        """Sample up to ``config.screen`` seeds (as many as the budget allows) with the adapter
        still zero, i.e. the frozen model's output; returns the seed that ranks best. A seed
        that already passes is the answer (``progress.confirmed``).

        Why: with fixed noise, TTO can only improve the sample its seed gives; starting from
        the best of a few seeds spends part of the budget the way Best-of-N does.
        """
        config, progress = self.config, self.progress
        best_rank, best_seed = UNRANKED, config.seed
        for i in range(self.costs.screened_seeds(config.screen, config.max_evaluations)):
            seed = config.seed + i
            video, report = self._sample(seed)
            progress.evaluations += self.costs.sample
            summary = summarize(report)
            self.screened.append({"seed": seed, **{k: summary[k] for k in ("loss", "rules_passed", "passed")}})
            if summary["passed"]:
                progress.confirmed, progress.stopped_because = (video, report, seed), "passed"
                best_seed = seed
                break
            if rank_of(summary) > best_rank:
                best_rank, best_seed = rank_of(summary), seed
        progress.best.seed = best_seed
        return best_seed

    def step(self, step: int, seed: int) -> bool:
        """Sample at ``seed``, judge it, confirm a pass or update the adapter; False: the run stops here."""
        config, progress = self.config, self.progress
        beta = config.beta_at(step)
        is_last = step == config.max_steps
        grad_steps = 0 if is_last else config.grad_steps
        with torch.set_grad_enabled(grad_steps > 0):
            video, saved = self.reasoner.sample_renders(self.task, seed=seed, num_steps=config.sample_steps, grad_steps=grad_steps)
            report = self.reward(video, beta=beta)
        progress.evaluations += self.costs.sample if is_last else self.costs.step
        verdict = report
        if saved is not None:  # the saved video of this very sample came free: its verdicts are the ones that count
            with torch.no_grad():
                verdict = self.reward(saved, beta=config.beta_end)
        summary = summarize(verdict)
        record = StepRecord(step=step, seed=seed, beta=beta, loss=float(report.sample_loss[0].detach()),
                            rules=summary["rules"], rules_passed=summary["rules_passed"], passed=summary["passed"],
                            evaluations=progress.evaluations)
        if rank(record.rules_passed, record.loss) > progress.best.rank:
            progress.best = _Best(self._adapter(), seed, step, rank(record.rules_passed, record.loss))
        if record.passed and self.confirm(record, saved, verdict):
            self.record(record)
            progress.stopped_because = "passed"
            return False
        if record.loss < self.lowest_loss - config.min_delta:
            self.lowest_loss, self.since_improved = record.loss, 0
        else:
            self.since_improved += 1
        if is_last or self.since_improved >= config.patience:
            self.record(record)
            if not is_last:
                progress.stopped_because = "plateau"
            return False
        self.update(report.loss, record)
        del video, report
        self.record(record)
        return True

    def confirm(self, record: StepRecord, saved: torch.Tensor | None, verdict) -> bool:
        """Whether a sample that passes really does: judged on its saved video, which came with
        it or is a full decode at its seed (a surrogate decoder may differ)."""
        progress = self.progress
        if saved is not None:
            video, report = saved.detach(), verdict
        else:
            video, report = self._sample(record.seed)
            progress.evaluations += self.costs.sample
            record.evaluations = progress.evaluations
        if not bool(report.passed[0]):
            record.passed = False  # passed on the surrogate only: keep optimizing
            return False
        progress.confirmed = (video, report, record.seed)
        progress.best = _Best(self._adapter(), record.seed, record.step, rank(record.rules_passed, record.loss))
        return True

    def update(self, loss: torch.Tensor, record: StepRecord) -> None:
        """One AdamW step on the adapter; a non-finite gradient or result is undone (``record.skipped``)."""
        self.optimizer.zero_grad(set_to_none=True)
        if not loss.requires_grad:
            return
        before = self._adapter()
        loss.backward()
        if _finite(p.grad for p in self.params if p.grad is not None) and math.isfinite(record.loss):
            torch.nn.utils.clip_grad_norm_(self.params, self.config.max_grad_norm)
            self.optimizer.step()
            record.skipped = not _finite(self.params)
        else:
            record.skipped = True
        if record.skipped:
            load_lora_state(self.reasoner.transformer, self.name, before)
        else:
            self.progress.updates += 1
        self.optimizer.zero_grad(set_to_none=True)

    def finish(self, progress: _Progress, config: RunConfig) -> TTOResult:
        """The answer: the confirmed passing sample, or the best step's adapter fully decoded."""
        evaluations = progress.evaluations
        if progress.confirmed is not None:
            video, report, seed = progress.confirmed
        else:
            load_lora_state(self.reasoner.transformer, self.name, progress.best.state)
            seed = progress.best.seed
            video, report = self._sample(seed)
            evaluations += self.costs.final_decode
        final = summarize(report)
        final["seed"] = seed
        return TTOResult(
            video=video[0].detach(),
            final=final,
            history=list(progress.history),
            evaluations=evaluations,
            steps=progress.updates,
            stopped_because=progress.stopped_because,
            lora_state=progress.best.state,
            lora_spec=self.spec,
            config=config,
            best_step=progress.best.step,
            extra={"screened": list(self.screened)} if self.screened else {},
        )


def _finite(tensors) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors)
