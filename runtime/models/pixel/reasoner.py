"""The embedded toy VGM as a Reasoner, and its flow-matching Euler sampler.

The sampler is a plain function so training (sample filmstrips), the benchmark and
test-time optimization all sample the same way.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from rulec.runtime.models.pixel import network as toy_model
from rulec.runtime.optimize.reasoner import Reasoner, TaskInput
from rulec.runtime.models.pixel.network import ToyVGM


def initial_noise(batch: int, frames: int, size: int, seed: int) -> torch.Tensor:
    """The sampler's starting noise (B, 3, T, H, W); the same seed gives the same noise."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn((batch, 3, frames, size, size), generator=g)


def sample_videos(
    model: ToyVGM,
    first_frame: torch.Tensor,
    captions: list[str],
    *,
    seed: int,
    num_steps: int,
    grad_steps: int = 0,
    num_frames: int | None = None,
    guidance: float = 1.0,
) -> torch.Tensor:
    """Videos (B, T, 3, H, W) in [0, 1] starting from ``first_frame`` (B, 3, H, W) in [0, 1].

    Euler steps of diffusers' ``FlowMatchEulerDiscreteScheduler``; the first frame is
    re-imposed after every step, and autograd records only the last ``grad_steps`` steps.
    ``guidance`` > 1 is classifier-free guidance on the caption (the model trained with 20%
    empty captions): x0 = x0(empty) + guidance * (x0(caption) - x0(empty)), at twice the
    transformer evaluations per step.
    """
    from diffusers import FlowMatchEulerDiscreteScheduler

    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if not 0 <= grad_steps <= num_steps:
        raise ValueError(f"grad_steps must be in [0, num_steps={num_steps}], got {grad_steps}")
    b, c, h, w = first_frame.shape
    if c != 3 or h != w:
        raise ValueError(f"first_frame must be (B, 3, H, H), got {tuple(first_frame.shape)}")
    if len(captions) != b:
        raise ValueError(f"expected {b} captions, got {len(captions)}")
    if guidance <= 0:
        raise ValueError(f"guidance must be positive, got {guidance}")
    t_frames = num_frames or model.config.num_frames
    param = next(model.parameters())
    first = (first_frame.to(param.dtype) * 2.0 - 1.0)
    ids = model.caption_ids(captions)
    empty = model.caption_ids([""] * b) if guidance != 1.0 else None

    scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)
    scheduler.set_timesteps(num_steps)
    sigmas = scheduler.sigmas.to(param.dtype)

    x = initial_noise(b, t_frames, h, seed).to(param.dtype)
    x = torch.cat([first.unsqueeze(2), x[:, :, 1:]], dim=2)
    for i, t in enumerate(scheduler.timesteps):
        track = i >= num_steps - grad_steps
        ctx = contextlib.nullcontext() if track else torch.no_grad()
        with ctx:
            sigma = sigmas[i].expand(b)
            x0 = model.denoise(x, sigma, first, ids)
            if empty is not None:
                x0_empty = model.denoise(x, sigma, first, empty)
                x0 = x0_empty + guidance * (x0 - x0_empty)
            velocity = (x - x0) / sigmas[i]
            x = scheduler.step(velocity, t, x, return_dict=False)[0]
            x = torch.cat([first.unsqueeze(2), x[:, :, 1:]], dim=2)
    video = ((x + 1.0) / 2.0).clamp(0.0, 1.0)
    return video.permute(0, 2, 1, 3, 4)  # (B, T, 3, H, W)


class ToyReasoner(Reasoner):
    """The embedded tiny VGM behind the :class:`Reasoner` interface.

    The base weights are frozen (``requires_grad=False``); test-time optimization adds a
    peft LoRA to ``transformer`` (a diffusers ``WanTransformer3DModel``).
    """

    def __init__(self, model: ToyVGM):
        self.model = model.eval()
        self.model.requires_grad_(False)
        self.transformer = model.transformer
        self.default_steps = int(model.config.default_steps)

    @classmethod
    def load(cls, path: str | Path | None = None) -> ToyReasoner:
        """The shipped weights (``path=None``) or a folder / ``.safetensors`` file.

        Raises :class:`~rulec.runtime.models.pixel.network.ToyModelError` for a missing or invalid path.
        """
        return cls(toy_model.load(path))

    @classmethod
    def random_init(cls, seed: int = 0) -> ToyReasoner:
        """An untrained model of the same architecture (for tests)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = ToyVGM(toy_model.ToyConfig())
        return cls(model)

    def sample(
        self,
        task: TaskInput,
        *,
        seed: int,
        num_steps: int | None = None,
        grad_steps: int = 0,
        batch_size: int = 1,
        final: bool = True,
    ) -> torch.Tensor:
        """Videos (batch_size, T, 3, H, W) in [0, 1]; pixel space, so ``final`` changes nothing."""
        first = task.first_frame
        size = self.model.config.frame_size
        if first.ndim != 3 or first.shape[0] != 3 or tuple(first.shape[1:]) != (size, size):
            raise ValueError(f"the toy model needs a (3, {size}, {size}) first frame, got {tuple(first.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        steps = self.default_steps if num_steps is None else int(num_steps)
        batch = first.unsqueeze(0).expand(batch_size, -1, -1, -1)
        return sample_videos(
            self.model, batch, [task.caption] * batch_size, seed=seed, num_steps=steps,
            grad_steps=grad_steps, num_frames=task.num_frames,
        )
