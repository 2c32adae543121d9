"""Semantics as a swappable object: the same graph evaluated exactly or smoothly.

``Exact()`` gives classic STL robustness (hard min/max) and hard-thresholded detectors:
the verdict a scorer gives. ``Smooth(beta)`` gives differentiable lower bounds:
soft-min ``-LSE(-beta x)/beta`` (and/always) and log-mean-exp
``LSE(beta x)/beta - log(n)/beta`` (or/eventually). Both lie below their exact
counterpart, within ``log(n)/beta`` of it, so smooth <= exact for every formula whose
negations sit on atoms, and a positive smooth value means the rule really holds.

Sliding-window reductions (``window_min``/``window_max``) use the van Herk/Gil-Werman
split into blocks of the window's width (prefix and suffix scans per block): O(T) time and
memory whatever the width. ``until_scan``/``release_scan`` evaluate unbounded until/release
at every frame by a backward recursion over frames (see :func:`_backward_scan`): O(T).

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


def _sliding(z: Tensor, width: int, cumulate, combine, fill: float) -> Tensor:
    """``out[:, i]`` = the associative reduction of ``z[:, i : i + width]`` (clipped at the end).

    van Herk/Gil-Werman: in blocks of ``width`` frames, a window is the suffix of one block
    plus a prefix of the next (two disjoint pieces, so the reduction may be a sum too).
    ``cumulate(x, dim)`` is the running reduction, ``combine`` joins two pieces, ``fill``
    is the reduction's neutral element (finite).
    """
    batch, frames = z.shape
    blocks = -(-(frames + width) // width)
    padded = torch.cat([z, z.new_full((batch, blocks * width - frames), fill)], dim=1).view(batch, blocks, width)
    prefix = cumulate(padded, 2).reshape(batch, -1)
    suffix = cumulate(padded.flip(2), 2).flip(2).reshape(batch, -1)
    i = torch.arange(frames, device=z.device)
    head, tail = suffix[:, i], prefix[:, i + width - 1]
    aligned = (i % width == 0).unsqueeze(0)  # the window is exactly one block
    return torch.where(aligned, head, combine(head, tail))


def _backward_scan(maps: Tensor, identity: Tensor, compose, apply, x_end: Tensor) -> Tensor:
    """``u[:, t] = apply(maps[:, t], u[:, t + 1])`` for every t, with ``u[:, T] = x_end``.

    A sequential recursion in about 3*sqrt(T) vectorized steps and O(B*T) memory: frames are
    cut into blocks of k ~ sqrt(T); each block's maps are composed into one (``compose(f, g)``
    is ``f`` after ``g``), the values entering each block are found from the right, then
    every block runs its own recursion, all blocks at once.
    """
    batch, frames, dim = maps.shape
    k = max(1, math.isqrt(frames - 1) + 1)
    blocks = -(-frames // k)
    pad = blocks * k - frames
    if pad:
        maps = torch.cat([maps, identity.expand(batch, pad, dim)], dim=1)
    per_block = maps.view(batch, blocks, k, dim)
    summary = per_block[:, :, k - 1]
    for i in range(k - 2, -1, -1):
        summary = compose(per_block[:, :, i], summary)
    x, entering = x_end, []
    for j in range(blocks - 1, -1, -1):
        entering.append(x)
        x = apply(summary[:, j], x)
    u = torch.stack(entering[::-1], dim=1)
    out = []
    for i in range(k - 1, -1, -1):
        u = apply(per_block[:, :, i], u)
        out.append(u)
    return torch.stack(out[::-1], dim=2).reshape(batch, blocks * k)[:, :frames]


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

    def window_min(self, x: Tensor, width: int) -> Tensor:
        """``out[:, i] = min(x[:, i : i + width])`` over ``(B, T)`` (fewer frames near the end)."""
        raise NotImplementedError

    def window_max(self, x: Tensor, width: int) -> Tensor:
        raise NotImplementedError

    def until_scan(self, a: Tensor, b: Tensor) -> Tensor:
        """Unbounded ``a until b`` at every frame of ``(B, T)``:
        ``u_t = max_{j >= t} min(b_j, min_{t <= i < j} a_i)``."""
        raise NotImplementedError

    def release_scan(self, a: Tensor, b: Tensor) -> Tensor:
        """Its dual: ``r_t = min_{j >= t} max(b_j, max_{t <= i < j} a_i)``."""
        raise NotImplementedError

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

    def window_min(self, x, width):
        return _sliding(x, width, lambda v, d: torch.cummin(v, d).values, torch.minimum, _big(x))

    def window_max(self, x, width):
        return _sliding(x, width, lambda v, d: torch.cummax(v, d).values, torch.maximum, -_big(x))

    def until_scan(self, a, b):
        # u_t = max(b_t, min(a_t, u_{t+1})): each frame is a clamp map x -> max(p, min(q, x)),
        # and clamp maps compose into clamp maps: (p1, q1) after (p2, q2) = (max(p1, min(q1, p2)), min(q1, q2)).
        big = _big(a)

        def compose(f, g):
            return torch.stack([torch.maximum(f[..., 0], torch.minimum(f[..., 1], g[..., 0])),
                                torch.minimum(f[..., 1], g[..., 1])], dim=-1)

        def apply(f, x):
            return torch.maximum(f[..., 0], torch.minimum(f[..., 1], x))

        identity = torch.tensor([-big, big], dtype=a.dtype, device=a.device)
        return _backward_scan(torch.stack([b, a], dim=-1), identity, compose, apply, torch.full_like(a[:, 0], -big))

    def release_scan(self, a, b):
        return -self.until_scan(-a, -b)

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

    def window_min(self, x, width):
        return -_sliding(-self.beta * x, width, torch.logcumsumexp, torch.logaddexp, -_big(x)) / self.beta

    def window_max(self, x, width):
        frames = x.shape[1]
        count = (frames - torch.arange(frames, device=x.device)).clamp(max=width).to(x.dtype)
        lse = _sliding(self.beta * x, width, torch.logcumsumexp, torch.logaddexp, -_big(x))
        return (lse - count.log()) / self.beta

    def until_scan(self, a, b):
        """``u_t = lme_w(b_t, smin(a_t, u_{t+1}))``, u_{T-1} = b_{T-1}: a log-mean-exp that
        weighs b_t by ``w = 1/n_t`` (n_t witnesses left), so unrolled it is a log-MEAN-exp
        over the witnesses and the gap to exact stays below ``2 log(n)/beta`` for any T
        (equal weights would lose log(2)/beta per frame). Each step is <= its exact step
        and monotone, so smooth <= exact."""
        n, keep = self._witnesses(a)
        m00 = torch.zeros_like(a)
        m01 = -self.beta * a
        m10 = self.beta * b - n.log()
        m11 = torch.logaddexp(self.beta * (b - a) - n.log(), keep)
        return self._mobius_scan(torch.stack([m00, m01, m10, m11], dim=-1), b)

    def release_scan(self, a, b):
        """``r_t = smin(b_t, lme_w(a_t, r_{t+1}))``, the same weighting; smooth <= exact."""
        n, keep = self._witnesses(a)
        m00 = torch.logaddexp(torch.zeros_like(a), self.beta * (a - b) - n.log())
        m01 = keep - self.beta * b
        m10 = self.beta * a - n.log()
        m11 = keep.expand_as(a)
        return self._mobius_scan(torch.stack([m00, m01, m10, m11], dim=-1), b)

    @staticmethod
    def _witnesses(a: Tensor) -> tuple[Tensor, Tensor]:
        """n_t = T - t witnesses left, and log((n_t - 1) / n_t) (finite: the last frame is set apart)."""
        frames = a.shape[1]
        n = (frames - torch.arange(frames, device=a.device)).to(a.dtype).expand_as(a)
        keep = torch.log((n - 1).clamp(min=1) / n)
        return n, keep

    def _mobius_scan(self, maps: Tensor, b: Tensor) -> Tensor:
        """Run a recursion whose steps are Moebius maps of ``exp(-beta u)`` (2x2 matrices,
        kept as log entries [m00, m01, m10, m11]); the last frame is the constant ``b``."""
        big = _big(b)
        last = torch.stack([torch.full_like(b[:, -1], -big), -self.beta * b[:, -1],
                            torch.full_like(b[:, -1], -big), torch.zeros_like(b[:, -1])], dim=-1)
        maps = torch.cat([maps[:, :-1], last.unsqueeze(1)], dim=1)
        beta = self.beta

        def compose(f, g):
            f00, f01, f10, f11 = f.unbind(-1)
            g00, g01, g10, g11 = g.unbind(-1)
            c = torch.stack([torch.logaddexp(f00 + g00, f01 + g10), torch.logaddexp(f00 + g01, f01 + g11),
                             torch.logaddexp(f10 + g00, f11 + g10), torch.logaddexp(f10 + g01, f11 + g11)], dim=-1)
            c = c - c.amax(-1, keepdim=True).detach()  # a Moebius map is the same map at any scale
            return c.clamp(min=-big)

        def apply(f, u):
            f00, f01, f10, f11 = f.unbind(-1)
            z = -beta * u
            return -(torch.logaddexp(f00 + z, f01) - torch.logaddexp(f10 + z, f11)) / beta

        identity = torch.tensor([0.0, -big, -big, 0.0], dtype=b.dtype, device=b.device)
        return _backward_scan(maps, identity, compose, apply, torch.zeros_like(b[:, 0]))

    def step(self, z, width):
        return torch.sigmoid(z / width)

    def intersect(self, a, b):
        return a * b

    def union(self, a, b):
        return a + b - a * b
