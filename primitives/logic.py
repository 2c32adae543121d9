"""Logical operators on signed margins. Negation is pushed down to atoms by the
compiler, so ``neg`` only ever wraps an atom or a comparison."""

from __future__ import annotations

import torch
from torch import Tensor

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
