"""What a registry entry is: the language's types, a parameter, a primitive's signature and docs.

Only the shapes live here; the entries themselves are :mod:`rulec.primitives.registry`,
which imports this module (never the other way round). Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    """The types of the rules language."""

    MASK = "mask"  # soft mask (B, T|1, H, W) in [0, 1]; objects and regions
    SIGNAL = "signal"  # numeric per-frame signal (B, T|1)
    BOOL = "bool"  # per-frame signed margin (B, T|1); > 0 means "holds"
    NUMBER = "number"  # a constant (python float)
    INT = "int"  # a constant integer (frame indices, counts)
    RADIUS = "radius"  # a constant length: normalized frame units (0.03), or whole pixels written 2px
    STRING = "string"  # a quoted string ("question" for ask)
    COLOR = "color"  # a hex colour literal "#rrggbb"


@dataclass(frozen=True)
class Param:
    """One argument of a primitive. Parameters with a default are keyword arguments in the DSL."""

    name: str
    kind: Kind
    default: float | int | str | None = None
    doc: str = ""

    @property
    def keyword(self) -> bool:
        return self.default is not None


@dataclass(frozen=True)
class PrimitiveSpec:
    """Signature and documentation of one primitive or operator."""

    name: str  # DSL name for functions; graph op name for operators
    category: str  # detector | region | measure | atom | comparison | logic | temporal
    params: tuple[Param, ...]
    result: Kind
    doc: str  # what it means, one or two sentences
    exact: str  # exact semantics, one line
    smooth: str  # smooth semantics, one line
    inputs: tuple[str, ...] = ()  # implicit graph inputs passed before args: "video", "start", "tracks" (the track states)
    callable: bool = True  # written as name(args) in the DSL
    syntax: str = ""  # how it is written, for operators
    example: str = ""
    #: arguments the compiler appends after ``params`` (not written in the DSL), e.g. present's
    #: ``first``: the object frozen on the first frame
    appended: tuple[str, ...] = ()

    def position(self, name: str) -> int:
        """Where the parameter ``name`` stands in a graph node's ``args`` (which follow ``params``,
        then ``appended``)."""
        for i, p in enumerate(self.params):
            if p.name == name:
                return i
        if name in self.appended:
            return len(self.params) + self.appended.index(name)
        raise KeyError(f"{self.name} has no parameter {name!r}")

    def signature(self) -> str:
        """Human-readable signature, e.g. ``inside(a: mask, b: mask) -> bool``."""
        if not self.callable:
            return self.syntax or self.name
        parts = []
        for p in self.params:
            if p.keyword:
                parts.append(f"{p.name}: {p.kind.value} = {p.default!r}")
            else:
                parts.append(f"{p.name}: {p.kind.value}")
        return f"{self.name}({', '.join(parts)}) -> {self.result.value}"
