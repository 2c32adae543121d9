"""Shared helpers for the TTO/baseline/Wan/CLI tests: a fake reward and a tiny Wan folder.

The fake reward has the RewardModule interface of the contract (``report = reward(video,
beta=...)`` with ``.rules`` (each with ``failed_frames()``), ``.sample_loss``, ``.loss``, ``.passed``,
``.has_smooth``: what a verdict is built from) and scores something
a random-init model can be pushed toward: how red the right half of the last frame is.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from rulec.runtime.optimize.reasoner import Reasoner


@dataclass
class FakeRule:
    name: str
    kind: str
    weight: float
    exact: torch.Tensor
    smooth: torch.Tensor
    passed: torch.Tensor
    trace: torch.Tensor

    def failed_frames(self, index: int = 0) -> list[int]:
        return [] if bool(self.passed[index]) else [t for t, v in enumerate(self.trace[index].tolist()) if v <= 0]


@dataclass
class FakeReport:
    rules: list
    sample_loss: torch.Tensor
    loss: torch.Tensor
    passed: torch.Tensor
    has_smooth: bool = True


def redness(video: torch.Tensor) -> torch.Tensor:
    """Per-frame redness of the right half: mean of R - (G + B) / 2, shape (B, T)."""
    right = video[..., video.shape[-1] // 2 :]
    return (right[:, :, 0] - 0.5 * (right[:, :, 1] + right[:, :, 2])).mean(dim=(-1, -2))


class RedRightReward(torch.nn.Module):
    """goal ``red_right``: the last frame's right half is redder than ``threshold`` (margin x 20);
    process ``in_range``: every frame's mean stays within (0.02, 0.98) (always true here)."""

    def __init__(self, threshold: float):
        super().__init__()
        self.threshold = threshold
        self.calls = 0

    def forward(self, video: torch.Tensor, start=None, beta: float | None = None) -> FakeReport:
        self.calls += 1
        beta = 10.0 if beta is None else beta
        trace = (redness(video) - self.threshold) * 20.0
        goal = trace[:, -1]
        mean = video.mean(dim=(2, 3, 4))
        proc_trace = torch.minimum(mean - 0.02, 0.98 - mean) * 10.0
        proc_exact = proc_trace.min(dim=1).values
        proc_smooth = -torch.logsumexp(-beta * proc_trace, dim=1) / beta
        rules = [
            FakeRule("red_right", "goal", 1.0, goal.detach(), goal, goal.detach() > 0, trace.detach()),
            FakeRule("in_range", "process", 1.0, proc_exact.detach(), proc_smooth, proc_exact.detach() > 0,
                     proc_trace.detach()),
        ]
        sample_loss = torch.nn.functional.softplus(-goal) + torch.nn.functional.softplus(-proc_smooth)
        passed = rules[0].passed & rules[1].passed
        return FakeReport(rules, sample_loss, sample_loss.mean(), passed)


def tiny_wan(folder, **kwargs):
    """Save a tiny random Wan 2.1 I2V folder and load it back through the real loading path."""
    from rulec.runtime.models.wan import WanReasoner, save_tiny_wan

    save_tiny_wan(folder)
    return WanReasoner.from_pretrained(folder, **kwargs)


def task_input(num_frames: int = 9, seed: int = 0):
    from rulec.runtime.optimize.reasoner import TaskInput

    g = torch.Generator().manual_seed(seed)
    return TaskInput(first_frame=torch.rand((3, 32, 32), generator=g), caption="red disc moves right",
                     num_frames=num_frames)


class PixelWanReasoner(Reasoner):
    """A tiny random-init pixel-space ``WanTransformer3DModel`` behind the Reasoner API.

    Stands in for the embedded model in tests: flow-matching Euler steps in pixel space, the
    first frame re-imposed after every step, gradients through the last ``grad_steps`` only.
    """

    default_lora_targets = ("to_q", "to_k", "to_v", "to_out.0")

    def __init__(self, seed: int = 0):
        from diffusers import WanTransformer3DModel

        torch.manual_seed(seed)
        self.transformer = WanTransformer3DModel(
            patch_size=(1, 4, 4), num_attention_heads=2, attention_head_dim=16, in_channels=3, out_channels=3,
            text_dim=8, freq_dim=32, ffn_dim=64, num_layers=2, rope_max_seq_len=32,
        )
        self.transformer.requires_grad_(False)

    def evaluations(self, num_steps: int, grad_steps: int = 0, batch_size: int = 1) -> int:
        return batch_size * (num_steps + 2 * grad_steps)

    def sample(self, task, *, seed, num_steps, grad_steps=0, batch_size=1, final=True):
        g = torch.Generator().manual_seed(seed)
        h, w = task.first_frame.shape[-2:]
        x = torch.randn((batch_size, 3, task.num_frames, h, w), generator=g)
        first = (task.first_frame * 2 - 1).expand(batch_size, 3, h, w).unsqueeze(2)
        x = torch.cat([first, x[:, :, 1:]], dim=2)
        text = torch.zeros(batch_size, 4, 8)
        sigmas = torch.linspace(1.0, 0.0, num_steps + 1)
        for i in range(num_steps):
            with torch.set_grad_enabled(torch.is_grad_enabled() and i >= num_steps - grad_steps):
                v = self.transformer(hidden_states=x, timestep=(sigmas[i] * 1000).expand(batch_size),
                                     encoder_hidden_states=text, return_dict=False)[0]
                x = x + (sigmas[i + 1] - sigmas[i]) * v
                x = torch.cat([first, x[:, :, 1:]], dim=2)
        return ((x + 1) / 2).clamp(0, 1).permute(0, 2, 1, 3, 4)


def base_setup(num_frames: int, num_steps: int):
    """``(reasoner, task, base redness at the last frame)``: the frozen model's seed-0 sample,
    the reference point the tests' RedRightReward targets are set from."""
    reasoner = PixelWanReasoner()
    task = task_input(num_frames=num_frames)
    with torch.no_grad():
        base = reasoner.sample(task, seed=0, num_steps=num_steps)
    return reasoner, task, float(redness(base)[0, -1])
