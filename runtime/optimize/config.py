"""How a run samples and optimizes: the one place every run default is decided.

``rulec run``, ``rulec bench``, test-time optimization and the baselines all read one
:class:`RunConfig`, so a default (denoising steps, learning rate, the seed, the sharpness
the verdicts are judged at) is written once and the methods compared in the benchmark run
with the same settings. The defaults are measured: see docs/runtime.md.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rulec.runtime.optimize.lora import LoRASpec

NOISE = ("fixed", "fresh")


@dataclass(frozen=True)
class RunConfig:
    """Knobs of one run: sampling (every method), and the optimization (test-time optimization)."""

    seed: int = 0  # noise seed of the first sample; seeds seed+1, ... follow
    sample_steps: int = 8  # denoising steps per sample
    beta_end: float = 40.0  # smooth-semantics sharpness the answer is scored at (and the last step's)
    max_steps: int = 16  # optimization steps (each: one sample with gradients + one update)
    max_evaluations: int | None = None  # optional budget in model evaluations
    grad_steps: int = 2  # K: keep the graph through the last K denoising steps
    lr: float = 1e-2
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    rank: int = 4  # LoRA rank (its alpha is the rank: see LoRASpec)
    target_modules: tuple[str, ...] | None = None  # None: the reasoner's attention projections
    beta_start: float = 5.0  # smooth-semantics sharpness at step 0, annealed geometrically up to beta_end
    noise: Literal["fixed", "fresh"] = "fixed"  # same initial noise every step, or a new one
    screen: int = 4  # draw this many seeds from the frozen model first; optimize from the best
    gradient_checkpointing: bool = False  # recompute block activations in backward (memory for time)
    patience: int = 5  # stop when the loss has not improved for this many steps
    min_delta: float = 1e-4  # what counts as an improvement

    def __post_init__(self) -> None:
        if self.sample_steps < 1:
            raise ValueError(f"sample_steps must be >= 1, got {self.sample_steps}")
        if self.max_steps < 0:
            raise ValueError("max_steps must be >= 0")
        if not 0 <= self.grad_steps <= self.sample_steps:
            raise ValueError("grad_steps (K) must lie in [0, sample_steps]")
        if self.noise not in NOISE:
            raise ValueError(f"noise must be 'fixed' or 'fresh', got {self.noise!r}")
        if self.screen < 0:
            raise ValueError("screen must be >= 0")
        self.lora_spec(())  # the adapter's own checks (rank), now rather than after the base sample
        if self.lr <= 0 or self.beta_start <= 0 or self.beta_end <= 0:
            raise ValueError("lr and beta must be positive")

    @classmethod
    def from_options(cls, **options: Any) -> RunConfig:
        """The defaults with the options a user gave (``None``: not given).

        Fewer denoising steps than the default K without a K of their own clip K to them, so
        ``--sample-steps 1`` alone is a valid run."""
        given = {k: v for k, v in options.items() if v is not None}
        unknown = set(given) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown run options: {', '.join(sorted(unknown))}")
        if "sample_steps" in given and "grad_steps" not in given:
            given["grad_steps"] = min(cls.grad_steps, max(given["sample_steps"], 0))
        return cls(**given)

    def lora_spec(self, default_targets: tuple[str, ...]) -> LoRASpec:
        """The adapter this run trains: ``target_modules`` or else the reasoner's ``default_targets``."""
        from rulec.runtime.optimize.lora import LoRASpec

        return LoRASpec(rank=self.rank, target_modules=tuple(self.target_modules or default_targets), init_seed=self.seed)

    def beta_at(self, step: int) -> float:
        """Geometric annealing from beta_start (step 0) to beta_end (last step)."""
        if self.max_steps <= 1:
            return self.beta_end
        frac = min(step / (self.max_steps - 1), 1.0)
        return self.beta_start * (self.beta_end / self.beta_start) ** frac
