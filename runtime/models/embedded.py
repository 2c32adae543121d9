"""What the two embedded models (latent, pixel) share as Reasoners: a frozen network, sampled
by flow-matching Euler steps.

Why here: both models are a diffusers ``WanTransformer3DModel`` trained for clean-sample
prediction, sampled the same way (diffusers' ``FlowMatchEulerDiscreteScheduler``, the
given first frame re-imposed after every step, autograd through the last ``grad_steps``
steps only) and wrapped the same way; only what a sample is (object tracks or pixels)
and how the network is conditioned differ.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

import torch

from rulec.runtime.optimize.reasoner import Reasoner


def euler_sample(noise: torch.Tensor, first: torch.Tensor, denoise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                 *, num_steps: int, grad_steps: int = 0) -> torch.Tensor:
    """A sample ``(B, C, T, ...)`` from ``noise`` of that shape; ``first`` ``(B, C, 1, ...)`` is frame 0
    throughout, ``denoise(x, sigma)`` predicts the clean sample at noise levels ``sigma`` ``(B,)``."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if not 0 <= grad_steps <= num_steps:
        raise ValueError(f"grad_steps must be in [0, num_steps={num_steps}], got {grad_steps}")
    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)
    scheduler.set_timesteps(num_steps)
    sigmas = scheduler.sigmas.to(noise.dtype)
    x = torch.cat([first, noise[:, :, 1:]], dim=2)
    for i, timestep in enumerate(scheduler.timesteps):
        with contextlib.nullcontext() if i >= num_steps - grad_steps else torch.no_grad():
            x0 = denoise(x, sigmas[i].expand(x.shape[0]))
            velocity = (x - x0) / sigmas[i]
            x = scheduler.step(velocity, timestep, x, return_dict=False)[0]
            x = torch.cat([first, x[:, :, 1:]], dim=2)
    return x


class EmbeddedReasoner(Reasoner):
    """An embedded network behind the :class:`Reasoner` interface, its weights frozen;
    test-time optimization adds a peft LoRA to ``transformer``. A subclass names its
    network's module (``load``), class and config class."""

    network_load: Callable  # the network module's load(path)
    network_class: type
    config_class: type

    def __init__(self, model: torch.nn.Module):
        self.model = model.eval()
        self.model.requires_grad_(False)
        self.transformer = model.transformer
        self.default_steps = int(model.config.default_steps)

    @classmethod
    def load(cls, path: str | Path | None = None):
        """The shipped weights (``path=None``) or a folder / ``.safetensors`` file (ModelLoadError if invalid)."""
        return cls(cls.network_load(path))

    @classmethod
    def random_init(cls, seed: int = 0, config=None):
        """An untrained model of the same architecture (for tests)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = cls.network_class(config or cls.config_class())
        return cls(model)

    def _steps(self, num_steps: int | None) -> int:
        return self.default_steps if num_steps is None else int(num_steps)
