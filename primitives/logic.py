"""Logical operators on signed margins. Negation is pushed down to atoms by the
compiler, so ``neg`` only ever wraps an atom or a comparison."""

from __future__ import annotations

import torch
from torch import Tensor

from rulec.primitives.conventions import EMPTY_MARGIN
from rulec.primitives.semantics import Semantics


def _stacked(margins: tuple[Tensor, ...]) -> Tensor:
    if not margins:
        raise ValueError("and/or need at least one operand")
    return torch.stack(torch.broadcast_tensors(*margins), dim=-1)


def and_(sem: Semantics, *margins: Tensor) -> Tensor:
    """All hold: (soft-)min over the operands (n-ary)."""
    if len(margins) == 1:
        return margins[0]
    return sem.min(_stacked(margins), dim=-1)


def or_(sem: Semantics, *margins: Tensor) -> Tensor:
    """Any holds: max (exact) or log-mean-exp (smooth) over the operands (n-ary)."""
    if len(margins) == 1:
        return margins[0]
    return sem.max(_stacked(margins), dim=-1)


def neg(sem: Semantics, a: Tensor) -> Tensor:
    """Negation of an atom's margin."""
    return -a


def _instances(sem: Semantics, count: Tensor, needs: tuple[int, ...], bodies: tuple[Tensor, ...], reduce, empty: float) -> Tensor:
    """A quantifier's bodies reduced over the choices of instances the first frame has:
    choice i counts when ``count`` (pieces of the domain) at frame 0 is at least ``needs[i]``."""
    stacked = _stacked(bodies)
    have = count.detach()[:, :1, None]
    valid = have >= torch.tensor(needs, dtype=have.dtype, device=have.device)
    return reduce(stacked, dim=-1, valid=valid, empty=empty)


def forall(sem: Semantics, count: Tensor, needs: tuple[int, ...], *bodies: Tensor) -> Tensor:
    """``all c in S: A``: A for every choice of instances (soft-min); vacuously true (+1) without one."""
    return _instances(sem, count, needs, bodies, sem.min, EMPTY_MARGIN)


def exists(sem: Semantics, count: Tensor, needs: tuple[int, ...], *bodies: Tensor) -> Tensor:
    """``any c in S: A``: A for some choice of instances (log-mean-exp of those); false (-1) without one."""
    return _instances(sem, count, needs, bodies, sem.max, -EMPTY_MARGIN)
