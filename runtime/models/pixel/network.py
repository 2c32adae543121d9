"""The embedded tiny VGM: a diffusers ``WanTransformer3DModel`` in pixel space.

Why pixel space: at 32x32 a video is already as small as a VAE latent would be, and a
VAE would need its own training; the lessons' probe measured ~2 s per batch-16 step in
pixel space on 2 cores, which fits the 90-minute training budget.

Conditioning, as image-to-video models do it:
- the clean task image is placed in-context at frame 0 of the noisy input (and the
  sampler re-imposes it after every step), and also concatenated as 3 channels to every
  frame with a 1-channel first-frame mask, so each token sees the scene at its place;
- a caption from the closed vocabulary of :mod:`rulec.runtime.tasks.world` goes through a tiny
  word embedding (plus position embedding) into ``encoder_hidden_states``; words outside
  the vocabulary are dropped, so an empty or free-form prompt still works.

The network predicts the clean video as a residual over the first frame (x0 = first +
output), so copying unchanged scenery is its default; the sampler turns that into the
flow-matching velocity ``(x_t - x0) / sigma``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from rulec.runtime.tasks import world
from rulec.runtime.models.weights import ASSETS, ModelLoadError, config_from_json, config_to_json, load_model, save_model

WEIGHTS_FILE = "toy_vgm.safetensors"
CONFIG_FILE = "toy_vgm.json"

VOCAB: tuple[str, ...] = (
    ("<pad>",) + tuple(world.PALETTE) + ("disc", "moves", "stays", "still", "then") + world.DIRECTIONS
)


#: Load errors are the shared :class:`~rulec.runtime.models.weights.ModelLoadError`.
ToyModelError = ModelLoadError


@dataclass
class ToyConfig:
    """Everything needed to rebuild the model; saved as JSON beside the weights."""

    num_layers: int = 4
    num_attention_heads: int = 4
    attention_head_dim: int = 32
    ffn_dim: int = 256
    patch_size: tuple[int, int, int] = (1, 4, 4)
    text_dim: int = 64
    text_len: int = 16
    frame_size: int = world.FRAME_SIZE
    num_frames: int = world.NUM_FRAMES
    vocab: tuple[str, ...] = VOCAB
    prediction: str = "x0_residual"
    default_steps: int = 8
    training: dict = field(default_factory=dict)  # steps, wall time, seed, recipe (informative)

    @property
    def in_channels(self) -> int:
        return 3 + 3 + 1  # noisy video, first frame, first-frame mask

    def wan_kwargs(self) -> dict:
        return tiny_wan_kwargs(self, tuple(self.patch_size), self.in_channels, 3)

    def to_json(self) -> str:
        return config_to_json(self)

    @classmethod
    def from_json(cls, text: str, where: str = "config") -> ToyConfig:
        return config_from_json(cls, text, where)


def tiny_wan_kwargs(config, patch_size: tuple[int, int, int], in_channels: int, out_channels: int) -> dict:
    """``WanTransformer3DModel`` arguments of an embedded model: its sizes from ``config``, the rest fixed."""
    return dict(
        patch_size=patch_size,
        num_attention_heads=config.num_attention_heads,
        attention_head_dim=config.attention_head_dim,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=config.text_dim,
        freq_dim=256,
        ffn_dim=config.ffn_dim,
        num_layers=config.num_layers,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,
    )


def tokenize(caption: str, vocab: tuple[str, ...], length: int) -> list[int]:
    """Word ids of the caption's in-vocabulary words, padded/truncated to ``length``."""
    index = {w: i for i, w in enumerate(vocab)}
    words = re.findall(r"[a-z]+(?:-[a-z]+)?", caption.lower())
    ids = [index[w] for w in words if w in index][:length]
    return ids + [0] * (length - len(ids))


class CaptionEncoder(nn.Module):
    """Word + position embedding of a closed-vocabulary caption -> (B, L, text_dim)."""

    def __init__(self, vocab_size: int, text_len: int, text_dim: int):
        super().__init__()
        self.words = nn.Embedding(vocab_size, text_dim)
        self.positions = nn.Parameter(torch.zeros(text_len, text_dim))
        nn.init.normal_(self.words.weight, std=0.5)
        nn.init.normal_(self.positions, std=0.1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.words(ids) + self.positions


class CaptionedWan(nn.Module):
    """A ``WanTransformer3DModel`` and a closed-vocabulary caption encoder: what both embedded
    networks are built from (their ``config`` says the sizes, the vocabulary and ``wan_kwargs``)."""

    def __init__(self, config):
        super().__init__()
        from diffusers import WanTransformer3DModel

        self.config = config
        self.transformer = WanTransformer3DModel(**config.wan_kwargs())
        self.caption_encoder = CaptionEncoder(len(config.vocab), config.text_len, config.text_dim)

    def caption_ids(self, captions: list[str]) -> torch.Tensor:
        return torch.tensor([tokenize(c, self.config.vocab, self.config.text_len) for c in captions])


class ToyVGM(CaptionedWan):
    """The transformer plus its caption encoder; ``denoise`` predicts the clean video."""

    def denoise(self, x_t: torch.Tensor, sigma: torch.Tensor, first: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """Predicted clean video, model space [-1, 1].

        x_t (B, 3, T, H, W) noisy video whose frame 0 is the clean first frame;
        sigma (B,) noise level in [0, 1]; first (B, 3, H, W) in [-1, 1]; ids (B, L).
        """
        b, _, t, h, w = x_t.shape
        first_v = first.unsqueeze(2).expand(b, 3, t, h, w)
        mask = torch.zeros(b, 1, t, h, w, dtype=x_t.dtype, device=x_t.device)
        mask[:, :, 0] = 1.0
        inp = torch.cat([x_t, first_v, mask], dim=1)
        text = self.caption_encoder(ids.to(x_t.device))
        out = self.transformer(inp, timestep=sigma * 1000.0, encoder_hidden_states=text, return_dict=False)[0]
        return first_v + out


STEM = WEIGHTS_FILE.removesuffix(".safetensors")


def save(model: ToyVGM, folder: str | Path, state_dict: dict[str, torch.Tensor] | None = None) -> None:
    """Write ``toy_vgm.safetensors`` + ``toy_vgm.json`` (``state_dict`` overrides, e.g. EMA)."""
    save_model(model, folder, STEM, state_dict)


def load(path: str | Path | None = None) -> ToyVGM:
    """Load the shipped model (``path=None``), or from a folder / a ``.safetensors`` file.

    The config JSON is read from the same folder. Raises :class:`ToyModelError`.
    """
    return load_model(path, ASSETS, STEM, ToyConfig, ToyVGM, "rulec toy train --model pixel")
