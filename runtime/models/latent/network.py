"""The embedded default VGM: an object-centric latent video model on a diffusers ``WanTransformer3DModel``.

Why object-centric: a ~1 M-parameter network that paints pixels grows, splits and smears
objects (docs/toy-model.md, the pixel model); one that only moves the objects a fixed
encoder found (:mod:`rulec.runtime.models.latent.scene`) draws every frame cleanly
(:mod:`rulec.runtime.models.latent.render`), so what it gets wrong is the task's *logic*: the
path, the walls, which object moves, whether it stays visible. That is the regime in
which rules can steer a model (the lessons' feasibility probe).

The latent video is ``(B, 3, T, 1, K)``: per object slot a track of (dx, dy, visibility).
With patch size ``(T, 1, 1)`` each object's whole track is one transformer token; a token
also gets its object's descriptor channels (colour, size, place, bounding box, pieces,
whether the caption names it) and cross-attends to the caption words and to 4x4 patches
of the task image (walls and pads). Flow matching with clean-latent prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from rulec.runtime.tasks import world
from rulec.runtime.models.latent.scene import DESCRIPTOR_DIM, MAX_OBJECTS
from rulec.runtime.models.pixel.network import VOCAB, CaptionedWan, tiny_wan_kwargs
from rulec.runtime.models.weights import ASSETS, config_to_json, load_model, save_model

STEM = "latent_vgm"
#: Words of task instructions beside the motion captions' closed vocabulary.
LATENT_VOCAB: tuple[str, ...] = VOCAB + ("move", "to", "onto", "square", "until", "touches")
#: Latent channels: dx, dy, visibility.
LATENT_CHANNELS = 3


@dataclass
class LatentConfig:
    """Everything needed to rebuild the model; saved as JSON beside the weights."""

    num_layers: int = 4
    num_attention_heads: int = 4
    attention_head_dim: int = 32
    ffn_dim: int = 512
    text_dim: int = 64
    text_len: int = 16
    num_frames: int = world.NUM_FRAMES
    max_objects: int = MAX_OBJECTS
    image_size: int = world.FRAME_SIZE  # the task image is resized to this for the patch context
    image_patch: int = 4
    vocab: tuple[str, ...] = LATENT_VOCAB
    default_steps: int = 8
    training: dict = field(default_factory=dict)  # steps, minutes, recipe (informative)

    def wan_kwargs(self) -> dict:
        return tiny_wan_kwargs(self, (self.num_frames, 1, 1), LATENT_CHANNELS + DESCRIPTOR_DIM, LATENT_CHANNELS)

    def to_json(self) -> str:
        return config_to_json(self)


class LatentVGM(CaptionedWan):
    """Transformer + caption encoder + image-patch projection; ``denoise`` predicts the clean latent."""

    def __init__(self, config: LatentConfig):
        super().__init__(config)
        patches = (config.image_size // config.image_patch) ** 2
        self.image_proj = nn.Linear(3 * config.image_patch**2, config.text_dim)
        self.image_pos = nn.Parameter(torch.randn(patches, config.text_dim) * 0.1)

    def context(self, image: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Cross-attention context (B, L + P, text_dim): caption words, then task-image patches.

        image (B, 3, H, W) in [0, 1], resized (area) to ``image_size`` when it differs."""
        s, p = self.config.image_size, self.config.image_patch
        dtype = self.image_pos.dtype
        if tuple(image.shape[-2:]) != (s, s):
            image = F.interpolate(image.to(dtype), size=(s, s), mode="area")
        patches = F.unfold(image.to(dtype) * 2.0 - 1.0, kernel_size=p, stride=p).transpose(1, 2)
        return torch.cat([self.caption_encoder(ids), self.image_proj(patches) + self.image_pos], dim=1)

    def denoise(self, x_t: torch.Tensor, sigma: torch.Tensor, descriptors: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Predicted clean latent ``(B, 3, T, 1, K)`` from a noisy one at noise level ``sigma`` (B,)."""
        b, _, t, _, k = x_t.shape
        desc = descriptors.to(x_t.dtype).permute(0, 2, 1).view(b, DESCRIPTOR_DIM, 1, 1, k).expand(b, DESCRIPTOR_DIM, t, 1, k)
        inp = torch.cat([x_t, desc], dim=1)
        return self.transformer(inp, timestep=sigma * 1000.0, encoder_hidden_states=context, return_dict=False)[0]


def first_frame_latent(batch: int, frames: int, slots: int, dtype=torch.float32) -> torch.Tensor:
    """Frame 0 of every track: no offset, visible. ``(B, 3, 1, 1, K)``."""
    z = torch.zeros(batch, LATENT_CHANNELS, 1, 1, slots, dtype=dtype)
    return torch.cat([z[:, :2], torch.ones_like(z[:, 2:])], dim=1)


def save(model: LatentVGM, folder: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> None:
    """Write ``latent_vgm.safetensors`` + ``latent_vgm.json`` (``state_dict`` overrides, e.g. EMA)."""
    save_model(model, folder, STEM, state_dict)


def load(path: str | Path | None = None) -> LatentVGM:
    """The shipped model (``path=None``), or from a folder / a ``.safetensors`` file. Raises ModelLoadError."""
    return load_model(path, ASSETS, STEM, LatentConfig, LatentVGM, "rulec toy train")
