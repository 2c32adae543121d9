"""The object-centric model's fixed decoder: sprites shifted by per-frame offsets over the background.

The latent "video" is ``(B, 3, T, 1, K)``: per object slot and frame an offset (dx, dy)
from its frame-0 place and a visibility. Two renders of one latent:

* **soft** (optimization): bilinear ``grid_sample`` of each sprite at its real-valued offset,
  alpha = clamp((vis + 1) / 2, 0, 1): differentiable in offsets and visibility;
* **hard** (the saved, scored video): offsets rounded to whole pixels, visible iff vis > 0,
  and an object whose offset never leaves :data:`DEAD_ZONE_PX` of its start is drawn
  exactly still (a never-moving pad must not drift by one rounded pixel).

Hidden parts of sprites (what another object covers in the task image) are drawn first,
then still objects in slot order (:mod:`latent_scene`), then moving ones on top of them.

Both agree exactly at whole-pixel offsets with vis = +-1 (a test); the optimizer picks
steps on the soft render and confirms verdicts on the hard one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: Latent offset units: latent 1.0 = a quarter of the frame's width (or height).
OFFSET_UNITS = 4.0
#: Hard render: objects whose offset stays within this many pixels of the start are still.
DEAD_ZONE_PX = 1.0


def offsets_px(latent: Tensor, size: tuple[int, int]) -> tuple[Tensor, Tensor]:
    """Latent ``(B, C, T, 1, K)`` -> offsets in pixels ``(dx, dy)``, each ``(B, T, K)``."""
    h, w = size
    return latent[:, 0, :, 0, :] * (w / OFFSET_UNITS), latent[:, 1, :, 0, :] * (h / OFFSET_UNITS)


def latent_from_px(dx: Tensor, dy: Tensor, size: tuple[int, int], vis: Tensor | None = None) -> Tensor:
    """Inverse of :func:`offsets_px`: pixel offsets ``(B, T, K)`` (and visibility) -> latent."""
    h, w = size
    vis = torch.ones_like(dx) if vis is None else vis
    return torch.stack([dx * (OFFSET_UNITS / w), dy * (OFFSET_UNITS / h), vis], dim=1).unsqueeze(3)


def render(scene: dict[str, Tensor], latent: Tensor, *, hard: bool) -> Tensor:
    """Frames ``(B, T, 3, H, W)`` in [0, 1] for a batched scene (:func:`latent_scene.stack`)."""
    background, colours, masks, valid = scene["background"], scene["colours"], scene["masks"], scene["valid"]
    b, k, h, w = masks.shape
    t = latent.shape[2]
    dtype = latent.dtype
    dx, dy = offsets_px(latent, (h, w))
    vis = latent[:, 2, :, 0, :]
    moving = moves(dx.detach(), dy.detach())  # (B, K)
    if hard:
        dx = torch.where(moving.unsqueeze(1), dx.round(), torch.zeros_like(dx))
        dy = torch.where(moving.unsqueeze(1), dy.round(), torch.zeros_like(dy))
        opacity = (vis > 0).to(dtype)
    else:
        # a still object is drawn where the saved video draws it, exactly at its start (no
        # sub-pixel blur of its edges for the reward to see), its offset's gradient kept
        still = ~moving.unsqueeze(1)
        dx = torch.where(still, dx - dx.detach(), dx)
        dy = torch.where(still, dy - dy.detach(), dy)
        opacity = ((vis + 1.0) / 2.0).clamp(0.0, 1.0)
    opacity = opacity * valid[:, None, :].to(dtype)

    xs = (torch.arange(w, dtype=dtype) + 0.5) * (2.0 / w) - 1.0
    ys = (torch.arange(h, dtype=dtype) + 0.5) * (2.0 / h) - 1.0
    base = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)  # (H, W, 2) as (x, y)
    shift = torch.stack([dx * (2.0 / w), dy * (2.0 / h)], dim=-1)  # (B, T, K, 2)
    grid = base.view(1, 1, 1, h, w, 2) - shift.view(b, t, k, 1, 1, 2)
    # each sprite in two layers: the part others hide in the image (drawn below everything) and the rest
    hidden = scene["hidden"].to(dtype)
    layers = torch.cat([hidden, masks.to(dtype) - hidden], dim=1)  # (B, 2K, H, W)
    grid = grid.repeat(1, 1, 2, 1, 1, 1)
    sprites = layers.unsqueeze(1).expand(b, t, 2 * k, h, w).reshape(b * t * 2 * k, 1, h, w)
    moved = F.grid_sample(sprites, grid.reshape(b * t * 2 * k, h, w, 2), mode="nearest" if hard else "bilinear",
                          padding_mode="zeros", align_corners=False)
    alpha = moved.view(b, t, 2 * k, 1, h, w) * opacity.repeat(1, 1, 2).view(b, t, 2 * k, 1, 1, 1)

    # z-order: hidden parts in slot order, then still objects in slot order, then moving ones on top
    slots = torch.arange(k)
    order = torch.cat([slots.expand(b, k), k + torch.argsort(moving.long() * k + slots, dim=1)], dim=1)  # (B, 2K)
    frame = background.to(dtype).unsqueeze(1).expand(b, t, 3, h, w)
    rows = torch.arange(b)
    for rank in range(2 * k):
        layer = order[:, rank]
        a = alpha[rows, :, layer]  # (B, T, 1, H, W)
        frame = frame * (1.0 - a) + colours[rows, layer % k].to(dtype).view(b, 1, 3, 1, 1) * a
    return frame


def moves(dx: Tensor, dy: Tensor) -> Tensor:
    """Which objects move at all ``(B, K)``: the offset leaves :data:`DEAD_ZONE_PX` in some frame."""
    return torch.maximum(dx.abs(), dy.abs()).amax(dim=1) >= DEAD_ZONE_PX
