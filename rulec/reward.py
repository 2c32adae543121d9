"""Compiled rules -> a torch module that scores videos.

One graph, two semantics: every call evaluates the graph exactly (hard thresholds,
min/max: the verdict) and, for optimization, smoothly (sigmoid detectors, soft-min /
log-mean-exp: a differentiable lower bound). Each node is evaluated once per semantics
per call, however many rules share it.

The loss is a hinge on each rule's smooth robustness, so a rule already satisfied with
margin stops pulling: ``weight * softplus(k * (margin - smooth)) / k``, summed over goal and
process rules and divided by the total weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from rulec.chunks import REWARD_CHUNK_PIXELS, WHOLE_VIDEO_PIXELS, chunk_bounds, chunk_frames_for, release_freed_memory, split_graph
from rulec.diagnostics import Diagnostic, RulesError
from rulec.limits import MAX_INSTANCES
from rulec.primitives.detectors import ColourSpace, Palette
from rulec.primitives.kernels import KERNELS
from rulec.primitives.morphology import radius_pixels
from rulec.primitives.semantics import Exact, Semantics, Smooth
from rulec.primitives.tracks import TrackBook, TrackHandle
from rulec.verdict import verdict
from rulec.windows import first_covered, window_misfit

if TYPE_CHECKING:  # for annotations only: at run time the graph is read through Node's methods, so
    # rulec.ir (which loads this module on first use of to_reward) is never imported from here
    from rulec.ir import CompiledRules, Node

#: ops whose operand's per-frame values explain where a rule failed
_TEMPORAL_WRAPPERS = {"always", "eventually", "at_start", "at_end"}
#: ops with a frame window (their ``start`` and ``stop`` parameters)
_WINDOWED = {"always", "eventually", "until", "release"}
#: the pixel range we accept, with room for float round-off
_RANGE_SLACK = 1e-3


@dataclass
class RuleResult:
    """One rule's outcome on a batch of videos."""

    name: str
    kind: str  # "goal" | "process"
    weight: float
    exact: Tensor  # (B,) exact robustness
    smooth: Tensor  # (B,) smooth robustness (differentiable); equals exact for exact-only reward
    passed: Tensor  # (B,) bool, exact > 0
    trace: Tensor  # (B, T) exact per-frame values of the rule's body
    window: tuple[int, int] | None = None  # frames [lo, hi) the top temporal operator covers
    #: per video, for a failing rule whose body is ``all ...``: the instances' formula that fails (None: no witness)
    witness: list[str | None] | None = None

    def failed_frames(self, index: int = 0) -> list[int]:
        """Frames (inside the rule's window) where the rule's body does not hold; none if the rule passes."""
        if bool(self.passed[index]):
            return []
        lo, hi = self.window if self.window else (0, self.trace.shape[-1])
        row = self.trace[index]
        return [t for t in range(lo, hi) if float(row[t]) <= 0.0]


@dataclass
class RewardReport:
    """Per-rule verdicts and robustness, and the loss to optimize."""

    rules: list[RuleResult]
    sample_loss: Tensor  # (B,)
    passed: Tensor  # (B,) bool: every rule passes
    values: dict[int, Tensor] = field(default_factory=dict, repr=False)  # exact node values, for reports
    has_smooth: bool = True  # False for an exact-only reward: smooth == exact, loss from exact values

    @property
    def loss(self) -> Tensor:
        return self.sample_loss.mean()

    def to_dict(self, index: int = 0) -> dict[str, Any]:
        """Sample ``index`` as a verdict of the one schema (rulec.verdict, docs/verdict.schema.json)."""
        return verdict(self, index)

    to_json = to_dict  # the older name, kept for callers of the library


def _semantics(semantics: str | Semantics, beta: float | None) -> Semantics:
    """The semantics a reward optimizes: ``"smooth"`` is ``Smooth(beta)`` (``Smooth()``'s own
    default when ``beta`` is None), ``"exact"`` is ``Exact()``; a ``Semantics`` object is kept as
    given (a ``Smooth``'s own beta wins over ``beta``)."""
    if isinstance(semantics, (Exact, Smooth)):
        return semantics
    if semantics == "smooth":
        return Smooth() if beta is None else Smooth(beta)
    if semantics == "exact":
        return Exact()
    raise ValueError(f"semantics must be 'smooth' or 'exact', got {semantics!r}")


def named_colours(compiled: CompiledRules) -> tuple[str, ...]:
    """The colours of a graph's colour detectors, lower-case, sorted."""
    return tuple(sorted({n.arg("hex").value.lower() for n in compiled.nodes if n.op == "color"}))


@dataclass(frozen=True)
class GraphInputs:
    """The graph's implicit inputs for one call (``"video"``, ``"start"``), shared by both passes.

    Kernels read the tensors; the colour detectors read the same tensors as
    :class:`~rulec.primitives.detectors.ColourSpace`, so each input is converted to Lab and
    compared with each colour once per call, for the exact and the smooth pass alike.
    """

    tensors: dict[str, Tensor]
    colour_spaces: dict[str, ColourSpace]
    #: the tracks' states (``track``), read from this input's first frame on
    tracks: TrackBook

    @classmethod
    def of(cls, video: Tensor, start: Tensor, named: tuple[str, ...] = (), palette: Palette | None = None,
           tracks: TrackBook | None = None) -> GraphInputs:
        """``named``: the colours the rules name; with the first frame's palette they are what
        every colour detector competes with (one :class:`Palette`, shared by both inputs).
        ``tracks``: the book of a chunked evaluation, positioned at this chunk (default: a new one at frame 0)."""
        tensors = {"video": video, "start": start}
        palette = palette if palette is not None else Palette(start, named)
        return cls(tensors, {name: ColourSpace(t, palette=palette) for name, t in tensors.items()}, tracks or TrackBook())

    def for_node(self, node: Node) -> list[Tensor | ColourSpace | TrackHandle]:
        """What ``node``'s kernel takes before its arguments."""
        return [input_for(node, name, self.colour_spaces if node.op == "color" else self.tensors, self.tracks) for name in node.inputs]


def input_for(node: Node, name: str, tensors: dict, tracks: TrackBook):
    """One implicit input of ``node``'s kernel: a tensor (or colour space) by name, or for
    ``"tracks"`` the handle on the book of track states for the mask the node tracks (its ``o``: every
    track of one mask shares one labelling), in whole, chunked and streamed evaluation alike."""
    return TrackHandle(tracks, node.arg("o").node) if name == "tracks" else tensors[name]


class RewardModule(nn.Module):
    """Scores videos ``(B, T, 3, H, W)`` in [0, 1] against compiled rules."""

    def __init__(
        self,
        compiled: CompiledRules,
        semantics: str | Semantics = "smooth",
        beta: float | None = None,
        vlm: nn.Module | None = None,
        hinge_margin: float = 0.25,
        hinge_sharpness: float = 8.0,
        chunk_pixels: int = REWARD_CHUNK_PIXELS,
        whole_pixels: int | None = WHOLE_VIDEO_PIXELS,
    ):
        super().__init__()
        self.compiled = compiled
        #: what the loss is computed under; with ``Exact()`` smooth values are the exact ones
        self.semantics = _semantics(semantics, beta)
        self.vlm = vlm
        #: a video of more than ``whole_pixels`` pixels (B x T x H x W; None: no limit) is evaluated
        #: in chunks of about ``chunk_pixels`` (:meth:`evaluate_in_chunks`)
        self.chunk_pixels, self.whole_pixels = chunk_pixels, whole_pixels
        self.hinge_margin = hinge_margin
        self.hinge_sharpness = hinge_sharpness
        #: every colour the rules name: each colour detector competes with the others (and the first frame's palette)
        self.named_colours = named_colours(compiled)

    # ------------------------------------------------------------------ checks
    def _diagnostic(self, code: str, message: str, node: Node | None = None, help: str | None = None) -> RulesError:
        span = node.span if node is not None else None
        users = self._rules_using(node.id) if node is not None else []
        if users:
            message = f"{message} (in rule{'s' if len(users) > 1 else ''} {', '.join(repr(u) for u in users)})"
        diagnostic = Diagnostic(code=code, severity="error", message=message, span=span, help=help)
        return RulesError([diagnostic], self.compiled.source, self.compiled.source_name)

    def _rules_using(self, node_id: int) -> list[str]:
        """Names of the rules whose formula reaches ``node_id``."""
        out = []
        for rule in self.compiled.rules:
            stack, seen = [rule.root], set()
            while stack:
                i = stack.pop()
                if i == node_id:
                    out.append(rule.name)
                    break
                if i in seen:
                    continue
                seen.add(i)
                stack.extend(self.compiled.nodes[i].refs())
        return out

    def _outermost(self) -> set[int]:
        """Ids of the rules' outermost temporal nodes (evaluated at frame 0), reached from a
        root through pointwise logic (quantifiers too) and ``at_start`` only; every other window is nested."""
        out: set[int] = set()
        stack = [r.root for r in self.compiled.rules]
        while stack:
            node = self.compiled.nodes[stack.pop()]
            if node.op in _WINDOWED:
                out.add(node.id)
            elif node.op in ("and", "or", "neg", "at_start", "forall", "exists"):
                stack.extend(node.refs())
        return out

    def validate(self, video: Tensor) -> None:
        """Errors that need the video: shape, range, windows, morphology radii, a missing VLM."""
        if not isinstance(video, Tensor) or video.dim() != 5:
            shape = tuple(video.shape) if isinstance(video, Tensor) else type(video).__name__
            raise self._diagnostic("E501", f"expected a video tensor (B, T, 3, H, W), got shape {shape}")
        b, t, c, h, w = video.shape
        if c != 3:
            raise self._diagnostic("E502", f"expected 3 colour channels, got {c}", help="videos are RGB, (B, T, 3, H, W)")
        if b == 0 or t == 0 or h == 0 or w == 0:
            raise self._diagnostic("E501", f"empty video of shape {tuple(video.shape)}")
        if not video.is_floating_point():
            raise self._diagnostic("E503", f"expected float pixels in [0, 1], got dtype {video.dtype}", help="divide uint8 frames by 255")
        lo, hi = float(video.detach().amin()), float(video.detach().amax())
        if not (lo >= -_RANGE_SLACK and hi <= 1 + _RANGE_SLACK):
            raise self._diagnostic("E503", f"pixel values must lie in [0, 1], found [{lo:.3g}, {hi:.3g}]", help="divide uint8 frames by 255")
        self.validate_geometry(t, h, w)

    def validate_geometry(self, t: int | None, h: int, w: int) -> None:
        """The errors that need only the video's size (windows against ``t`` frames unless
        ``t`` is None, morphology radii, a missing VLM): shared by whole and streamed evaluation."""
        outermost = self._outermost()
        for node in self.compiled.nodes:
            if node.op in _WINDOWED and t is not None:
                misfit = window_misfit(node.arg("start").value, node.arg("stop").value, t, nested=node.id not in outermost)
                if misfit:
                    raise self._diagnostic(*misfit[:2], node, help=misfit[2])
            elif node.op in ("grow", "shrink"):
                ry, rx = radius_pixels(node.arg("r").value, node.arg("unit").value, h, w)
                if 2 * ry + 1 > h or 2 * rx + 1 > w:
                    raise self._diagnostic(
                        "E504", f"{node.op} radius of {ry} x {rx} px (rows x columns) needs frames of at least "
                        f"{2 * ry + 1}x{2 * rx + 1} px, got {h}x{w}", node,
                        help="the kernel (2r + 1 px a side) must fit in the frame: use a smaller radius")
            elif node.op == "ask" and self.vlm is None:
                raise self._diagnostic("E505", "this rule uses ask(), but no VLM was given to the reward", node, help="pass vlm=VQAScorer.from_pretrained(path)")

    # --------------------------------------------------------------- evaluation
    def evaluate(self, inputs: GraphInputs, sem: Semantics) -> dict[int, Tensor]:
        """Every node's value under ``sem``, each computed once, in topological order."""
        values: dict[int, Tensor] = {}
        for node in self.compiled.nodes:
            args = node.arg_values(values)
            if node.op == "ask":
                values[node.id] = self.vlm.margin(inputs.tensors[node.inputs[0]], *args)
            else:
                values[node.id] = KERNELS[node.op](sem, *inputs.for_node(node), *args)
        return values

    def evaluate_in_chunks(self, video: Tensor, start: Tensor, sem: Semantics, chunk_frames: int) -> dict[int, Tensor]:
        """:meth:`evaluate` a chunk of frames at a time (:mod:`rulec.chunks`), for videos too large to
        hold every node's masks at once. The values of every node but the frame-local masks are the
        same as the whole video's; with gradients on, each chunk's frame-local part is checkpointed
        (recomputed in backward), so memory is the video, its gradient and one chunk's masks."""
        nodes = self.compiled.nodes
        split = split_graph(self.compiled)
        palette = Palette(start, self.named_colours)
        first = GraphInputs.of(start, start, palette=palette)  # static nodes read the first frame (box: its size)
        static: dict[int, Tensor] = {}
        for node in nodes:
            if node.id in split.static:
                static[node.id] = KERNELS[node.op](sem, *first.for_node(node), *node.arg_values(static))

        book = TrackBook()

        def frame_local(frames: Tensor, context: int, first_frame: int) -> tuple[Tensor, ...]:
            release_freed_memory()  # the previous chunk's temporaries (also between recomputations in backward)
            inputs, values = GraphInputs.of(frames, start, palette=palette, tracks=book.at(first_frame)), dict(static)
            for node in nodes:
                if node.id in split.local:
                    values[node.id] = KERNELS[node.op](sem, *inputs.for_node(node), *node.arg_values(values))
            return tuple(values[i][:, context:] for i in split.kept)

        parts: list[tuple[Tensor, ...]] = []
        # split (not slices): backward concatenates the chunks' gradients once, where each slice
        # would add a zero-filled gradient of the whole video
        pieces = video.split(chunk_frames, dim=1)
        for k, ((lo, _, context), piece) in enumerate(zip(chunk_bounds(video.shape[1], chunk_frames), pieces)):
            frames = torch.cat([pieces[k - 1][:, -context:], piece], dim=1) if context else piece
            if torch.is_grad_enabled() and frames.requires_grad:
                parts.append(checkpoint(frame_local, frames, context, lo - context, use_reentrant=False))
            else:
                parts.append(frame_local(frames, context, lo - context))
        values = dict(static)
        values.update({i: torch.cat([p[k] for p in parts], dim=1) for k, i in enumerate(split.kept)})
        for node in nodes:
            if node.id not in values and node.id not in split.local:
                values[node.id] = KERNELS[node.op](sem, *node.arg_values(values))
        return values

    def _chunk_frames(self, video: Tensor) -> int | None:
        """Frames per chunk for this video, or None to evaluate it whole (small, or it uses ask())."""
        b, t, _, h, w = video.shape
        if self.whole_pixels is None or b * t * h * w <= self.whole_pixels:
            return None
        if any(n.op == "ask" for n in self.compiled.nodes):  # the VLM reads frames across the video
            return None
        return min(t, chunk_frames_for(h, w, b, self.chunk_pixels))

    def _at_zero(self, value: Tensor, batch: int) -> Tensor:
        return value[..., 0].expand(batch)

    @staticmethod
    def _body(root: Node) -> int:
        """The node whose per-frame values explain where the rule fails."""
        return root.arg("a").node if root.op in _TEMPORAL_WRAPPERS else root.id

    def forward(self, video: Tensor, start: Tensor | None = None, beta: float | None = None) -> RewardReport:
        """The report on ``video``; ``beta`` overrides a smooth reward's sharpness for this call."""
        self.validate(video)
        if start is None:
            start = video[:, :1]
        start = start.detach()
        batch, num_frames = video.shape[:2]
        sem = Smooth(beta) if beta and not self.semantics.is_exact else self.semantics
        chunk_frames = self._chunk_frames(video)
        if chunk_frames is None:
            inputs = GraphInputs.of(video, start, self.named_colours)
            with torch.no_grad():
                exact = self.evaluate(inputs, Exact())
            smooth = exact if sem.is_exact else self.evaluate(inputs, sem)
        else:
            with torch.no_grad():
                exact = self.evaluate_in_chunks(video, start, Exact(), chunk_frames)
            smooth = exact if sem.is_exact else self.evaluate_in_chunks(video, start, sem, chunk_frames)
        return self.report(exact, smooth, batch, num_frames)

    def validate_instances(self, exact: dict[int, Tensor]) -> None:
        """E506: a quantifier's domain has more pieces in the first frame than its body was built for."""
        for node in self.compiled.nodes:
            if node.op in ("forall", "exists"):
                count = node.arg("count").node
                found = int(exact[count][:, 0].max())
                if found > MAX_INSTANCES:
                    raise self._diagnostic(
                        "E506", f"{self.compiled.nodes[count].label} is {found} in the first frame; a quantifier "
                        f"ranges over at most {MAX_INSTANCES} instances", node,
                        help="narrow the set (a region difference, a colour with a smaller tol), or name instances with track(o, k)")

    def _witness(self, node: Node, exact: dict[int, Tensor], result: RuleResult, index: int) -> str | None:
        """The label of the choice of instances that fails ``node`` (an ``all``) worst at the rule's
        first failing frame, for video ``index``; None when the rule passes there."""
        frames = result.failed_frames(index)
        if not frames:
            return None
        count, needs, *bodies = node.args
        have = float(exact[count.node][index, 0])
        worst, label = None, None
        for body, need in zip(bodies, needs.value):
            values = exact[body.node][index]
            value = float(values[min(frames[0], values.shape[-1] - 1)])
            if need <= have and (worst is None or value < worst):
                worst, label = value, self.compiled.nodes[body.node].label
        return label

    def report(self, exact: dict[int, Tensor], smooth: dict[int, Tensor], batch: int, num_frames: int) -> RewardReport:
        """Verdicts, traces and loss from node values (whole-video or streamed: one assembly for both)."""
        self.validate_instances(exact)
        results: list[RuleResult] = []
        for rule in self.compiled.rules:
            root = self.compiled.nodes[rule.root]
            body = self._body(root)
            window = None
            if root.op in ("always", "eventually"):
                window = first_covered(root.arg("start").value, root.arg("stop").value, num_frames)
            elif root.op == "at_start":
                window = (0, 1)
            elif root.op == "at_end":
                window = (num_frames - 1, num_frames)
            ex = self._at_zero(exact[rule.root], batch)
            sm = self._at_zero(smooth[rule.root], batch)
            trace = exact[body].expand(batch, num_frames)
            result = RuleResult(rule.name, rule.kind, rule.weight, ex, sm, ex > 0, trace, window)
            if self.compiled.nodes[body].op == "forall":
                result.witness = [self._witness(self.compiled.nodes[body], exact, result, i) for i in range(batch)]
            results.append(result)

        total_weight = sum(r.weight for r in results) or 1.0
        k, m = self.hinge_sharpness, self.hinge_margin
        terms = [r.weight * F.softplus(k * (m - r.smooth)) / k for r in results]
        sample_loss = torch.stack(terms, dim=-1).sum(-1) / total_weight
        passed = torch.stack([r.passed for r in results], dim=-1).all(-1)
        return RewardReport(results, sample_loss, passed, exact, not self.semantics.is_exact)


def build_reward(compiled: CompiledRules, semantics: str | Semantics = "smooth", beta: float | None = None, vlm: nn.Module | None = None, **kwargs: Any) -> RewardModule:
    """``CompiledRules.to_reward``: the module that scores videos against these rules."""
    return RewardModule(compiled, semantics=semantics, beta=beta, vlm=vlm, **kwargs)
