"""Checked AST -> graph IR: negation pushed to the atoms, ``let`` inlined, shared nodes.

Decisions (docs/dsl.md, "Lowering"):

* ``not``/``and``/``or`` on masks are region algebra (``mask_not``/``mask_and``/``mask_or``);
  on formulas they are logic, with negation pushed down (NNF) so ``neg`` only wraps an
  atom, a comparison or ``ask``.
* ``and``/``or`` are n-ary and flattened (also through ``let`` names, so a ``let`` never
  changes the graph compared with writing its formula in place).
* ``next A`` = ``next(A, +1)``, ``not next A`` = ``next(not A, -1)`` (the fill past the last frame; ``prev`` alike).
* ``A then[a:b] B`` = ``eventually(and(A, eventually(B, None, None, 1)), a, b, 0)``;
  ``progress[a:b] m`` = ``always(decreasing(m), a, b, 0)``; ``A implies B`` = ``or(not A, B)``.
* ``grow``/``shrink`` get their radius's unit as a last argument: ``"px"`` for ``2px``, else
  ``"frame"`` (normalized frame units); :func:`rulec.primitives.morphology.radius_pixels`
  turns both into pixels.
* Postfix ``at start`` lowers its mask with every ``"video"`` input replaced by ``"start"``.
* ``all c, d in S: A`` = ``forall(components(S), needs, A[c:=track(S, 1), d:=track(S, 2)], ...)``,
  one body per choice of distinct instances up to ``MAX_INSTANCES`` (``needs``: the pieces
  each choice needs in frame 0); ``any`` is ``exists``, and a negation swaps them.
* Nodes are hash-consed on ``(op, args, inputs)``: an identical sub-expression is one node.

A node's label is the canonical text of the sub-expression it was first built from
(``not (...)`` / ``... at start`` added when built under a negation or a freeze).
"""

from __future__ import annotations

from itertools import permutations

from rulec import ast as A
from rulec import printer as P
from rulec.checker import CheckedProgram
from rulec.ir import Const, Declaration, Node, Ref, RuleIR
from rulec.limits import MAX_INSTANCES
from rulec.primitives.conventions import EMPTY_MARGIN
from rulec.primitives.registry import REGISTRY, Kind, PrimitiveSpec, functions
from rulec.span import Span

Operand = Ref | Const


class GraphBuilder:
    """Appends nodes in topological order, returning the existing node for a repeat."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self._index: dict[tuple, int] = {}

    def add(self, op: str, args: tuple[Operand, ...], inputs: tuple[str, ...], span: Span | None, label: str) -> Ref:
        key = (op, args, inputs)
        found = self._index.get(key)
        if found is not None:
            return Ref(found)
        node_id = len(self.nodes)
        self.nodes.append(Node(node_id, op, args, REGISTRY[op].result, inputs, span, label))
        self._index[key] = node_id
        return Ref(node_id)

    def op_of(self, operand: Operand) -> str | None:
        return self.nodes[operand.node].op if isinstance(operand, Ref) else None


def _label(e: A.Node, neg: bool, frozen: bool) -> str:
    d = P.doc(e)
    if frozen:
        d = P.d_freeze(d)
    if neg:
        d = P.d_prefix("not", d)
    return d[0]


def _window_consts(w: A.Window | None) -> tuple[Const, Const]:
    if w is None:
        return Const(None), Const(None)
    return (Const(None if w.start is None else w.start.value), Const(None if w.stop is None else w.stop.value))


class Lowerer:
    def __init__(self, check: CheckedProgram):
        self.check = check
        self.kinds = check.kinds
        self.graph = GraphBuilder()
        self.functions = functions()
        self._names: dict[tuple[str, bool, bool], Operand] = {}

    def add(self, op, args, inputs, e: A.Node, neg: bool, frozen: bool, label: str | None = None) -> Ref:
        return self.graph.add(op, tuple(args), tuple(inputs), e.span, label or _label(e, neg, frozen))

    # ---------------------------------------------------------------- entry points
    def name(self, name: str, neg: bool = False, frozen: bool = False) -> Operand:
        key = (name, neg, frozen)
        if key not in self._names:
            symbol = self.check.symbols[name]
            value = self.lower(symbol.declaration.value, neg, frozen)
            if symbol.role == "region" and isinstance(symbol.declaration.value, A.Freeze):
                value = self.filled(value)
            self._names[key] = value
        return self._names[key]

    def filled(self, region: Ref) -> Ref:
        """A region frozen at start, with the holes the objects cover in frame 0 filled
        (``fill_holes``): what a person sees of a region an object sits on. The objects are
        every ``object`` declaration, frozen on the first frame."""
        objects = [self.name(s.name, False, True) for s in self.check.symbols.values() if s.role == "object"]
        objects = [o for o in objects if isinstance(o, Ref)]
        if not objects:
            return region
        node = self.graph.nodes[region.node]
        return self.graph.add("fill_holes", (region, *objects), (), node.span, node.label)

    def lower(self, e: A.Node, neg: bool = False, frozen: bool = False) -> Operand:
        match e:
            case A.Name(id=name):
                return self.name(name, neg, frozen)
            case A.Number(value=value) | A.Pixels(value=value) | A.String(value=value):
                return Const(value)
            case A.Call():
                return self.call(e, neg, frozen)
            case A.Freeze(operand=operand):
                return self.lower(operand, neg, True)
            case A.Not() | A.And() | A.Or() | A.Minus() if self.kinds[e] == Kind.MASK:
                return self.mask(e, frozen)
            case A.Not(operand=operand):
                return self.lower(operand, not neg)
            case A.And() | A.Or() | A.Implies():
                return self.junction(e, neg)
            case A.Compare(left=left, op=op, right=right):
                atom = self.add("lt" if op in ("<", "<=") else "gt", (self.lower(left), self.lower(right)), (), e, False, False)
                return self.add("neg", (atom,), (), e, True, False) if neg else atom
            case A.Always(window=window, operand=operand):
                return self.quantified("eventually" if neg else "always", e, window, operand, neg)
            case A.Eventually(window=window, operand=operand):
                return self.quantified("always" if neg else "eventually", e, window, operand, neg)
            case A.Next(operand=operand):
                return self.shifted("next", e, operand, neg)
            case A.Prev(operand=operand):
                return self.shifted("prev", e, operand, neg)
            case A.AtStart(operand=operand):
                return self.add("at_start", (self.lower(operand, neg),), (), e, neg, False)
            case A.AtEnd(operand=operand):
                return self.add("at_end", (self.lower(operand, neg),), (), e, neg, False)
            case A.Progress(window=window, operand=operand):
                return self.progress(e, window, operand, neg)
            case A.Until(left=left, right=right, window=window):
                start, stop = _window_consts(window)
                a, b = self.lower(left, neg), self.lower(right, neg)
                return self.add("release" if neg else "until", (a, b, start, stop), (), e, neg, False)
            case A.Then():
                return self.then(e, neg)
            case A.Quantifier():
                return self.quantifier(e, neg)
        raise TypeError(f"cannot lower {type(e).__name__}")  # pragma: no cover - the checker rejects the rest

    # ---------------------------------------------------------------- constructs
    def call(self, e: A.Call, neg: bool, frozen: bool) -> Operand:
        spec = self.functions[e.func]
        given = {p.name: a for p, a in zip(spec.params, e.args)}
        given.update({k.name: k.value for k in e.keywords})
        args: list[Operand] = []
        for p in spec.params:
            if p.name in given:
                args.append(self.lower(given[p.name], False, frozen and p.kind == Kind.MASK))
            else:
                args.append(Const(p.default))
        inputs = tuple("start" if (frozen and i == "video") else i for i in spec.inputs)
        if "first" in spec.appended:
            # present's threshold is relative to the object's area in frame 0: the kernel also
            # reads the object frozen on the first frame (``o at start``), a static node
            args.append(self.lower(given["o"], False, True))
        if "unit" in spec.appended:
            # grow/shrink: the radius's unit, "px" for `2px`, else "frame" (normalized frame units)
            args.append(Const("px" if isinstance(given["r"], A.Pixels) else "frame"))
        atom = self.add(e.func, args, inputs, e, False, frozen and spec.result == Kind.MASK,
                        label=self._call_label(e.func, spec, given, args, frozen and spec.result == Kind.MASK))
        if neg and spec.result == Kind.BOOL:
            return self.add("neg", (atom,), (), e, True, False)
        return atom

    @staticmethod
    def _call_label(func: str, spec: PrimitiveSpec, given: dict[str, A.Node], args: list[Operand], frozen: bool) -> str:
        """Canonical call text: required arguments positional, other keywords only when not default."""
        positional, keywords = [], []
        for p, arg in zip(spec.params, args):
            if not p.keyword:
                positional.append(P.doc(given[p.name]))
            elif isinstance(arg, Const) and arg.value != p.default:
                keywords.append((p.name, P.doc(given[p.name])))
        d = P.d_call(func, positional, keywords)
        return (P.d_freeze(d) if frozen else d)[0]

    def quantified(self, op: str, e: A.Node, window: A.Window | None, operand: A.Node, neg: bool) -> Operand:
        """``always``/``eventually`` (dual under a negation) over the window, the negation pushed into the body."""
        start, stop = _window_consts(window)
        return self.add(op, (self.lower(operand, neg), start, stop, Const(0)), (), e, neg, False)

    def shifted(self, op: str, e: A.Node, operand: A.Node, neg: bool) -> Operand:
        """``next``/``prev``: vacuous past the video's edge; under a negation the dual fill."""
        body = self.lower(operand, neg)
        return self.add(op, (body, Const(-EMPTY_MARGIN if neg else EMPTY_MARGIN)), (), e, neg, False)

    def progress(self, e: A.Progress, window: A.Window | None, operand: A.Node, neg: bool) -> Operand:
        """``progress[a:b] m`` = always[a:b] decreasing(m); negated, eventually[a:b] not decreasing(m)."""
        start, stop = _window_consts(window)
        text = P.print_expr(operand)
        step = self.add("decreasing", (self.lower(operand),), (), e, False, False, label=f"decreasing({text})")
        if neg:
            step = self.add("neg", (step,), (), e, False, False, label=f"not decreasing({text})")
        return self.add("eventually" if neg else "always", (step, start, stop, Const(0)), (), e, neg, False)

    def quantifier(self, e: A.Quantifier, neg: bool) -> Operand:
        """``all``/``any`` (dual under a negation): the body once per choice of distinct
        instances, each variable bound to ``track(domain, k)``, k = 1 .. MAX_INSTANCES; the
        kernel keeps the choices the first frame has instances for (``components`` of the domain)."""
        op = "forall" if (e.kind == "all") != neg else "exists"
        domain = self.lower(e.domain)
        count = self.graph.add("components", (domain,), (), e.domain.span, P.print_expr(A.make(A.Call, func="components", args=(e.domain,))))
        needs, bodies = [], []
        for ks in permutations(range(1, MAX_INSTANCES + 1), len(e.names)):
            needs.append(max(ks))
            bodies.append(self.lower(self.substituted(e.body, e.domain, dict(zip((n.id for n in e.names), ks))), neg))
        return self.add(op, (count, Const(tuple(needs)), *bodies), (), e, neg, False)

    def substituted(self, e: A.Node, domain: A.Node, instances: dict[str, int]) -> A.Node:
        """``e`` with each quantified variable replaced by ``track(domain, k)``, types carried over,
        so each body's nodes are labelled with the instances they are about."""
        match e:
            case A.Name(id=name) if name in instances:
                k = A.make(A.Number, value=instances[name], span=e.span)
                call = A.make(A.Call, func="track", args=(domain, k), keywords=(), span=e.span, func_span=e.span)
                self.kinds[call] = Kind.MASK
                return call
        fields, changed = {}, False
        for field in type(e).model_fields:
            value = getattr(e, field)
            if isinstance(value, A.Node):
                new = self.substituted(value, domain, instances)
                changed |= new is not value
            elif isinstance(value, tuple):
                new = tuple(self.substituted(v, domain, instances) if isinstance(v, A.Node) else v for v in value)
                changed |= any(a is not b for a, b in zip(new, value))
            else:
                new = value
            fields[field] = new
        if not changed:
            return e
        copy = type(e).model_construct(**fields)
        if e in self.kinds:
            self.kinds[copy] = self.kinds[e]
        return copy

    def mask(self, e: A.Node, frozen: bool) -> Operand:
        """Region algebra: ``not`` is one node, n-ary ``and``/``or``/``-`` a left fold of binary nodes."""
        match e:
            case A.Not(operand=operand):
                return self.add("mask_not", (self.lower(operand, False, frozen),), (), e, False, frozen)
            case A.And(operands=operands):
                op, word, prec, operand_prec = "mask_and", "and", P.AND, P.AND + 1
            case A.Or(operands=operands):
                op, word, prec, operand_prec = "mask_or", "or", P.OR, P.OR + 1
            case A.Minus(operands=operands):
                op, word, prec, operand_prec = "mask_minus", "-", P.MINUS, P.POSTFIX
        acc = self.lower(operands[0], False, frozen)
        text = P.wrap(P.doc(operands[0]), operand_prec)
        for operand in operands[1:]:  # labels grow left to right
            nxt = self.lower(operand, False, frozen)
            text = f"{text} {word} {P.wrap(P.doc(operand), operand_prec)}"
            label = P.d_freeze((text, prec))[0] if frozen else text
            acc = self.add(op, (acc, nxt), (), e, False, frozen, label=label)
        return acc

    def junction(self, e: A.Node, neg: bool) -> Operand:
        op = self._junction_op(e, neg)
        terms: list[Operand] = []
        self._collect(e, neg, op, terms)
        flat = self._splice(terms, op)
        if len(flat) == 1:
            return flat[0]
        return self.add(op, flat, (), e, neg, False)

    def _splice(self, terms: list[Operand], op: str) -> list[Operand]:
        """Flatten terms that are themselves ``op`` nodes (a let name whose formula is the same junction)."""
        flat: list[Operand] = []
        for t in terms:
            if self.graph.op_of(t) == op:
                flat.extend(self.graph.nodes[t.node].args)
            else:
                flat.append(t)
        return flat

    @staticmethod
    def _junction_op(e: A.Node, neg: bool) -> str | None:
        match e:
            case A.And():
                return "or" if neg else "and"
            case A.Or() | A.Implies():
                return "and" if neg else "or"
        return None

    def _collect(self, e: A.Node, neg: bool, op: str, out: list[Operand]) -> None:
        """The terms of the junction ``op`` that ``e`` (negated if ``neg``) spells out, flattened."""
        match e:
            case A.Not(operand=operand) if self.kinds[e] == Kind.BOOL:
                self._collect(operand, not neg, op, out)
            case A.And(operands=operands) | A.Or(operands=operands) if self._junction_op(e, neg) == op:
                for o in operands:
                    self._collect(o, neg, op, out)
            case A.Implies(left=left, right=right) if self._junction_op(e, neg) == op:
                self._collect(left, not neg, op, out)
                self._collect(right, neg, op, out)
            case _:
                out.append(self.lower(e, neg))

    def then(self, e: A.Then, neg: bool) -> Operand:
        """``A then B`` = eventually(A and eventually(B, offset 1)); negated, its dual."""
        start, stop = _window_consts(e.window)
        inner_op, outer_op, join_op = ("always", "always", "or") if neg else ("eventually", "eventually", "and")
        later = self.lower(e.right, neg)
        right_text = P.wrap(P.doc(e.right), P.PREFIX)
        later_label = f"later {'not ' if neg else ''}{right_text}"
        later_node = self.graph.add(inner_op, (later, Const(None), Const(None), Const(1)), (), e.right.span, later_label)
        collected: list[Operand] = []
        if self._junction_op(e.left, neg) == join_op:
            self._collect(e.left, neg, join_op, collected)
        else:
            collected.append(self.lower(e.left, neg))
        terms = self._splice(collected, join_op)
        left_text = P.wrap(P.doc(e.left), P.SEQUENCE)
        both = self.graph.add(join_op, (*terms, later_node), (), e.span,
                              f"{'not ' if neg else ''}{left_text} {join_op} {later_label}")
        return self.add(outer_op, (both, start, stop, Const(0)), (), e, neg, False)


def lower_program(program: A.Program, check: CheckedProgram):
    """(nodes, rules, declarations) of a program that passed the checker."""
    lowerer = Lowerer(check)
    declarations = []
    rules = []
    for st in program.statements:
        match st:
            case A.Declaration(name=name, role=role, span=span):
                declarations.append(Declaration(name, role, lowerer.name(name).node, span))
            case A.Rule(name=name, kind=kind, formula=formula, weight=weight, span=span):
                root = lowerer.lower(formula)
                rules.append(RuleIR(name, kind, 1.0 if weight is None else float(weight.value), root.node, span,
                                    P.print_expr(formula)))
    return tuple(lowerer.graph.nodes), tuple(rules), tuple(declarations)
