"""Meaning checks on the AST: names, types, arguments, windows, weights, rule set.

Every problem is reported, not only the first: an expression whose type cannot be known
(because of an earlier error) gets the type ``None``, which silences follow-on errors
about it. The checker records each expression's type for the lowering pass, in the
:class:`CheckedProgram` it returns (``kinds``, a :class:`rulec.ast.NodeTable`).

Types are the registry's :class:`Kind`: ``mask`` (objects, regions), ``signal`` (a
measure per frame), ``bool`` (a formula: a signed margin per frame), ``number``,
``string``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from rulec import ast as A
from rulec import printer as P
from rulec.diagnostics import Diagnostic, did_you_mean, error, warning
from rulec.limits import (MAX_DEPTH, MAX_EXPANDED_NODES, MAX_INSTANCES, MAX_NUMBER, MAX_PIXELS, MAX_RADIUS, MAX_VARIABLES,
                          MIN_THRESHOLD)
from rulec.parser import RESERVED
from rulec.primitives.registry import Kind, Param, PrimitiveSpec, functions
from rulec.span import Span, join, span_at
from rulec.windows import window_misfit

_HEX = re.compile(r"#[0-9a-fA-F]{6}")

_KIND_WORDS = {
    Kind.MASK: "a mask",
    Kind.SIGNAL: "a measure",
    Kind.BOOL: "a formula",
    Kind.NUMBER: "a number",
    Kind.INT: "a whole number",
    Kind.STRING: "a string",
    Kind.COLOR: "a colour",
    Kind.RADIUS: "a radius",
}

#: Allowed ranges of numeric arguments: (low, high, low_inclusive). Divisors must be > 0.
ARGUMENT_RANGES: dict[tuple[str, str], tuple[float, float, bool]] = {
    ("color", "tol"): (0.0, 300.0, False),
    ("near", "d"): (0.0, 2.0, False),
    ("present", "min_area"): (0.0, 1.0, True),
    ("present", "frac"): (0.0, 0.999, False),
    ("moving", "v"): (0.0, 2.0, False),
    ("still", "v"): (0.0, 2.0, False),
    ("unchanged", "tol"): (0.0, 1.0, False),
    ("inside", "frac"): (0.0, 1.0, False),
    ("box", "x0"): (0.0, 1.0, True),
    ("box", "y0"): (0.0, 1.0, True),
    ("box", "x1"): (0.0, 1.0, True),
    ("box", "y1"): (0.0, 1.0, True),
    ("nth", "k"): (1, MAX_PIXELS, True),
    ("track", "k"): (1, MAX_PIXELS, True),
}

#: What a radius of 1 frame (or more) does, for the help of E211 on ``grow(r, 1)``.
_WHOLE_FRAME = {"grow": "is the whole frame", "shrink": "leaves nothing"}


#: Allowed values of string arguments.
ARGUMENT_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("nth", "by"): ("x", "y", "area"),
    ("track", "by"): ("x", "y", "area"),
}


#: Operators whose operand is evaluated at other frames than their own: a window below one of
#: them is nested (relative). ``at start`` evaluates at frame 0, like a rule, so it is not one.
_SHIFTS_FRAME = (A.Always, A.Eventually, A.Until, A.Then, A.Progress, A.AtEnd, A.Next, A.Prev)


#: The word for what an operand must be, as :func:`_hint_for` takes it.
_WANTED_WORDS = {Kind.BOOL: "formula", Kind.SIGNAL: "measure", Kind.MASK: "mask"}


def _window_of(e: A.Node) -> A.Window | None:
    """The window an operator is written with, if it has one."""
    match e:
        case A.Always(window=w) | A.Eventually(window=w) | A.Progress(window=w) | A.Until(window=w) | A.Then(window=w):
            return w
    return None


def expanded_size(e: A.Node) -> int:
    """Sub-expressions the lowering builds for ``e``: a quantifier's body once per choice of
    instances (names count once: a declaration is lowered once and shared)."""
    total, stack = 0, [(e, 1)]
    while stack:
        node, copies = stack.pop()
        total += copies
        if isinstance(node, A.Quantifier):
            stack.append((node.domain, copies))
            stack.append((node.body, copies * math.perm(MAX_INSTANCES, len(node.names))))
        else:
            stack.extend((child, copies) for child in A.children(node))
    return total


def kind_word(kind: Kind) -> str:
    return _KIND_WORDS.get(kind, kind.value)


@dataclass
class Symbol:
    """A declared name."""

    name: str
    role: str  # object | region | let
    kind: Kind | None  # None when its definition has errors
    declaration: A.Declaration
    depth: int = 1


@dataclass
class CheckedProgram:
    """What the checker found: the diagnostics, and for the lowering the declared names and
    the type of every expression it could type."""

    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    symbols: dict[str, Symbol] = field(default_factory=dict)
    kinds: A.NodeTable[Kind] = field(default_factory=A.NodeTable)
    task: A.Task | None = None


def _hint_for(kind: Kind | None, wanted: str) -> str | None:
    if kind == Kind.MASK and wanted == "formula":
        return "test a mask with an atom, e.g. present(x) or inside(x, r)"
    if kind == Kind.SIGNAL and wanted == "formula":
        return "compare a measure with a number, e.g. speed(agent) < 0.1"
    if kind == Kind.MASK and wanted == "measure":
        return "measure a mask first, e.g. area(x) or speed(x)"
    if kind == Kind.BOOL and wanted == "mask":
        return "a formula is true or false per frame; masks are objects, regions and detectors like color(...)"
    return None


class Checker:
    def __init__(self, program: A.Program, text: str, file: str, num_frames: int | None = None,
                 broken_names: set[str] | frozenset[str] = frozenset(),
                 broken_rule_kinds: set[str] | frozenset[str] = frozenset()):
        self.program = program
        self.text = text
        self.file = file
        self.num_frames = num_frames
        self.broken = set(broken_names)
        self.broken_rule_kinds = set(broken_rule_kinds)  # kinds of rules that failed to parse
        self.result = CheckedProgram()
        self.functions = functions()
        self.declared_anywhere: dict[str, A.Declaration] = {}
        for st in program.statements:
            if isinstance(st, A.Declaration):
                self.declared_anywhere.setdefault(st.name, st)
        self.used: set[str] = set()
        self.current: A.Declaration | None = None
        self._bounds: A.NodeTable[tuple[int | None, int | None]] = A.NodeTable()  # each well-formed window's bounds
        self.bound: dict[str, A.Name] = {}  # the quantified variables in scope, by name
        self.bound_used: set[str] = set()
        self.expanded = 0  # sub-expressions the lowering will build, so far (E014)

    # -------------------------------------------------------------- reporting
    def err(self, code: str, message: str, span: Span | None, help: str | None = None) -> None:
        self.result.errors.append(error(code, message, span or self._file_span(), help))

    def _file_span(self) -> Span:
        return span_at(self.text, 0, 1, self.file)

    def _line_of(self, node: A.Node) -> str:
        return f"line {node.span.line}" if node.span else "above"

    # -------------------------------------------------------------- statements
    def run(self) -> CheckedProgram:
        rules: dict[str, A.Rule] = {}
        goals = processes = 0
        for st in self.program.statements:
            match st:
                case A.Task() if self.result.task is not None:
                    self.err("E109", "more than one task header", st.span,
                             f"the task is already named at {self._line_of(self.result.task)}")
                case A.Task():
                    self.result.task = st
                case A.Declaration():
                    self.declaration(st)
                case A.Rule():
                    if st.name in rules:
                        self.err("E105", f"rule '{st.name}' is defined twice", st.name_span or st.span,
                                 f"the first rule '{st.name}' is at {self._line_of(rules[st.name])}; rename one")
                    else:
                        rules[st.name] = st
                    goals += st.kind == "goal"
                    processes += st.kind == "process"
                    self.rule(st)
        self.window_contexts()
        if goals == 0 and "goal" not in self.broken_rule_kinds:
            self.err("E401", "no goal rule", self._file_span(),
                     "add one, e.g.  goal reach : eventually[-2:] inside(agent, goal)")
        if goals and processes == 0:
            self.result.warnings.append(warning(
                "W002", "no process rule: nothing stops shortcuts such as teleporting or walking through walls",
                self._file_span(), "add e.g.  process steady : always speed(agent) < 0.15"))
        for name, sym in self.result.symbols.items():
            if name not in self.used:
                self.result.warnings.append(warning(
                    "W001", f"{sym.role} '{name}' is declared but never used",
                    sym.declaration.name_span or sym.declaration.span))
        return self.result

    def declaration(self, d: A.Declaration) -> None:
        span = d.name_span or d.span
        if d.name in RESERVED:
            self.err("E104", f"'{d.name}' is a keyword and cannot name a {d.role}", span)
        elif d.name in self.functions:
            self.err("E104", f"{d.role} '{d.name}' would hide the function '{d.name}'", span,
                     f"choose another name, e.g. '{d.name}_{d.role}'")
        first = self.result.symbols.get(d.name)
        if first is not None:
            self.err("E103", f"'{d.name}' is declared twice", span,
                     f"the first declaration is at {self._line_of(first.declaration)}; rename one")
        self.current = d
        kind = self.infer(d.value)
        depth = self.depth(d.value)
        self.current = None
        self._expansion(d.value, f"{d.role} '{d.name}'", span)
        if depth > MAX_DEPTH:
            self.err("E011", f"'{d.name}' is nested too deeply once names are inlined ({depth} levels)", span,
                     f"at most {MAX_DEPTH} levels")
            kind = None
        if kind is not None:
            allowed = (Kind.MASK,) if d.role in ("object", "region") else (Kind.MASK, Kind.SIGNAL, Kind.BOOL)
            if kind not in allowed:
                what = "a mask (a detector such as color(...) or region algebra)" if d.role != "let" else \
                    "a mask, a measure or a formula"
                self.err("E209", f"{d.role} '{d.name}' must be {what}; found {kind_word(kind)}",
                         d.value.span, _hint_for(kind, "mask") if d.role != "let" else None)
                kind = None
        if first is None:
            self.result.symbols[d.name] = Symbol(d.name, d.role, kind, d, depth)

    def rule(self, r: A.Rule) -> None:
        kind = self.infer(r.formula)
        depth = self.depth(r.formula)
        if depth > MAX_DEPTH:
            self.err("E011", f"rule '{r.name}' is nested too deeply once names are inlined ({depth} levels)",
                     r.name_span or r.span, f"at most {MAX_DEPTH} levels")
        self._expansion(r.formula, f"rule '{r.name}'", r.name_span or r.span)
        if kind is not None and kind != Kind.BOOL:
            self.err("E209", f"rule '{r.name}' needs a formula; found {kind_word(kind)}", r.formula.span,
                     _hint_for(kind, "formula"))
        if r.weight is not None and self.infer(r.weight) is not None:
            w = r.weight.value
            if not (math.isfinite(w) and 0 < w <= MAX_NUMBER):
                self.err("E402", f"weight must be a positive number up to {MAX_NUMBER:g}; found {w}",
                         r.weight.span, "the default weight is 1")

    def _expansion(self, e: A.Node, what: str, span: Span | None) -> None:
        """E014 once the file's statements, quantifiers expanded, pass ``MAX_EXPANDED_NODES`` in all."""
        size = expanded_size(e)
        self.expanded += size
        if self.expanded > MAX_EXPANDED_NODES and self.expanded - size <= MAX_EXPANDED_NODES:
            self.err("E014", f"{what} brings the file to {self.expanded:,} expressions once quantifiers are expanded "
                             f"over up to {MAX_INSTANCES} instances each", span,
                     f"at most {MAX_EXPANDED_NODES:,} in a file: quantify over fewer variables, or move the parts "
                     "that do not use them out of the quantifier")

    # -------------------------------------------------------------- windows in context
    def window_contexts(self) -> None:
        """Check each window where it is used: on a rule's outermost temporal operator (evaluated
        at frame 0: negative bounds count from the end) or nested (relative: E303 for a
        negative bound). ``let`` names are followed, since a let's meaning depends on its use."""
        reported: A.NodeTable[set[bool]] = A.NodeTable()  # the contexts each window was checked in
        followed: set[tuple[str, bool]] = set()

        def walk(e: A.Node, nested: bool) -> None:
            match e:
                case A.Name(id=name):
                    sym = self.result.symbols.get(name)
                    if sym is not None and sym.role == "let" and (name, nested) not in followed:
                        followed.add((name, nested))
                        walk(sym.declaration.value, nested)
                    return
            window = _window_of(e)
            if window is not None and window in self._bounds:
                contexts = reported.setdefault(window, set())
                if nested not in contexts:
                    contexts.add(nested)
                    self._window_in_context(window, nested)
            inner = nested or isinstance(e, _SHIFTS_FRAME)
            for child in A.children(e):
                if child is not window:
                    walk(child, inner)

        for st in self.program.statements:
            if isinstance(st, A.Rule):
                walk(st.formula, False)

    def _window_in_context(self, w: A.Window, nested: bool) -> None:
        start, stop = self._bounds[w]
        misfit = window_misfit(start, stop, self.num_frames, nested)
        # Without the video's length, only E303 depends on where the window stands: what is
        # wrong with it anywhere was reported once, where it is written (_window).
        if misfit and (self.num_frames is not None or misfit[0] == "E303"):
            code, message, help = misfit
            self.err(code, message, w.span, help)

    # -------------------------------------------------------------- depth
    def depth(self, e: A.Node) -> int:
        match e:
            case A.Name(id=name):
                sym = self.result.symbols.get(name)
                return sym.depth if sym is not None else 1
            case _:
                return 1 + max((self.depth(k) for k in A.children(e)), default=0)

    # -------------------------------------------------------------- expressions
    def infer(self, e: A.Node) -> Kind | None:
        kind = self._infer(e)
        if kind is not None:
            self.result.kinds[e] = kind
        return kind

    def _infer(self, e: A.Node) -> Kind | None:
        match e:
            case A.Name():
                return self._name(e)
            case A.Number():
                return self._number(e)
            case A.Pixels():  # a radius argument is checked by _radius, without coming here
                self.err("E201", f"a length in pixels ({P.print_expr(e)}) is only a grow/shrink radius", e.span,
                         "every other distance is in normalized frame units (0 to 1 across the frame): drop the 'px'")
                return None
            case A.String():
                return Kind.STRING
            case A.Call():
                return self._call(e)
            case A.Not(operand=operand):
                return self._logic_or_mask(e, (operand,), "not")
            case A.And(operands=operands):
                return self._logic_or_mask(e, operands, "and")
            case A.Or(operands=operands):
                return self._logic_or_mask(e, operands, "or")
            case A.Implies(left=left, right=right):
                return self._formulas(left, right, "implies")
            case A.Minus(operands=operands):
                kinds = [self._expect(o, Kind.MASK, "'-' (region difference)") for o in operands]
                return Kind.MASK if all(kinds) else None
            case A.Compare():
                return self._compare(e)
            case A.Freeze():
                return self._freeze(e)
            case A.Always(window=window, operand=operand):
                return self._temporal(operand, "always", window)
            case A.Eventually(window=window, operand=operand):
                return self._temporal(operand, "eventually", window)
            case A.AtStart(operand=operand):
                return self._temporal(operand, "at start")
            case A.AtEnd(operand=operand):
                return self._temporal(operand, "at end")
            case A.Next(operand=operand):
                return self._temporal(operand, "next")
            case A.Prev(operand=operand):
                return self._temporal(operand, "prev")
            case A.Progress(window=window, operand=operand):
                self._window(window)
                return Kind.BOOL if self._expect(operand, Kind.SIGNAL, "'progress'") else None
            case A.Until(left=left, right=right, window=window):
                self._window(window)
                return self._formulas(left, right, "until")
            case A.Then(left=left, right=right, window=window):
                self._window(window)
                return self._formulas(left, right, "then")
            case A.Quantifier():
                return self._quantifier(e)
        raise TypeError(f"not an expression: {type(e).__name__}")  # pragma: no cover - the parser builds no other

    def _name(self, e: A.Name) -> Kind | None:
        if e.id in self.bound:
            self.bound_used.add(e.id)
            return Kind.MASK
        sym = self.result.symbols.get(e.id)
        if sym is not None:
            if self.current is None or self.current.name != e.id:
                self.used.add(e.id)
            return sym.kind
        if e.id in self.broken:
            return None
        later = self.declared_anywhere.get(e.id)
        if later is not None:
            self.used.add(e.id)
            if self.current is not None and later is self.current:
                self.err("E106", f"'{e.id}' is used in its own declaration", e.span,
                         "a declaration can only use names declared above it")
            else:
                self.err("E106", f"'{e.id}' is used before its declaration", e.span,
                         f"move the declaration of '{e.id}' ({self._line_of(later)}) above this line")
            return None
        if e.id in RESERVED:
            self.err("E001", f"unexpected keyword '{e.id}'", e.span, "see docs/dsl.md for where it may stand")
            return None
        if e.id in self.functions:
            self.err("E108", f"'{e.id}' is a function; call it with its arguments", e.span,
                     f"{self.functions[e.id].signature()}")
            return None
        self.err("E101", f"undefined name '{e.id}'", e.span,
                 did_you_mean(e.id, self.declared_anywhere)
                 or f"declare it first, e.g.  object {e.id} = color(\"#e53935\")")
        return None

    def _quantifier(self, e: A.Quantifier) -> Kind | None:
        """``all``/``any``: the domain is a mask; each variable a fresh name, an object (an
        instance of the domain) inside the body only."""
        ok = self._expect(e.domain, Kind.MASK, f"'{e.kind} ... in'") is not None
        fresh: list[A.Name] = []  # the variables bound in the body (a name already taken keeps its meaning there)
        for n in e.names:
            taken = self._taken(n.id, [f.id for f in fresh])
            if taken:
                self.err("E110", f"'{n.id}' {taken}", n.span, f"name the instance something new, e.g. '{n.id}1'")
                ok = False
            else:
                fresh.append(n)
        if len(self.bound) + len(e.names) > MAX_VARIABLES:
            self.err("E111", f"{len(self.bound) + len(e.names)} quantified variables in scope; at most {MAX_VARIABLES}",
                     join(e.names[0].span, e.names[-1].span) if e.names[0].span else e.span,
                     "each variable multiplies the rule by the number of instances: split the rule")
            ok = False
        outer = dict(self.bound)
        self.bound.update({n.id: n for n in fresh})
        body = self._expect(e.body, Kind.BOOL, f"'{e.kind} ... :'")
        for n in fresh:
            if n.id not in self.bound_used:
                self.result.warnings.append(warning(
                    "W004", f"'{n.id}' is quantified but its formula never uses it", n.span,
                    f"use '{n.id}' in the formula after ':', or drop it"))
        self.bound_used -= {n.id for n in fresh}
        self.bound = outer
        return Kind.BOOL if ok and body else None

    def _taken(self, name: str, earlier: list[str]) -> str | None:
        """Why a quantified variable cannot be called ``name``, or None."""
        if name in RESERVED:
            return "is a keyword"
        if name in self.functions:
            return f"would hide the function '{name}'"
        if name in earlier or name in self.bound:
            return "is already a quantified variable here"
        declared = self.declared_anywhere.get(name)
        if declared is not None:
            return f"is already the {declared.role} declared at {self._line_of(declared)}"
        return None

    def _number(self, e: A.Number) -> Kind | None:
        if not math.isfinite(e.value) or abs(e.value) > MAX_NUMBER:
            self.err("E004", f"number out of range: {e.value}", e.span, f"numbers lie within ±{MAX_NUMBER:g}")
            return None
        return Kind.NUMBER

    def _window(self, w: A.Window | None) -> None:
        """Bounds must be whole numbers; they are then kept for the checks in context
        (:meth:`window_contexts`), and without the video's length a window wrong at every
        length is reported here, once."""
        if w is None:
            return
        bounds = []
        for b in (w.start, w.stop):
            if b is None:
                bounds.append(None)
                continue
            self.infer(b)
            if not (isinstance(b, A.Number) and isinstance(b.value, int) and not isinstance(b.value, bool)):
                self.err("E206", "window bounds are whole frame numbers", b.span, "e.g. [0:8] or [-2:]")
                return
            if abs(b.value) > MAX_NUMBER:
                return
            bounds.append(b.value)
        start, stop = bounds
        self._bounds[w] = (start, stop)
        misfit = window_misfit(start, stop, None) if self.num_frames is None else None
        if misfit:
            code, message, help = misfit
            self.err(code, message, w.span, help)

    def _expect(self, e: A.Node, wanted: Kind, who: str) -> Kind | None:
        kind = self.infer(e)
        if kind is not None and kind != wanted:
            self.err("E201", f"{who} needs {kind_word(wanted)}; found {kind_word(kind)}", e.span,
                     _hint_for(kind, _WANTED_WORDS.get(wanted, wanted.value)))
            return None
        return kind

    def _formulas(self, left: A.Node, right: A.Node, word: str) -> Kind | None:
        """Both operands of ``implies``, ``until`` or ``then`` are formulas."""
        a = self._expect(left, Kind.BOOL, f"'{word}'")
        b = self._expect(right, Kind.BOOL, f"'{word}'")
        return Kind.BOOL if a and b else None

    def _logic_or_mask(self, e: A.Node, operands: tuple[A.Node, ...], word: str) -> Kind | None:
        kinds = [self.infer(o) for o in operands]
        bad = False
        for o, k in zip(operands, kinds):
            if k is not None and k not in (Kind.MASK, Kind.BOOL):
                self.err("E201", f"'{word}' needs formulas or masks; found {kind_word(k)}", o.span,
                         _hint_for(k, "formula"))
                bad = True
        known = {k for k in kinds if k in (Kind.MASK, Kind.BOOL)}
        if len(known) > 1:
            self.err("E208", f"'{word}' mixes masks and formulas", e.span,
                     f"'{word}' combines masks (region algebra) or formulas (logic), not both; "
                     "test a mask with an atom such as inside(o, r)")
            return None
        if bad or None in kinds or not known:
            return None
        return known.pop()

    def _compare(self, e: A.Compare) -> Kind | None:
        kinds = []
        for side in (e.left, e.right):
            k = self.infer(side)
            if k is not None and k not in (Kind.SIGNAL, Kind.NUMBER):
                self.err("E201", f"'{e.op}' compares measures and numbers; found {kind_word(k)}", side.span,
                         _hint_for(k, "measure"))
                k = None
            kinds.append(k)
        if kinds == [Kind.NUMBER, Kind.NUMBER]:
            self.err("E207", "comparison between two numbers", e.span,
                     "compare a measure such as speed(agent) or distance(a, b) with a number")
            return None
        for side in (e.left, e.right):  # the margin is divided by a nonzero constant
            if isinstance(side, A.Number) and side.value != 0 and not self._above_floor(side, f"the constant of '{e.op}'"):
                return None
        return Kind.BOOL if None not in kinds else None

    def _freeze(self, e: A.Freeze) -> Kind | None:
        k = self.infer(e.operand)
        if k is not None and k != Kind.MASK:
            help = ("to evaluate a formula on the first frame, write 'at start' before it" if k == Kind.BOOL
                    else "only masks can be frozen on the first frame")
            self.err("E210", f"postfix 'at start' freezes a mask; found {kind_word(k)}", e.span, help)
            return None
        return k

    def _temporal(self, operand: A.Node, word: str, window: A.Window | None = None) -> Kind | None:
        self._window(window)
        k = self.infer(operand)
        if k is not None and k != Kind.BOOL:
            help = _hint_for(k, "formula")
            if word == "at start" and k == Kind.MASK:
                help = "to freeze a mask on the first frame, write 'at start' after it: color(\"#43a047\") at start"
            self.err("E201", f"'{word}' needs a formula; found {kind_word(k)}", operand.span, help)
            return None
        return k

    # -------------------------------------------------------------- calls
    def _call(self, e: A.Call) -> Kind | None:
        spec = self.functions.get(e.func)
        if spec is None:
            sym = self.result.symbols.get(e.func) or self.declared_anywhere.get(e.func)
            if sym is not None:
                role = sym.role
                self.err("E107", f"'{e.func}' is {'an' if role == 'object' else 'a'} {role}, not a function",
                         e.func_span or e.span, f"use it as an argument, e.g. present({e.func})")
            else:
                self.err("E102", f"unknown function '{e.func}'", e.func_span or e.span,
                         did_you_mean(e.func, self.functions) or "see docs/primitives.md for the functions")
            for a in (*e.args, *(k.value for k in e.keywords)):
                self.infer(a)
            return None
        bound = self._bind(e, spec)
        ok = bound is not None
        for param, arg in (bound or {}).values():
            ok &= self._argument(spec, param, arg)
        return spec.result if ok else None

    def _bind(self, e: A.Call, spec: PrimitiveSpec):
        """Map parameters to argument expressions; ``None`` after reporting a binding error."""
        params = spec.params
        bound: dict[str, tuple] = {}
        ok = True
        extra = e.args[len(params):]
        if extra:
            first, last = extra[0].span, extra[-1].span
            self.err("E202", f"{spec.name}() takes at most {len(params)} argument"
                             f"{'s' if len(params) != 1 else ''}; found {len(e.args)}",
                     join(first, last) if first and last else e.span, spec.signature())
            ok = False
            for arg in extra:
                self.infer(arg)
        for param, arg in zip(params, e.args):
            bound[param.name] = (param, arg)
        by_name = {p.name: p for p in params}
        for kw in e.keywords:
            param = by_name.get(kw.name)
            if param is None:
                self.err("E203", f"{spec.name}() has no argument '{kw.name}'", kw.span,
                         did_you_mean(kw.name, by_name) or spec.signature())
                ok = False
                self.infer(kw.value)
            elif kw.name in bound:
                self.err("E204", f"argument '{kw.name}' of {spec.name}() is given twice", kw.span, spec.signature())
                ok = False
                self.infer(kw.value)
            else:
                bound[kw.name] = (param, kw.value)
        missing = [p for p in params if not p.keyword and p.name not in bound]
        if missing:
            names = ", ".join(f"'{p.name}' ({kind_word(p.kind)})" for p in missing)
            self.err("E202", f"{spec.name}() is missing argument{'s' if len(missing) > 1 else ''} {names}",
                     e.span, spec.signature())
            ok = False
        if not ok:
            for param, arg in bound.values():
                self.infer(arg)
            return None
        return bound

    def _argument(self, spec: PrimitiveSpec, param: Param, arg: A.Node) -> bool:
        who = f"argument '{param.name}' of {spec.name}()"
        if param.kind == Kind.RADIUS and isinstance(arg, A.Pixels):
            return self._pixels(arg, who)
        kind = self.infer(arg)
        if kind is None:
            return False
        if param.kind in (Kind.MASK, Kind.SIGNAL, Kind.BOOL):
            if kind != param.kind:
                self.err("E201", f"{who} must be {kind_word(param.kind)}; found {kind_word(kind)}", arg.span,
                         _hint_for(kind, _WANTED_WORDS[param.kind]))
                return False
            return True
        if param.kind == Kind.COLOR:
            if not isinstance(arg, A.String):
                self.err("E201", f"{who} must be a colour string; found {kind_word(kind)}", arg.span,
                         'write colours as "#rrggbb", e.g. "#e53935"')
                return False
            if not _HEX.fullmatch(arg.value):
                self.err("E205", f"invalid colour \"{arg.value[:20]}\"", arg.span,
                         'write colours as "#rrggbb", e.g. "#e53935"')
                return False
            return True
        if param.kind == Kind.STRING:
            if not isinstance(arg, A.String):
                self.err("E201", f"{who} must be a string; found {kind_word(kind)}", arg.span)
                return False
            choices = ARGUMENT_CHOICES.get((spec.name, param.name))
            if choices is not None and arg.value not in choices:
                self.err("E211", f"{who} must be one of {', '.join(repr(c) for c in choices)}; found {arg.value!r}", arg.span,
                         param.doc or None)
                return False
            return True
        if param.kind == Kind.RADIUS:
            return self._radius(spec, arg, who)
        # NUMBER / INT: a literal
        if not isinstance(arg, A.Number):
            self.err("E201", f"{who} must be a number; found {kind_word(kind)}", arg.span,
                     "arguments like thresholds are constants")
            return False
        if param.kind == Kind.INT and not isinstance(arg.value, int):
            self.err("E206", f"{who} must be a whole number; found {arg.value}", arg.span)
            return False
        bounds = ARGUMENT_RANGES.get((spec.name, param.name))
        if bounds is not None:
            low, high, low_inclusive = bounds
            v = arg.value
            if not ((v >= low if low_inclusive else v > low) and v <= high):
                lo = "[" if low_inclusive else "("
                self.err("E211", f"{who} must lie in {lo}{low:g}, {high:g}]; found {v}", arg.span, param.doc or None)
                return False
            if low == 0 and not low_inclusive and not self._above_floor(arg, who):
                return False
        return True

    def _pixels(self, arg: A.Pixels, who: str) -> bool:
        """A radius in pixels, ``2px``: a whole number (E206) in [0, MAX_PIXELS] (E211)."""
        self.result.kinds[arg] = Kind.RADIUS
        v = arg.value
        if not isinstance(v, int):
            self.err("E206", f"{who} in pixels must be a whole number; found {P.print_expr(arg)}", arg.span,
                     f"write whole pixels, e.g. `{max(math.floor(v), 1) if math.isfinite(v) else 1}px`, or a radius in "
                     "frame units without `px` (e.g. 0.02)")
            return False
        if not 0 <= v <= MAX_PIXELS:
            self.err("E211", f"{who} must lie in [0, {MAX_PIXELS}] px; found {P.print_expr(arg)}", arg.span,
                     f"at most {MAX_PIXELS} px; or write the radius in frame units without `px` (0 to {MAX_RADIUS:g})")
            return False
        return True

    def _radius(self, spec: PrimitiveSpec, arg: A.Node, who: str) -> bool:
        """A bare radius is in normalized frame units, [0, MAX_RADIUS] (E211); 1 or more was very
        likely meant as pixels (the language's old meaning), which the help says how to write."""
        if not isinstance(arg, A.Number):
            self.err("E201", f"{who} must be a number; found {kind_word(self.result.kinds[arg])}", arg.span,
                     "a radius is a constant: frame units (0.02) or pixels (2px)")
            return False
        v = arg.value
        if 0 <= v <= MAX_RADIUS:
            return True
        if v >= 1:
            px = f"write `{v}px` for pixels" if isinstance(v, int) else "write pixels as a whole number with `px`, e.g. `2px`"
            help = (f"`{spec.name}(r, {P.print_expr(arg)})` {_WHOLE_FRAME.get(spec.name, 'covers the whole frame')}; radii "
                    f"are in frame units (0..{MAX_RADIUS:g}), {px}")
        else:
            help = f"radii are in frame units: {MAX_RADIUS:g} is half the frame; write e.g. `2px` for pixels"
        self.err("E211", f"{who} must lie in [0, {MAX_RADIUS:g}] (frame units); found {P.print_expr(arg)}", arg.span,
                 help)
        return False

    def _above_floor(self, number: A.Number, who: str) -> bool:
        """A nonzero threshold below :data:`MIN_THRESHOLD` underflows in float32 (NaN or infinite loss): E212."""
        if abs(number.value) >= MIN_THRESHOLD:
            return True
        self.err("E212", f"{who} is {number.value:g}, too small for float32 arithmetic (the reward divides by it)",
                 number.span, f"use at least {MIN_THRESHOLD:.3g}" + (" (or 0)" if "constant" in who else ""))
        return False
