"""The one list of what exists: every primitive's signature, kind and documentation.

The compiler's checker reads signatures from here, the docs (``docs/primitives.md``)
are generated from here, and the VLM teacher's prompt is built from here. The
kernels (torch code) live in the sibling modules and are looked up by name through
:mod:`rulec.primitives.kernels`; this module must stay importable without torch so
that ``rulec compile`` starts fast.

Two families of entries:

* **functions** (``callable=True``): written by users as ``name(arg, ...)`` in the DSL,
  e.g. ``color("#e53935", tol=12)``, ``inside(agent, goal)``, ``speed(agent)``.
* **operators** (``callable=False``): language constructs the compiler lowers to graph
  nodes (``always``, ``and``, ``<``, region ``not``...). They are listed so that their
  kernels, their docs and the prompt come from the same place.

Kernel calling convention (see ``kernels.py``): ``kernel(sem, *implicit_inputs, *args)``
where ``sem`` is the semantics object (:class:`rulec.primitives.semantics.Exact` or
``Smooth``), ``implicit_inputs`` are the graph's input tensors named in
``PrimitiveSpec.inputs`` (``"video"``: ``(B, T, 3, H, W)``; ``"start"``: the first frame
``(B, 1, 3, H, W)``, detached), and ``args`` follow ``params`` in order, keyword
defaults already filled in by the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    """The types of the rules language."""

    MASK = "mask"  # soft mask (B, T|1, H, W) in [0, 1]; objects and regions
    SIGNAL = "signal"  # numeric per-frame signal (B, T|1)
    BOOL = "bool"  # per-frame signed margin (B, T|1); > 0 means "holds"
    NUMBER = "number"  # a constant (python float)
    INT = "int"  # a constant integer (pixels, frame indices)
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
    inputs: tuple[str, ...] = ()  # implicit graph inputs passed before args: "video", "start"
    callable: bool = True  # written as name(args) in the DSL
    syntax: str = ""  # how it is written, for operators
    example: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)

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


REGISTRY: dict[str, PrimitiveSpec] = {}


def register(spec: PrimitiveSpec) -> PrimitiveSpec:
    """Add a spec; names are unique."""
    if spec.name in REGISTRY:
        raise ValueError(f"primitive {spec.name!r} registered twice")
    REGISTRY[spec.name] = spec
    return spec


def functions() -> dict[str, PrimitiveSpec]:
    """The entries users call by name in the DSL."""
    return {n: s for n, s in REGISTRY.items() if s.callable}


def operators() -> dict[str, PrimitiveSpec]:
    """The entries that are language constructs."""
    return {n: s for n, s in REGISTRY.items() if not s.callable}


def lookup(name: str) -> PrimitiveSpec | None:
    return REGISTRY.get(name)


# The entries themselves are declared in ``specs.py`` (kept apart so this file stays the contract).
from rulec.primitives import specs as _specs  # noqa: E402,F401  (registers on import)
