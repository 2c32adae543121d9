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

from rulec.diagnostics import Diagnostic, RulesError
from rulec.ir import Ref
from rulec.windows import window_misfit
from rulec.primitives.detectors import shared_colour_space
from rulec.primitives.kernels import KERNELS
from rulec.primitives.semantics import Exact, Semantics, Smooth
from rulec.primitives.temporal import window_range

if TYPE_CHECKING:
    from rulec.ir import CompiledRules, Node

#: ops whose operand's per-frame values explain where a rule failed
_TEMPORAL_WRAPPERS = {"always", "eventually", "at_start", "at_end"}
#: where each windowed operator keeps its (start, stop) arguments
_WINDOW_ARGS = {"always": 1, "eventually": 1, "until": 2, "release": 2}
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

    def num_passed(self) -> Tensor:
        """(B,) how many rules pass."""
        return torch.stack([r.passed for r in self.rules], dim=-1).sum(-1)

    def to_dict(self, index: int = 0) -> dict[str, Any]:
        """Sample ``index`` as a verdict of the one schema (rulec.verdict, docs/verdict.schema.json)."""
        from rulec.verdict import verdict

        return verdict(self, index)

    to_json = to_dict  # the older name, kept for callers of the library


class RewardModule(nn.Module):
    """Scores videos ``(B, T, 3, H, W)`` in [0, 1] against compiled rules."""

    def __init__(
        self,
        compiled: CompiledRules,
        semantics: str | Semantics = "smooth",
        beta: float = 10.0,
        vlm: nn.Module | None = None,
        hinge_margin: float = 0.25,
        hinge_sharpness: float = 8.0,
    ):
        super().__init__()
        self.compiled = compiled
        if isinstance(semantics, Smooth):
            beta = semantics.beta
        elif isinstance(semantics, Exact):
            pass
        elif semantics not in ("smooth", "exact"):
            raise ValueError(f"semantics must be 'smooth' or 'exact', got {semantics!r}")
        self.smooth = semantics == "smooth" or isinstance(semantics, Smooth)
        self.beta = float(beta)
        self.vlm = vlm
        self.hinge_margin = hinge_margin
        self.hinge_sharpness = hinge_sharpness
        self.uses_ask = any(n.op == "ask" for n in compiled.nodes)
        self._roots = {r.root for r in compiled.rules}

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
                stack.extend(a.node for a in self.compiled.nodes[i].args if isinstance(a, Ref))
        return out

    def _outermost(self) -> set[int]:
        """Ids of the rules' outermost temporal nodes (evaluated at frame 0), reached from a
        root through pointwise logic and ``at_start`` only; every other window is nested."""
        out: set[int] = set()
        stack = [r.root for r in self.compiled.rules]
        while stack:
            node = self.compiled.nodes[stack.pop()]
            if node.op in _WINDOW_ARGS:
                out.add(node.id)
            elif node.op in ("and", "or", "neg", "at_start"):
                stack.extend(a.node for a in node.args if isinstance(a, Ref))
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
            if node.op in _WINDOW_ARGS and t is not None:
                first = _WINDOW_ARGS[node.op]
                start, stop = node.args[first].value, node.args[first + 1].value
                misfit = window_misfit(start, stop, t, nested=node.id not in outermost)
                if misfit:
                    raise self._diagnostic(*misfit[:2], node, help=misfit[2])
            elif node.op in ("grow", "shrink"):
                px = int(node.args[1].value)
                if 2 * px + 1 > min(h, w):
                    raise self._diagnostic("E504", f"{node.op} radius {px} px needs frames of at least {2 * px + 1} px, got {h}x{w}", node)
            elif node.op == "ask" and self.vlm is None:
                raise self._diagnostic("E505", "this rule uses ask(), but no VLM was given to the reward", node, help="pass vlm=VQAScorer.from_pretrained(path)")

    # --------------------------------------------------------------- evaluation
    def evaluate(self, video: Tensor, start: Tensor, sem: Semantics) -> dict[int, Tensor]:
        """Every node's value under ``sem``, each computed once, in topological order."""
        inputs = {"video": video, "start": start}
        values: dict[int, Tensor] = {}
        for node in self.compiled.nodes:
            args = [values[a.node] if isinstance(a, Ref) else a.value for a in node.args]
            if node.op == "ask":
                values[node.id] = self.vlm.margin(inputs[node.inputs[0]], *args)
                continue
            values[node.id] = KERNELS[node.op](sem, *(inputs[name] for name in node.inputs), *args)
        return values

    def _at_zero(self, value: Tensor, batch: int) -> Tensor:
        return value[..., 0].expand(batch)

    @staticmethod
    def _body(root: Node) -> int:
        """The node whose per-frame values explain where the rule fails."""
        return root.args[0].node if root.op in _TEMPORAL_WRAPPERS else root.id

    def forward(self, video: Tensor, start: Tensor | None = None, beta: float | None = None) -> RewardReport:
        self.validate(video)
        if start is None:
            start = video[:, :1]
        start = start.detach()
        batch, num_frames = video.shape[:2]
        with shared_colour_space():  # one Lab conversion and colour distance per video for both passes
            with torch.no_grad():
                exact = self.evaluate(video, start, Exact())
            smooth = self.evaluate(video, start, Smooth(beta or self.beta)) if self.smooth else exact
        return self.report(exact, smooth, batch, num_frames)

    def report(self, exact: dict[int, Tensor], smooth: dict[int, Tensor], batch: int, num_frames: int) -> RewardReport:
        """Verdicts, traces and loss from node values (whole-video or streamed: one assembly for both)."""
        results: list[RuleResult] = []
        for rule in self.compiled.rules:
            root = self.compiled.nodes[rule.root]
            body = self._body(root)
            window = None
            if root.op in ("always", "eventually"):
                window = window_range(root.args[1].value, root.args[2].value, num_frames)
            elif root.op == "at_start":
                window = (0, 1)
            elif root.op == "at_end":
                window = (num_frames - 1, num_frames)
            ex = self._at_zero(exact[rule.root], batch)
            sm = self._at_zero(smooth[rule.root], batch)
            trace = exact[body].expand(batch, num_frames)
            results.append(RuleResult(rule.name, rule.kind, rule.weight, ex, sm, ex > 0, trace, window))

        total_weight = sum(r.weight for r in results) or 1.0
        k, m = self.hinge_sharpness, self.hinge_margin
        terms = [r.weight * F.softplus(k * (m - r.smooth)) / k for r in results]
        sample_loss = torch.stack(terms, dim=-1).sum(-1) / total_weight
        passed = torch.stack([r.passed for r in results], dim=-1).all(-1)
        return RewardReport(results, sample_loss, passed, exact, self.smooth)


def build_reward(compiled: CompiledRules, semantics: str | Semantics = "smooth", beta: float = 10.0, vlm: nn.Module | None = None, **kwargs: Any) -> RewardModule:
    """``CompiledRules.to_reward``: the module that scores videos against these rules."""
    return RewardModule(compiled, semantics=semantics, beta=beta, vlm=vlm, **kwargs)
