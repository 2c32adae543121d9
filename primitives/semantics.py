"""Semantics as a swappable object: the same graph evaluated exactly or smoothly.

``Exact()`` gives classic STL robustness (hard min/max) and hard-thresholded detectors:
the verdict a scorer gives. ``Smooth(beta)`` gives differentiable lower bounds:
soft-min ``-LSE(-beta x)/beta`` (and/always) and log-mean-exp
``LSE(beta x)/beta - log(n)/beta`` (or/eventually). Both lie below their exact
counterpart, within ``log(n)/beta`` of it, so smooth <= exact for every formula whose
negations sit on atoms, and a positive smooth value means the rule really holds.

Masked reductions take ``valid`` (a bool tensor broadcastable to ``x``); invalid
entries are replaced by dtype-aware finite fills (never ``1e9`` or ``inf``) and rows with
no valid entry return ``empty``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rulec.primitives.conventions import EMPTY_MARGIN


def _big(x: Tensor) -> float:
    """A large finite number for x's dtype, far from overflow even after a few sums."""
    return torch.finfo(x.dtype).max / 8


class Semantics:
    """Interface: reductions over a dimension, running (prefix) reductions, detector steps."""

    is_exact: bool = True

    def min(self, x: Tensor, dim: int = -1, valid: Tensor | None = None, empty: float = EMPTY_MARGIN) -> Tensor:
        raise NotImplementedError

    def max(self, x: Tensor, dim: int = -1, valid: Tensor | None = None, empty: float = -EMPTY_MARGIN) -> Tensor:
        raise NotImplementedError

    def cummin(self, x: Tensor, dim: int = -1, valid: Tensor | None = None) -> Tensor:
        """Running min over entries ``<= k`` (valid ones only). Positions whose prefix
        has no valid entry hold a large finite value: callers mask them."""
        raise NotImplementedError

    def cummax(self, x: Tensor, dim: int = -1, valid: Tensor | None = None) -> Tensor:
        raise NotImplementedError

    def suffix_min(self, x: Tensor, dim: int = -1) -> Tensor:
        """``out[k] = min(x[k:])`` along ``dim``."""
        return self.cummin(x.flip(dim), dim).flip(dim)

    def suffix_max(self, x: Tensor, dim: int = -1) -> Tensor:
        """``out[k] = max(x[k:])`` along ``dim``."""
        return self.cummax(x.flip(dim), dim).flip(dim)

    def step(self, z: Tensor, width: float) -> Tensor:
        """Detector threshold: ``z > 0`` (exact) or ``sigmoid(z / width)`` (smooth)."""
        raise NotImplementedError

    def intersect(self, a: Tensor, b: Tensor) -> Tensor:
        raise NotImplementedError

    def union(self, a: Tensor, b: Tensor) -> Tensor:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.__dict__.items()))))


class Exact(Semantics):
    """Hard min/max; detectors are hard thresholds. Gives the verdict."""

    is_exact = True

    def __repr__(self) -> str:
        return "Exact()"

    def min(self, x, dim=-1, valid=None, empty=EMPTY_MARGIN):
        if valid is None:
            return x.amin(dim)
        valid = valid.expand_as(x)
        out = torch.where(valid, x, _big(x)).amin(dim)
        return torch.where(valid.any(dim), out, torch.full_like(out, empty))

    def max(self, x, dim=-1, valid=None, empty=-EMPTY_MARGIN):
        if valid is None:
            return x.amax(dim)
        valid = valid.expand_as(x)
        out = torch.where(valid, x, -_big(x)).amax(dim)
        return torch.where(valid.any(dim), out, torch.full_like(out, empty))

    def cummin(self, x, dim=-1, valid=None):
        if valid is not None:
            x = torch.where(valid.expand_as(x), x, _big(x))
        return torch.cummin(x, dim).values

    def cummax(self, x, dim=-1, valid=None):
        if valid is not None:
            x = torch.where(valid.expand_as(x), x, -_big(x))
        return torch.cummax(x, dim).values

    def step(self, z, width):
        return (z > 0).to(z.dtype)

    def intersect(self, a, b):
        return torch.minimum(a, b)

    def union(self, a, b):
        return torch.maximum(a, b)


class Smooth(Semantics):
    """Soft-min and log-mean-exp lower bounds with sharpness ``beta``; sigmoid detectors."""

    is_exact = False

    def __init__(self, beta: float = 10.0):
        beta = float(beta)
        if not (beta > 0 and math.isfinite(beta)):
            raise ValueError(f"Smooth(beta): beta must be a positive finite number, got {beta!r}")
        self.beta = beta

    def __repr__(self) -> str:
        return f"Smooth(beta={self.beta:g})"

    def min(self, x, dim=-1, valid=None, empty=EMPTY_MARGIN):
        z = -self.beta * x
        if valid is None:
            return -torch.logsumexp(z, dim) / self.beta
        valid = valid.expand_as(x)
        out = -torch.logsumexp(torch.where(valid, z, -_big(x)), dim) / self.beta
        return torch.where(valid.any(dim), out, torch.full_like(out, empty))

    def max(self, x, dim=-1, valid=None, empty=-EMPTY_MARGIN):
        z = self.beta * x
        if valid is None:
            return (torch.logsumexp(z, dim) - math.log(x.shape[dim])) / self.beta
        valid = valid.expand_as(x)
        count = valid.sum(dim).clamp(min=1).to(x.dtype)
        out = (torch.logsumexp(torch.where(valid, z, -_big(x)), dim) - count.log()) / self.beta
        return torch.where(valid.any(dim), out, torch.full_like(out, empty))

    def cummin(self, x, dim=-1, valid=None):
        z = -self.beta * x
        if valid is not None:
            z = torch.where(valid.expand_as(x), z, -_big(x))
        return -torch.logcumsumexp(z, dim) / self.beta

    def cummax(self, x, dim=-1, valid=None):
        z = self.beta * x
        if valid is None:
            count = torch.ones_like(x).cumsum(dim)
        else:
            valid = valid.expand_as(x)
            z = torch.where(valid, z, -_big(x))
            count = valid.to(x.dtype).cumsum(dim).clamp(min=1)
        return (torch.logcumsumexp(z, dim) - count.log()) / self.beta

    def step(self, z, width):
        return torch.sigmoid(z / width)

    def intersect(self, a, b):
        return a * b

    def union(self, a, b):
        return a + b - a * b
