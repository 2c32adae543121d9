"""The object-centric model's fixed encoder: a task image -> background + object sprites.

Why a fixed encoder: the embedded model should only decide *where objects go*, never
how they look, so its mistakes are logical (wrong path, through a wall, wrong object
moved, vanishing) rather than drawing errors (growing, splitting, smearing blobs).

Rules (documented in docs/toy-model.md):

* the background colour is the most frequent colour of the image;
* every other exact colour with at least :data:`MIN_OBJECT_PIXELS` pixels is one object,
  all its connected pieces together (maze walls of one colour are one object);
* at most :data:`MAX_OBJECTS` objects: the smallest ones (those that can move); pixels of
  colours left out stay in the static background image, so nothing drawn is lost;
* slot order: objects partly hidden in the image first, then larger before smaller. The
  renderer draws still objects in slot order and moving ones on top of them, so an agent
  passing over a wall or a pad stays visible as such;
* a sprite is completed under the smaller objects that cover it in the image, where its
  shape is unambiguous (:func:`complete_under`): the pad under a disc that starts on it
  is a whole pad once the disc leaves (a larger object is taken to lie under a smaller one).
  The hidden part is drawn below every visible part, so frame 0 is always the image itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from rulec.frames import to_float
from rulec.runtime.tasks import world

MAX_OBJECTS = 8
MIN_OBJECT_PIXELS = 2
#: Descriptor channels per object token (see :func:`descriptors`).
DESCRIPTOR_DIM = 13


@dataclass
class Scene:
    """One encoded task image. ``K`` = :data:`MAX_OBJECTS` slots, unused ones ``valid=False``."""

    background: torch.Tensor  # (3, H, W) in [0, 1]: the image with every object removed
    colours: torch.Tensor  # (K, 3) in [0, 1]
    masks: torch.Tensor  # (K, H, W) in {0, 1}: sprites at their frame-0 place, z-order by slot
    hidden: torch.Tensor  # (K, H, W) in {0, 1}: the part of each sprite that others hide in the image
    valid: torch.Tensor  # (K,) bool
    descriptors: torch.Tensor  # (K, DESCRIPTOR_DIM) what a token knows about its object
    names: tuple[str, ...]  # palette name (or hex) of each valid object, slot order

    @property
    def size(self) -> tuple[int, int]:
        return int(self.background.shape[-2]), int(self.background.shape[-1])


def colour_name(rgb: tuple[int, int, int]) -> str:
    """The palette name of an exact world colour, else its hex code."""
    for name, hex_colour in world.PALETTE.items():
        if world.hex_to_rgb(hex_colour) == tuple(int(v) for v in rgb):
            return name
    return "#%02x%02x%02x" % tuple(int(v) for v in rgb)


def caption_subject(caption: str) -> str | None:
    """The colour the caption makes the subject: the colour word before "disc" (else the first colour word)."""
    words = re.findall(r"[a-z]+", caption.lower())
    colours = [w for w in words if w in world.PALETTE]
    for a, b in zip(words, words[1:]):
        if a in world.PALETTE and b == "disc":
            return a
    return colours[0] if colours else None


def encode(image: np.ndarray, caption: str = "") -> Scene:
    """Encode a uint8 ``(H, W, 3)`` task image (and its caption, for the subject flag)."""
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"encode needs a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    h, w, _ = image.shape
    flat = image.reshape(-1, 3)
    palette, inverse, counts = np.unique(flat, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(h, w)
    bg = int(np.argmax(counts))
    candidates = [i for i in range(len(palette)) if i != bg and counts[i] >= MIN_OBJECT_PIXELS]
    candidates = sorted(candidates, key=lambda i: (counts[i], tuple(palette[i])))[:MAX_OBJECTS]
    smaller = {i: np.isin(inverse, [j for j in candidates if counts[j] < counts[i]]) for i in candidates}
    sprites = {i: complete_under(inverse == i, smaller[i]) for i in candidates}
    # what another object hides lies under it: completed sprites first, then larger before smaller
    order = sorted(candidates, key=lambda i: (not bool((sprites[i] != (inverse == i)).any()), -counts[i], tuple(palette[i])))
    masks = np.zeros((MAX_OBJECTS, h, w), dtype=bool)
    hidden = np.zeros_like(masks)
    for slot, i in enumerate(order):
        masks[slot] = sprites[i]
        hidden[slot] = sprites[i] & (inverse != i)

    background = image.copy()
    background[np.isin(inverse, order)] = palette[bg]
    subject = caption_subject(caption)
    names = tuple(colour_name(tuple(palette[i])) for i in order)
    desc = np.zeros((MAX_OBJECTS, DESCRIPTOR_DIM), dtype=np.float32)
    colours = np.zeros((MAX_OBJECTS, 3), dtype=np.float32)
    for slot, i in enumerate(order):
        colours[slot] = palette[i] / 255.0
        desc[slot] = descriptors(masks[slot], colours[slot], is_subject=names[slot] == subject)
    valid = np.zeros(MAX_OBJECTS, dtype=bool)
    valid[: len(order)] = True
    return Scene(
        background=to_float(background),
        colours=torch.from_numpy(colours),
        masks=torch.from_numpy(masks.astype(np.float32)),
        hidden=torch.from_numpy(hidden.astype(np.float32)),
        valid=torch.from_numpy(valid),
        descriptors=torch.from_numpy(desc),
        names=names,
    )


def complete_under(mask: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """``mask`` with the pixels other objects hide from it, where the shape is unambiguous:
    a rectangle whose missing pixels are all covered (a pad with a disc on its edge), or an
    enclosed hole lying wholly under ``covered``. A hole that shows background (a maze cell) stays open."""
    ys, xs = np.nonzero(mask)
    box = np.zeros_like(mask)
    box[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1] = True
    if (box & ~mask & ~covered).sum() == 0:
        return box
    holes, n = ndimage.label(ndimage.binary_fill_holes(mask) & ~mask)
    out = mask.copy()
    for index in range(1, n + 1):
        hole = holes == index
        if covered[hole].all():
            out |= hole
    return out


def descriptors(mask: np.ndarray, colour: np.ndarray, is_subject: bool) -> np.ndarray:
    """A token's view of its object, in normalized frame units:
    colour (3), area x10, centroid (x, y), bounding box (x0, y0, x1, y1), pieces / 10,
    named as the caption's subject, slot used."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    pieces = ndimage.label(mask, structure=np.ones((3, 3)))[1]
    return np.array([
        *colour,
        10.0 * mask.mean(),
        (xs.mean() + 0.5) / w, (ys.mean() + 0.5) / h,
        xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h,
        min(pieces, 10) / 10.0,
        float(is_subject),
        1.0,
    ], dtype=np.float32)


def stack(scenes: list[Scene]) -> dict[str, torch.Tensor]:
    """Batch scenes of one size: background (B,3,H,W), colours (B,K,3), masks and hidden (B,K,H,W), valid, descriptors."""
    sizes = {s.size for s in scenes}
    if len(sizes) != 1:
        raise ValueError(f"scenes of different sizes cannot be batched: {sorted(sizes)}")
    return {
        "background": torch.stack([s.background for s in scenes]),
        "colours": torch.stack([s.colours for s in scenes]),
        "masks": torch.stack([s.masks for s in scenes]),
        "hidden": torch.stack([s.hidden for s in scenes]),
        "valid": torch.stack([s.valid for s in scenes]),
        "descriptors": torch.stack([s.descriptors for s in scenes]),
    }
