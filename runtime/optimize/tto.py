"""Test-time optimization: a fresh LoRA per task instance, trained until the rules hold.

For one instance: attach a new adapter to the frozen video model, sample a video with
gradients through the last K denoising steps, score it with the compiled rules' smooth
loss, and update only the adapter with AdamW. Early stopping is decided by the rules'
exact verdicts (all pass) or by the loss no longer improving; a step budget (optimization
steps and/or model evaluations) bounds the cost. Every model evaluation is counted so that
baselines can be compared at the same compute.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Literal, Sequence

import torch

from rulec.runtime.optimize.lora import (
    LoRASpec,
    attach_lora,
    detach_lora,
    load_lora_state,
    lora_parameters,
    lora_state_dict,
)
from rulec.runtime.optimize.reasoner import Reasoner, TaskInput


@dataclass(frozen=True)
class TTOConfig:
    """Knobs of one optimization run (defaults measured: see docs/runtime.md)."""

    max_steps: int = 16  # optimization steps (each: one sample with gradients + one update)
    max_evaluations: int | None = None  # optional budget in model evaluations
    sample_steps: int = 8  # denoising steps per sample
    grad_steps: int = 2  # K: keep the graph through the last K denoising steps
    lr: float = 1e-2
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    rank: int = 4
    alpha: float = 4.0
    target_modules: tuple[str, ...] | None = None  # None: the reasoner's attention projections
    beta_start: float = 5.0  # smooth-semantics sharpness, annealed geometrically upward
    beta_end: float = 40.0
    noise: Literal["fixed", "fresh"] = "fixed"  # same initial noise every step, or a new one
    screen: int = 4  # draw this many seeds from the frozen model first; optimize from the best
    gradient_checkpointing: bool = False  # recompute block activations in backward (memory for time)
    patience: int = 5  # stop when the loss has not improved for this many steps
    min_delta: float = 1e-4  # what counts as an improvement
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_steps < 0:
            raise ValueError("max_steps must be >= 0")
        if not 0 <= self.grad_steps <= self.sample_steps:
            raise ValueError("grad_steps (K) must lie in [0, sample_steps]")
        if self.noise not in ("fixed", "fresh"):
            raise ValueError(f"noise must be 'fixed' or 'fresh', got {self.noise!r}")
        if self.screen < 0:
            raise ValueError("screen must be >= 0")
        if self.lr <= 0 or self.beta_start <= 0 or self.beta_end <= 0:
            raise ValueError("lr and beta must be positive")

    def lora_spec(self, reasoner: Reasoner) -> LoRASpec:
        targets = self.target_modules or tuple(reasoner.default_lora_targets)
        return LoRASpec(rank=self.rank, alpha=self.alpha, target_modules=targets, init_seed=self.seed)

    def beta_at(self, step: int) -> float:
        """Geometric annealing from beta_start (step 0) to beta_end (last step)."""
        if self.max_steps <= 1:
            return self.beta_end
        frac = min(step / (self.max_steps - 1), 1.0)
        return self.beta_start * (self.beta_end / self.beta_start) ** frac


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
    config: TTOConfig
    best_step: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        cfg = asdict(self.config)
        cfg["target_modules"] = list(self.lora_spec.target_modules)
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


def summarize(report, index: int = 0) -> dict[str, Any]:
    """One sample of a RewardReport as a verdict (rulec.verdict: the schema of every output)."""
    from rulec.verdict import verdict

    data = verdict(report, index)
    data.setdefault("loss", float(report.sample_loss[index].detach()))  # runs rank samples by it, exact-only too
    return data


def _finite_grads(params: list[torch.nn.Parameter]) -> bool:
    return all(p.grad is None or bool(torch.isfinite(p.grad).all()) for p in params)


def optimize(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    config: TTOConfig = TTOConfig(),
    *,
    on_step: Callable[[StepRecord], None] | None = None,
) -> TTOResult:
    """Optimize a fresh LoRA on ``reasoner`` so that ``reward``'s rules hold for ``task``.

    The adapter is removed again before returning (its weights are in the result), so the
    reasoner is left exactly as it was. The returned video is the full-decode sample of the
    best step's adapter (most rules passed, then lowest loss) at that step's noise seed.
    """
    return _optimize(reasoner, task, reward, config, on_step, limits=())[config.max_evaluations]


def optimize_budgets(
    reasoner: Reasoner,
    task: TaskInput,
    reward: Callable[..., Any],
    config: TTOConfig,
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
    if len({screened_seeds(reasoner, config, b) for b in budgets}) > 1:
        raise ValueError(f"with screen={config.screen}, budgets {budgets} screen different numbers of seeds; run them apart")
    top = replace(config, max_evaluations=budgets[-1])
    return _optimize(reasoner, task, reward, top, on_step, limits=budgets[:-1])


def _optimize(reasoner, task, reward, config, on_step, limits) -> dict[int | None, TTOResult]:
    spec = config.lora_spec(reasoner)
    transformer = reasoner.transformer
    name = attach_lora(transformer, spec)
    checkpointing = config.gradient_checkpointing and not getattr(transformer, "gradient_checkpointing", False)
    if checkpointing:
        transformer.enable_gradient_checkpointing()
    try:
        return _optimize_attached(reasoner, task, reward, config, spec, name, on_step, limits)
    finally:
        if checkpointing:
            transformer.disable_gradient_checkpointing()
        detach_lora(transformer, name)


@dataclass
class _Best:
    """The best step so far: its adapter, noise seed and step (the answer if the run stopped now)."""

    state: dict[str, torch.Tensor]
    seed: int
    step: int = 0


def _optimize_attached(reasoner, task, reward, config, spec, name, on_step, limits) -> dict[int | None, TTOResult]:
    transformer = reasoner.transformer
    params = lora_parameters(transformer, name)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    step_cost = reasoner.evaluations(config.sample_steps, config.grad_steps)
    history: list[StepRecord] = []
    evaluations = 0
    best_key: tuple[int, float] | None = None
    best = _Best(lora_state_dict(transformer, name), config.seed)
    plateau_best, since_improved = math.inf, 0
    stopped_because = "budget"
    updates = 0
    confirmed = None
    snapshots: dict[int, tuple] = {}  # smaller budget -> the run's state where it would have stopped
    start_seed, screened = config.seed, []
    if config.screen > 0:
        start_seed, screened, evaluations, confirmed = _screen_seeds(reasoner, task, reward, config)
        best.seed = start_seed
        if confirmed is not None:
            stopped_because = "passed"

    for step in range(config.max_steps + 1 if confirmed is None else 0):  # +1: the last sample scores the last update
        for limit in limits:
            if limit not in snapshots and evaluations + step_cost > limit:
                snapshots[limit] = (replace(best), len(history), evaluations, updates)
        if config.max_evaluations is not None and evaluations + step_cost > config.max_evaluations:
            stopped_because = "evaluations"
            break
        seed = start_seed if config.noise == "fixed" else start_seed + step
        beta = config.beta_at(step)
        is_last = step == config.max_steps
        grad_steps = 0 if is_last else config.grad_steps
        with torch.set_grad_enabled(grad_steps > 0):
            video, saved = reasoner.sample_renders(task, seed=seed, num_steps=config.sample_steps, grad_steps=grad_steps)
            report = reward(video, beta=beta)
        evaluations += reasoner.evaluations(config.sample_steps, grad_steps)
        verdict = report
        if saved is not None:  # the saved video of this very sample came free: its verdicts are the ones that count
            with torch.no_grad():
                verdict = reward(saved, beta=config.beta_end)
        summary = summarize(verdict)
        record = StepRecord(
            step=step,
            seed=seed,
            beta=beta,
            loss=float(report.sample_loss[0].detach()),
            rules=summary["rules"],
            rules_passed=summary["rules_passed"],
            passed=summary["passed"],
            evaluations=evaluations,
        )
        key = (record.rules_passed, -record.loss)
        if best_key is None or key > best_key:
            best_key, best = key, _Best(lora_state_dict(transformer, name), seed, step)

        if record.passed:
            if saved is not None:  # judged on the saved video already
                confirm_video, confirm_report = saved.detach(), verdict
            else:  # the verdict that counts is on the full decode (a surrogate decoder may differ)
                with torch.no_grad():
                    confirm_video = reasoner.sample(task, seed=seed, num_steps=config.sample_steps, grad_steps=0, final=True)
                    confirm_report = reward(confirm_video, beta=config.beta_end)
                evaluations += reasoner.evaluations(config.sample_steps, 0)
                record.evaluations = evaluations
            if bool(confirm_report.passed[0]):
                confirmed = (confirm_video, confirm_report, seed)
                best = _Best(lora_state_dict(transformer, name), seed, step)
                history.append(record)
                if on_step:
                    on_step(record)
                stopped_because = "passed"
                break
            record.passed = False  # passed on the surrogate only: keep optimizing
        if record.loss < plateau_best - config.min_delta:
            plateau_best, since_improved = record.loss, 0
        else:
            since_improved += 1
        if is_last:
            history.append(record)
            if on_step:
                on_step(record)
            break
        if since_improved >= config.patience:
            history.append(record)
            if on_step:
                on_step(record)
            stopped_because = "plateau"
            break

        optimizer.zero_grad(set_to_none=True)
        loss = report.loss
        if loss.requires_grad:
            before = lora_state_dict(transformer, name)
            loss.backward()
            if _finite_grads(params) and math.isfinite(record.loss):
                torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
                optimizer.step()
                if not all(bool(torch.isfinite(p).all()) for p in params):
                    load_lora_state(transformer, name, before)
                    record.skipped = True
                else:
                    updates += 1
            else:
                record.skipped = True
                load_lora_state(transformer, name, before)
            optimizer.zero_grad(set_to_none=True)
        del video, report, loss
        history.append(record)
        if on_step:
            on_step(record)

    extra = {"screened": screened} if screened else {}
    top = _finish(reasoner, task, reward, config, spec, name, extra, best, history, evaluations, updates, stopped_because, confirmed)
    results = {config.max_evaluations: top}
    for limit in limits:  # budgets the run outlived: their answer, decoded from their snapshot
        own = replace(config, max_evaluations=limit)
        if limit in snapshots:
            snap_best, length, snap_evaluations, snap_updates = snapshots[limit]
            results[limit] = _finish(reasoner, task, reward, own, spec, name, extra, snap_best, history[:length],
                                     snap_evaluations, snap_updates, "evaluations", None)
        else:  # the run stopped (passed, plateau) before this budget ran out: the same answer
            results[limit] = replace(top, config=own)
    return results


def _finish(reasoner, task, reward, config, spec, name, extra, best, history, evaluations, updates, stopped_because, confirmed) -> TTOResult:
    """The answer: the best step's adapter, fully decoded (or the confirmed passing sample)."""
    if confirmed is not None:
        final_video, final_report, seed = confirmed
    else:
        load_lora_state(reasoner.transformer, name, best.state)
        with torch.no_grad():
            final_video = reasoner.sample(task, seed=best.seed, num_steps=config.sample_steps, grad_steps=0, final=True)
            final_report = reward(final_video, beta=config.beta_end)
        evaluations += reasoner.evaluations(config.sample_steps, 0)
        seed = best.seed
    final = summarize(final_report)
    final["seed"] = seed
    return TTOResult(
        video=final_video[0].detach(),
        final=final,
        history=list(history),
        evaluations=evaluations,
        steps=updates,
        stopped_because=stopped_because,
        lora_state=best.state,
        lora_spec=spec,
        config=config,
        best_step=best.step,
        extra=dict(extra),
    )


def screened_seeds(reasoner: Reasoner, config: TTOConfig, max_evaluations: int | None) -> int:
    """How many seeds screening samples within ``max_evaluations`` (all ``config.screen`` if unbounded)."""
    if max_evaluations is None:
        return config.screen
    return min(config.screen, max_evaluations // reasoner.evaluations(config.sample_steps, 0))


def _screen_seeds(reasoner, task, reward, config: TTOConfig):
    """Sample up to ``config.screen`` seeds (as many as the budget allows) with the adapter
    still zero, i.e. the frozen model's output; return the seed the rules like best (lowest
    loss, ties: more rules passed), the candidates' summaries, the evaluations spent, and
    ``(video, report, seed)`` of the first sample that already passes (else None).

    Why: with fixed noise, TTO can only improve the sample its seed gives; starting from
    the best of a few seeds spends part of the budget the way Best-of-N does.
    """
    best_key, best_seed, candidates = None, config.seed, []
    cost = reasoner.evaluations(config.sample_steps, 0)
    for i in range(screened_seeds(reasoner, config, config.max_evaluations)):
        seed = config.seed + i
        with torch.no_grad():
            video = reasoner.sample(task, seed=seed, num_steps=config.sample_steps, grad_steps=0, final=True)
            report = reward(video, beta=config.beta_end)
        summary = summarize(report)
        candidates.append({"seed": seed, "loss": summary["loss"], "rules_passed": summary["rules_passed"], "passed": summary["passed"]})
        if summary["passed"]:
            return seed, candidates, len(candidates) * cost, (video, report, seed)
        key = (summary["loss"], -summary["rules_passed"])
        if best_key is None or key < best_key:
            best_key, best_seed = key, seed
    return best_seed, candidates, len(candidates) * cost, None
