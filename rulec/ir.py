"""The graph IR: a typed DAG of primitive calls in topological order.

This is the contract between the compiler and the reward builder (:mod:`rulec.reward`):
``nodes[i].id == i``; a node's ``args`` only refer to earlier nodes; ``op`` names a
registry entry (:mod:`rulec.primitives.registry`); ``args`` follow the entry's ``params``
with keyword defaults filled in; ``inputs`` are the implicit tensors passed to the kernel
before the args (``"video"``, or ``"start"`` inside a mask frozen with ``at start``).
Identical sub-expressions are one node. No torch here. The reward reads the graph through
``Node``'s methods and does not import this module; :meth:`CompiledRules.to_reward` loads
the reward on first use (it needs torch), so the one import between them goes one way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal, Mapping, Optional, TypeVar, Union

from rulec.diagnostics import Diagnostic
from rulec.primitives.registry import REGISTRY, Kind
from rulec.span import Span

__all__ = ["Span", "Ref", "Const", "Node", "RuleIR", "Declaration", "CompiledRules", "Kind"]


@dataclass(frozen=True)
class Ref:
    """An argument that is the value of another node."""

    node: int


@dataclass(frozen=True)
class Const:
    """A constant argument (a number, a colour, a question, ``None`` for an open window side, or a
    quantifier's pieces needed per body)."""

    value: Union[float, int, str, None, tuple[int, ...]]

    def text(self) -> str:
        """How graph listings show it (``rulec compile`` text and dot)."""
        v = self.value
        if v is None:
            return "_"
        if isinstance(v, tuple):
            return f"{len(v)} choices"
        if isinstance(v, str):
            return repr(v)
        return f"{v:g}" if isinstance(v, float) else str(v)


Arg = Union[Ref, Const]
Value = TypeVar("Value")


@dataclass(frozen=True)
class Node:
    id: int
    op: str
    args: tuple[Arg, ...]
    kind: Kind
    inputs: tuple[str, ...]
    span: Optional[Span]
    label: str

    def refs(self) -> tuple[int, ...]:
        return tuple(a.node for a in self.args if isinstance(a, Ref))

    def arg(self, name: str) -> Arg:
        """The argument for the registry parameter ``name`` (args follow the entry's ``params``)."""
        return self.args[REGISTRY[self.op].position(name)]

    def arg_values(self, computed: Mapping[int, Value]) -> list[Value | float | int | str | None]:
        """The arguments as a kernel takes them: each ``Ref`` replaced by the value computed for its node."""
        return [computed[a.node] if isinstance(a, Ref) else a.value for a in self.args]


@dataclass(frozen=True)
class RuleIR:
    name: str
    kind: Literal["goal", "process"]
    weight: float
    root: int
    span: Span
    text: str  # canonical text of the rule's formula


@dataclass(frozen=True)
class Declaration:
    name: str
    role: Literal["object", "region", "let"]
    node: int
    span: Span


def _arg_json(a: Arg) -> dict:
    return {"ref": a.node} if isinstance(a, Ref) else {"const": a.value}


@dataclass(frozen=True)
class CompiledRules:
    """Checked rules as a graph, ready to become a reward (``to_reward``)."""

    source_name: str
    task_name: Optional[str]
    instruction: Optional[str]
    nodes: tuple[Node, ...]
    rules: tuple[RuleIR, ...]
    declarations: tuple[Declaration, ...]
    warnings: tuple[Diagnostic, ...] = ()
    num_frames: Optional[int] = None
    source: str = field(default="", repr=False, compare=False)  # the text, so later diagnostics can quote it

    # ---------------------------------------------------------------- queries
    def consumers(self) -> dict[int, int]:
        """How many distinct users (nodes and rules) each node has."""
        count = {n.id: 0 for n in self.nodes}
        for n in self.nodes:
            for r in set(n.refs()):
                count[r] += 1
        for rule in self.rules:
            count[rule.root] += 1
        return count

    def shared_nodes(self) -> tuple[int, ...]:
        """Nodes used by more than one node or rule: the work common sub-expressions save."""
        return tuple(i for i, c in self.consumers().items() if c > 1)

    def rule(self, name: str) -> RuleIR:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)

    # ---------------------------------------------------------------- exports
    def to_json(self) -> dict:
        return {
            "source": self.source_name,
            "task": self.task_name,
            "instruction": self.instruction,
            "num_frames": self.num_frames,
            "nodes": [
                {
                    "id": n.id,
                    "op": n.op,
                    "args": [_arg_json(a) for a in n.args],
                    "kind": n.kind.value,
                    "inputs": list(n.inputs),
                    "label": n.label,
                    "span": None if n.span is None else n.span.to_json(),
                }
                for n in self.nodes
            ],
            "rules": [
                {"name": r.name, "kind": r.kind, "weight": r.weight, "root": r.root, "text": r.text,
                 "span": r.span.to_json()}
                for r in self.rules
            ],
            "declarations": [
                {"name": d.name, "role": d.role, "node": d.node, "span": d.span.to_json()} for d in self.declarations
            ],
            "warnings": [w.to_json() for w in self.warnings],
        }

    def to_dot(self) -> str:
        """Graphviz text: one box per node (id, op, label), one house per rule."""
        lines = ["digraph rules {", "  rankdir=BT;", '  node [fontname="monospace", fontsize=10];']
        for n in self.nodes:
            consts = [a.text() for a in n.args if isinstance(a, Const)]
            head = f"#{n.id} {n.op}" + (f" {', '.join(consts)}" if consts else "")
            if n.inputs:
                head += f" [{', '.join(n.inputs)}]"
            lines.append(f"  n{n.id} [shape=box, label={json.dumps(head + chr(10) + n.label)}];")
            for r in n.refs():
                lines.append(f"  n{r} -> n{n.id};")
        for i, r in enumerate(self.rules):
            label = f"{r.kind} {r.name}" + ("" if r.weight == 1.0 else f" (weight {r.weight:g})")
            lines.append(f"  r{i} [shape=house, label={json.dumps(label)}];")
            lines.append(f"  n{r.root} -> r{i};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_reward(self, *args, **kwargs):
        """The differentiable reward module (:func:`rulec.reward.build_reward`), imported on
        first use so that compiling never loads torch."""
        from rulec.reward import build_reward

        return build_reward(self, *args, **kwargs)
