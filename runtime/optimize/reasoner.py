"""The Reasoner interface: a video generation model that samples a video for a task.

Test-time optimization, Best-of-N and the benchmark only talk to this interface, so the
embedded tiny VGM and a real Wan 2.x checkpoint are interchangeable.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TaskInput:
    """What a reasoner is given: the task image and the instruction/caption."""

    first_frame: torch.Tensor  # (3, H, W) float in [0, 1]
    caption: str = ""
    num_frames: int = 16

    @classmethod
    def from_image(cls, image, caption: str = "", num_frames: int = 16) -> TaskInput:
        """A task whose first frame is an image as read from disk, ``(H, W, 3)`` uint8."""
        from rulec.frames import to_float

        return cls(to_float(image), caption, num_frames)


class Reasoner(abc.ABC):
    """A frozen video generator that a LoRA can be attached to.

    ``transformer`` is the diffusers model (a ``PeftAdapterMixin``) that test-time
    optimization adds its adapter to; nothing else is trained.
    """

    transformer: torch.nn.Module
    #: module names a LoRA targets by default (the attention projections)
    default_lora_targets: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0")

    @abc.abstractmethod
    def sample(
        self,
        task: TaskInput,
        *,
        seed: int,
        num_steps: int,
        grad_steps: int = 0,
        batch_size: int = 1,
        final: bool = True,
    ) -> torch.Tensor:
        """Sample videos ``(batch_size, T, 3, H, W)`` in [0, 1].

        The autograd graph is kept through the last ``grad_steps`` denoising steps only
        (0: no gradient at all). ``final=False`` may decode with a cheap surrogate decoder
        (latent models); ``final=True`` gives the video to save and score. The same
        ``seed`` gives the same initial noise.
        """

    def sample_renders(self, task: TaskInput, *, seed: int, num_steps: int, grad_steps: int = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One sample for optimization: ``(video to differentiate, saved video or None)``.

        A model whose saved video comes from the same sample at no extra model evaluation
        (a latent model with a cheap exact renderer) returns both, so the optimizer judges
        every step on what would be saved; otherwise ``None``, and a pass is confirmed by
        sampling again with ``final=True``.
        """
        return self.sample(task, seed=seed, num_steps=num_steps, grad_steps=grad_steps, final=False), None

    def evaluations(self, num_steps: int, grad_steps: int = 0, batch_size: int = 1) -> int:
        """Model evaluations one call costs: transformer forwards, plus two per backward step."""
        return batch_size * (num_steps + 2 * grad_steps)
