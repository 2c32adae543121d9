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
* Postfix ``at start`` lowers its mask with every ``"video"`` input replaced by ``"start"``.
* Nodes are hash-consed on ``(op, args, inputs)``: an identical sub-expression is one node.

A node's label is the canonical text of the sub-expression it was first built from
(``not (...)`` / ``... at start`` added when built under a negation or a freeze).
"""

from __future__ import annotations

from rulec import ast as A
from rulec import printer as P
from rulec.checker import CheckResult
from rulec.ir import Const, Declaration, Node, Ref, RuleIR
from rulec.primitives.conventions import EMPTY_MARGIN
from rulec.primitives.registry import REGISTRY, Kind, functions
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
    def __init__(self, check: CheckResult):
        self.check = check
        self.kinds = check.kinds
        self.graph = GraphBuilder()
        self.functions = functions()
        self._names: dict[tuple[str, bool, bool], Operand] = {}

    def kind(self, e: A.Node) -> Kind:
        return self.kinds[id(e)]

    def add(self, op, args, inputs, e: A.Node, neg: bool, frozen: bool, label: str | None = None) -> Ref:
        return self.graph.add(op, tuple(args), tuple(inputs), e.span, label or _label(e, neg, frozen))

    # ---------------------------------------------------------------- entry points
    def name(self, name: str, neg: bool = False, frozen: bool = False) -> Operand:
        key = (name, neg, frozen)
        if key not in self._names:
            self._names[key] = self.lower(self.check.symbols[name].declaration.value, neg, frozen)
        return self._names[key]

    def lower(self, e: A.Node, neg: bool = False, frozen: bool = False) -> Operand:
        if isinstance(e, A.Name):
            return self.name(e.id, neg, frozen)
        if isinstance(e, A.Number):
            return Const(e.value)
        if isinstance(e, A.String):
            return Const(e.value)
        if isinstance(e, A.Call):
            return self.call(e, neg, frozen)
        if isinstance(e, A.Freeze):
            return self.lower(e.operand, neg, True)
        if self.kind(e) == Kind.MASK:
            return self.mask(e, frozen)
        if isinstance(e, (A.Not,)):
            return self.lower(e.operand, not neg)
        if isinstance(e, (A.And, A.Or, A.Implies)):
            return self.junction(e, neg)
        if isinstance(e, A.Compare):
            op = "lt" if e.op in ("<", "<=") else "gt"
            atom = self.add(op, (self.lower(e.left), self.lower(e.right)), (), e, False, False)
            return self.add("neg", (atom,), (), e, True, False) if neg else atom
        if isinstance(e, (A.Always, A.Eventually)):
            universal = isinstance(e, A.Always) != neg
            start, stop = _window_consts(e.window)
            body = self.lower(e.operand, neg)
            return self.add("always" if universal else "eventually", (body, start, stop, Const(0)), (), e, neg, False)
        if isinstance(e, (A.Next, A.Prev)):  # vacuous past the video's edge; under a negation the dual fill
            body = self.lower(e.operand, neg)
            empty = Const(-EMPTY_MARGIN if neg else EMPTY_MARGIN)
            return self.add("next" if isinstance(e, A.Next) else "prev", (body, empty), (), e, neg, False)
        if isinstance(e, (A.AtStart, A.AtEnd)):
            body = self.lower(e.operand, neg)
            return self.add("at_start" if isinstance(e, A.AtStart) else "at_end", (body,), (), e, neg, False)
        if isinstance(e, A.Progress):
            start, stop = _window_consts(e.window)
            measure = self.lower(e.operand)
            step = self.add("decreasing", (measure,), (), e, False, False, label=f"decreasing({P.print_expr(e.operand)})")
            if neg:
                step = self.add("neg", (step,), (), e, False, False, label=f"not decreasing({P.print_expr(e.operand)})")
            return self.add("eventually" if neg else "always", (step, start, stop, Const(0)), (), e, neg, False)
        if isinstance(e, A.Until):
            start, stop = _window_consts(e.window)
            a, b = self.lower(e.left, neg), self.lower(e.right, neg)
            return self.add("release" if neg else "until", (a, b, start, stop), (), e, neg, False)
        if isinstance(e, A.Then):
            return self.then(e, neg)
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
        atom = self.add(e.func, args, inputs, e, False, frozen and spec.result == Kind.MASK,
                        label=self._call_label(e, spec, args, frozen and spec.result == Kind.MASK))
        if neg and spec.result == Kind.BOOL:
            return self.add("neg", (atom,), (), e, True, False)
        return atom

    def _call_label(self, e: A.Call, spec, args: list[Operand], frozen: bool) -> str:
        """Canonical call text: required arguments positional, other keywords only when not default."""
        given = {p.name: a for p, a in zip(spec.params, e.args)}
        given.update({k.name: k.value for k in e.keywords})
        positional, keywords = [], []
        for p, arg in zip(spec.params, args):
            if not p.keyword:
                positional.append(P.doc(given[p.name]))
            elif isinstance(arg, Const) and arg.value != p.default:
                keywords.append((p.name, P.doc(given[p.name])))
        d = P.d_call(e.func, positional, keywords)
        return (P.d_freeze(d) if frozen else d)[0]

    def mask(self, e: A.Node, frozen: bool) -> Operand:
        if isinstance(e, A.Not):
            return self.add("mask_not", (self.lower(e.operand, False, frozen),), (), e, False, frozen)
        op, word, prec = {A.And: ("mask_and", "and", P.AND), A.Or: ("mask_or", "or", P.OR),
                          A.Minus: ("mask_minus", "-", P.MINUS)}[type(e)]
        operand_prec = P.POSTFIX if isinstance(e, A.Minus) else prec + 1
        acc = self.lower(e.operands[0], False, frozen)
        text = P.wrap(P.doc(e.operands[0]), operand_prec)
        for operand in e.operands[1:]:  # a left fold of binary nodes; labels grow left to right
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
        if isinstance(e, A.And):
            return "or" if neg else "and"
        if isinstance(e, (A.Or, A.Implies)):
            return "and" if neg else "or"
        return None

    def _collect(self, e: A.Node, neg: bool, op: str, out: list[Operand]) -> None:
        if isinstance(e, A.Not) and self.kind(e) == Kind.BOOL:
            self._collect(e.operand, not neg, op, out)
        elif isinstance(e, (A.And, A.Or)) and self._junction_op(e, neg) == op:
            for o in e.operands:
                self._collect(o, neg, op, out)
        elif isinstance(e, A.Implies) and self._junction_op(e, neg) == op:
            self._collect(e.left, not neg, op, out)
            self._collect(e.right, neg, op, out)
        else:
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


def lower_program(program: A.Program, check: CheckResult):
    """(nodes, rules, declarations) of a program that passed the checker."""
    lowerer = Lowerer(check)
    declarations = []
    rules = []
    for st in program.statements:
        if isinstance(st, A.Declaration):
            operand = lowerer.name(st.name)
            declarations.append(Declaration(st.name, st.role, operand.node, st.span))
        elif isinstance(st, A.Rule):
            root = lowerer.lower(st.formula)
            weight = 1.0 if st.weight is None else float(st.weight.value)
            rules.append(RuleIR(st.name, st.kind, weight, root.node, st.span, P.print_expr(st.formula)))
    return tuple(lowerer.graph.nodes), tuple(rules), tuple(declarations)
