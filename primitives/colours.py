"""The one parser of ``#rrggbb`` colours, shared by the compiler (detectors, explain) and the
runtime (the task world, its scorers, the embedded model). Torch-free, imports nothing of rulec."""

from __future__ import annotations

_HEX = frozenset("0123456789abcdefABCDEF")


def hex_to_rgb(hex_colour: str) -> tuple[int, int, int]:
    """``"#e53935"`` -> ``(229, 57, 53)``; a clear ValueError for anything else."""
    h = hex_colour[1:] if isinstance(hex_colour, str) and hex_colour.startswith("#") else None
    if h is None or len(h) != 6 or any(c not in _HEX for c in h):
        raise ValueError(f"expected a colour like '#rrggbb', got {hex_colour!r}")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def hex_to_rgb01(hex_colour: str) -> tuple[float, float, float]:
    """``"#e53935"`` -> RGB in [0, 1] (``hex_to_rgb / 255``); a clear ValueError for anything else."""
    r, g, b = hex_to_rgb(hex_colour)
    return r / 255.0, g / 255.0, b / 255.0
