"""The embedded toy VGM as a Reasoner, and its flow-matching Euler sampler.

The sampler is a plain function so training (sample filmstrips), the benchmark and
test-time optimization all sample the same way.
"""

from __future__ import annotations

import torch

from rulec.runtime.models.embedded import EmbeddedReasoner, euler_sample
from rulec.runtime.models.pixel import network as toy_model
from rulec.runtime.models.pixel.network import ToyConfig, ToyVGM
from rulec.runtime.optimize.reasoner import TaskInput


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

    Euler steps (:func:`~rulec.runtime.models.embedded.euler_sample`) with the first frame
    re-imposed after every step. ``guidance`` > 1 is classifier-free guidance on the caption
    (the model trained with 20% empty captions): x0 = x0(empty) + guidance * (x0(caption) - x0(empty)), at twice the
    transformer evaluations per step.
    """
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

    def denoise(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        x0 = model.denoise(x, sigma, first, ids)
        if empty is None:
            return x0
        x0_empty = model.denoise(x, sigma, first, empty)
        return x0_empty + guidance * (x0 - x0_empty)

    noise = initial_noise(b, t_frames, h, seed).to(param.dtype)
    x = euler_sample(noise, first.unsqueeze(2), denoise, num_steps=num_steps, grad_steps=grad_steps)
    video = ((x + 1.0) / 2.0).clamp(0.0, 1.0)
    return video.permute(0, 2, 1, 3, 4)  # (B, T, 3, H, W)


class ToyReasoner(EmbeddedReasoner):
    """The embedded tiny pixel-space VGM behind the :class:`Reasoner` interface."""

    network_load = staticmethod(toy_model.load)
    network_class = ToyVGM
    config_class = ToyConfig

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
        batch = first.unsqueeze(0).expand(batch_size, -1, -1, -1)
        return sample_videos(
            self.model, batch, [task.caption] * batch_size, seed=seed, num_steps=self._steps(num_steps),
            grad_steps=grad_steps, num_frames=task.num_frames,
        )
