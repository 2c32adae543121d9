"""The abstract syntax tree of a rules file: frozen pydantic models, each carrying its span.

The tree is what the text says, before any meaning is given to it: ``not``/``and``/``or``
are the same nodes for regions and for formulas (the checker decides which by type),
``<=`` is kept as written, ``let`` names are references. Spans are ``None`` only for
trees built by hand; :func:`strip_spans` removes them to compare trees by content.

One idiom walks the tree everywhere: a ``match`` statement on the node's class
(``case A.Not(operand=x):``), in the checker, the lowering and the printer alike (the
parser matches Lark's trees the same way, ``case Tree(data="not_expr", children=[x]):``).
Passes that only need to reach every sub-node use :func:`children`. What a pass learns
about a node is kept beside the tree in a :class:`NodeTable`, never in the nodes.
"""

from __future__ import annotations

from typing import Generic, Literal, Optional, TypeVar, Union

from pydantic import BaseModel, ConfigDict

from rulec.span import Span


class Node(BaseModel):
    # Validation schemas are built on first validated construction only: the parser builds
    # nodes with ``model_construct`` (its values are well-formed by the grammar), which keeps
    # ``rulec compile`` from paying pydantic's schema build at every start.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    span: Optional[Span] = None


# ------------------------------------------------------------------ expressions
class Name(Node):
    """A reference to a declared object, region or let."""

    id: str


class Number(Node):
    """A numeric literal; ``value`` is an ``int`` when written without point or exponent."""

    value: Union[int, float]


class Pixels(Node):
    """A length in pixels, ``2px``: only a ``grow``/``shrink`` radius (a bare number there is in
    normalized frame units). ``value`` is an ``int`` when written without a point; the checker
    reports a fractional one."""

    value: Union[int, float]


class String(Node):
    """A one-line string literal (a colour hex or an ``ask`` question), without its quotes."""

    value: str


class Keyword(Node):
    """``name=value`` inside a call."""

    name: str
    value: "Expr"


class Call(Node):
    """``func(arg, ..., key=value, ...)``: a primitive from the registry."""

    func: str
    args: tuple["Expr", ...] = ()
    keywords: tuple[Keyword, ...] = ()
    func_span: Optional[Span] = None


class Not(Node):
    """``not A``: complement of a region, or negation of a formula."""

    operand: "Expr"


class And(Node):
    """``A and B and ...``: intersection of regions, or conjunction of formulas."""

    operands: tuple["Expr", ...]


class Or(Node):
    """``A or B or ...``: union of regions, or disjunction of formulas."""

    operands: tuple["Expr", ...]


class Implies(Node):
    left: "Expr"
    right: "Expr"


class Minus(Node):
    """``R - S - ...``: region difference, left to right."""

    operands: tuple["Expr", ...]


class Compare(Node):
    """``m < n`` (also ``>``, ``<=``, ``>=``) between measures and numbers."""

    left: "Expr"
    op: Literal["<", ">", "<=", ">="]
    right: "Expr"


class Freeze(Node):
    """Postfix ``R at start``: the mask as detected on the first frame."""

    operand: "Expr"


class Window(Node):
    """``[start:stop]``, frames relative to the one evaluated (rulec.windows); either side may be omitted."""

    start: Optional["Expr"] = None
    stop: Optional["Expr"] = None


class Always(Node):
    window: Optional[Window] = None
    operand: "Expr"


class Eventually(Node):
    window: Optional[Window] = None
    operand: "Expr"


class AtStart(Node):
    """Prefix ``at start A``: the formula's value on the first frame."""

    operand: "Expr"


class AtEnd(Node):
    """Prefix ``at end A``: the formula's value on the last frame."""

    operand: "Expr"


class Next(Node):
    """Prefix ``next A``: A at the next frame (discrete time)."""

    operand: "Expr"


class Prev(Node):
    """Prefix ``prev A``: A at the previous frame."""

    operand: "Expr"


class Progress(Node):
    """``progress[a:b] m``: the measure keeps decreasing over the window."""

    window: Optional[Window] = None
    operand: "Expr"


class Until(Node):
    left: "Expr"
    right: "Expr"
    window: Optional[Window] = None


class Then(Node):
    """``A then B``: A at some frame of the window, B at a later frame."""

    left: "Expr"
    right: "Expr"
    window: Optional[Window] = None


class Quantifier(Node):
    """``all c, d in S: A`` / ``any c in S: A``: A for every (some) choice of distinct instances
    of the mask ``S``, each name bound to one instance followed over time (``track``)."""

    kind: Literal["all", "any"]
    names: tuple[Name, ...]
    domain: "Expr"
    body: "Expr"


Expr = Union[
    Name, Number, Pixels, String, Call, Not, And, Or, Implies, Minus, Compare, Freeze,
    Always, Eventually, AtStart, AtEnd, Next, Prev, Progress, Until, Then, Quantifier,
]


# ------------------------------------------------------------------ statements
class Task(Node):
    """``task NAME "instruction"``: the task header."""

    name: str
    instruction: Optional[str] = None


class Declaration(Node):
    """``object|region|let NAME = expr``."""

    role: Literal["object", "region", "let"]
    name: str
    value: Expr
    name_span: Optional[Span] = None


class Rule(Node):
    """``goal|process NAME : formula [weight W]``."""

    kind: Literal["goal", "process"]
    name: str
    formula: Expr
    weight: Optional[Number] = None
    name_span: Optional[Span] = None


Statement = Union[Task, Declaration, Rule]


class Program(Node):
    statements: tuple[Statement, ...] = ()


SPAN_FIELDS = ("span", "func_span", "name_span")


def make(cls, **fields):
    """Build a node without validation (the parser's values are well-formed); defaults filled in."""
    return cls.model_construct(**fields)


def strip_spans(node):
    """The same tree with every span set to ``None`` (for comparing trees by content)."""
    if isinstance(node, tuple):
        return tuple(strip_spans(n) for n in node)
    if not isinstance(node, Node):
        return node
    updates = {}
    for field in type(node).model_fields:
        value = getattr(node, field)
        updates[field] = None if field in SPAN_FIELDS else strip_spans(value)
    return type(node).model_construct(**updates)


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of a node, in source order."""
    out: list[Node] = []
    for field in type(node).model_fields:
        if field in SPAN_FIELDS:
            continue
        value = getattr(node, field)
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, Node))
    return tuple(out)


Value = TypeVar("Value")


class NodeTable(Generic[Value]):
    """What a pass found out about AST nodes (the checker's type of each expression, the
    bounds of each window), looked up by node *identity*.

    Nodes are frozen models that compare by content, and the same text written twice is two
    nodes that may mean different things (a name declared between them), so a node's content
    is no key. Identity is: the table holds every node it has a value for, so no node it knows
    is freed and no ``id`` is reused while the table lives.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Node, Value]] = {}

    def __setitem__(self, node: Node, value: Value) -> None:
        self._entries[id(node)] = (node, value)

    def __getitem__(self, node: Node) -> Value:
        return self._entries[id(node)][1]

    def __contains__(self, node: Node) -> bool:
        return id(node) in self._entries

    def setdefault(self, node: Node, default: Value) -> Value:
        """The node's value, first set to ``default`` if it has none."""
        if node not in self:
            self[node] = default
        return self[node]
