"""The object-centric latent model as a Reasoner, and its flow-matching Euler sampler.

A sample is a latent (per-object tracks) and its render: ``final=False`` gives the soft
(differentiable) render the optimizer reads, ``final=True`` the hard whole-pixel render
that is saved and scored. :meth:`LatentReasoner.generate` returns both the latent and the
video, so nothing about the latent travels through a side channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rulec.runtime.models.embedded import EmbeddedReasoner, euler_sample
from rulec.runtime.models.latent import network as latent_model
from rulec.runtime.models.latent import render as latent_render
from rulec.runtime.models.latent import scene as latent_scene
from rulec.runtime.models.latent.network import LATENT_CHANNELS, LatentConfig, LatentVGM, first_frame_latent
from rulec.runtime.optimize.reasoner import TaskInput


def initial_noise(batch: int, frames: int, slots: int, seed: int) -> torch.Tensor:
    """The sampler's starting noise ``(B, 3, T, 1, K)``; the same seed gives the same noise."""
    g = torch.Generator().manual_seed(int(seed))
    return torch.randn((batch, LATENT_CHANNELS, frames, 1, slots), generator=g)


def sample_latents(
    model: LatentVGM,
    descriptors: torch.Tensor,
    context: torch.Tensor,
    *,
    seed: int,
    num_steps: int,
    grad_steps: int = 0,
) -> torch.Tensor:
    """Latents ``(B, 3, T, 1, K)`` (:func:`~rulec.runtime.models.embedded.euler_sample`), frame 0
    (no offset, visible) re-imposed after every step."""
    b, k = descriptors.shape[0], descriptors.shape[1]
    t = model.config.num_frames
    dtype = next(model.parameters()).dtype
    noise = initial_noise(b, t, k, seed).to(dtype)
    return euler_sample(noise, first_frame_latent(b, t, k, dtype), lambda x, sigma: model.denoise(x, sigma, descriptors, context),
                        num_steps=num_steps, grad_steps=grad_steps)


@dataclass
class Sample:
    """One sampling call's output: the latent and the video rendered from it."""

    latent: torch.Tensor  # (B, 3, T, 1, K)
    video: torch.Tensor  # (B, T, 3, H, W) in [0, 1]


def to_image(first_frame: torch.Tensor) -> np.ndarray:
    """A task's first frame (3, H, W) in [0, 1] -> uint8 (H, W, 3), as the encoder reads it."""
    from rulec.frames import to_uint8

    return to_uint8(first_frame)


class LatentReasoner(EmbeddedReasoner):
    """The embedded object-centric VGM behind the :class:`Reasoner` interface.

    Any frame size works: the scene is encoded and rendered at the task's own resolution.
    """

    network_load = staticmethod(latent_model.load)
    network_class = LatentVGM
    config_class = LatentConfig

    def encode(self, task: TaskInput) -> dict[str, torch.Tensor]:
        """The task's scene, batched (batch 1), plus the model's cross-attention context."""
        first = task.first_frame
        if first.ndim != 3 or first.shape[0] != 3:
            raise ValueError(f"the latent model needs a (3, H, W) first frame, got {tuple(first.shape)}")
        if task.num_frames != self.model.config.num_frames:
            raise ValueError(f"the latent model makes {self.model.config.num_frames} frames, the task asks for {task.num_frames}")
        scene = latent_scene.stack([latent_scene.encode(to_image(first), task.caption)])
        scene["context"] = self.model.context(first.unsqueeze(0), self.model.caption_ids([task.caption]))
        return scene

    def _sample_latent(self, task: TaskInput, seed: int, num_steps: int | None, grad_steps: int, batch_size: int):
        """The batched scene and a sampled latent for it (the one place both renders start from)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        scene = {k: v.expand(batch_size, *v.shape[1:]) for k, v in self.encode(task).items()}
        latent = sample_latents(self.model, scene["descriptors"], scene["context"], seed=seed,
                                num_steps=self._steps(num_steps), grad_steps=grad_steps)
        return scene, latent

    def generate(self, task: TaskInput, *, seed: int, num_steps: int | None = None, grad_steps: int = 0,
                 batch_size: int = 1, final: bool = True) -> Sample:
        """Latent and video; ``final`` picks the hard (saved) or soft (differentiable) render."""
        scene, latent = self._sample_latent(task, seed, num_steps, grad_steps, batch_size)
        return Sample(latent, latent_render.render(scene, latent, hard=final))

    def sample_renders(self, task: TaskInput, *, seed: int, num_steps: int, grad_steps: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The soft render to optimize and the hard (saved) render of the same latent: no extra evaluation."""
        scene, latent = self._sample_latent(task, seed, num_steps, grad_steps, 1)
        with torch.no_grad():
            saved = latent_render.render(scene, latent.detach(), hard=True)
        return latent_render.render(scene, latent, hard=False), saved

    def sample(self, task: TaskInput, *, seed: int, num_steps: int | None = None, grad_steps: int = 0,
               batch_size: int = 1, final: bool = True) -> torch.Tensor:
        return self.generate(task, seed=seed, num_steps=num_steps, grad_steps=grad_steps,
                             batch_size=batch_size, final=final).video
