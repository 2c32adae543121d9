"""Exact evaluation of a video streamed in chunks of frames: memory O(T + one chunk).

The graph is split as :mod:`rulec.chunks` says: static nodes run once on the first frame,
frame-local nodes on one decoded chunk at a time (the previous chunk's last frame in
front), keeping only their ``(B, n)`` values, and signal nodes once on the assembled
signals. The kernels are the ones :class:`rulec.reward.RewardModule` calls, so streamed
verdicts are the whole-video verdicts (``tests/test_stream.py``).

Colour detectors read a lookup table instead of converting every pixel to Lab: each RGB
triple is classified once, by the same :func:`rulec.primitives.detectors.color` kernel,
into one bit per detector of the graph, so a chunk costs one table read per pixel however
many colours the rules name.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch
from torch import Tensor

from rulec.chunks import chunk_frames_for, release_freed_memory, split_graph
from rulec.ir import CompiledRules, Kind, Node, Ref
from rulec.primitives.atoms import covered_pixels
from rulec.primitives.detectors import ColourSpace, Palette, color
from rulec.primitives.kernels import KERNELS
from rulec.primitives.semantics import Exact
from rulec.check import frames_to_tensor as to_tensor
from rulec.primitives.tracks import TrackBook
from rulec.reward import GraphInputs, RewardModule, RewardReport, input_for

#: Detectors per lookup table: one bit each in a uint16 entry, whose top bit says "classified".
_BITS = 15
_KNOWN = np.uint16(1 << _BITS)

def _colour_key(node: Node) -> tuple[str, float]:
    """A colour detector's ``(hex, tol)``: detectors with the same key share one table bit."""
    return node.arg("hex").value.lower(), float(node.arg("tol").value)


class ColourTable:
    """RGB triple -> one bit per colour detector, filled lazily for the triples a video holds.

    A triple's bit is ``color(Exact(), ...)`` of that triple, as float ``byte / 255`` like
    :func:`rulec.check.frames_to_tensor`, competing with the same :class:`Palette` (set from
    the first frame before any triple is classified): the same decision as the per-pixel detector. A
    chunk costs one table read per pixel (plus one per further 15 detectors).
    """

    def __init__(self, detectors: list[tuple[str, float]], palette: Palette | None = None):
        self.detectors = detectors
        #: the colours the detectors compete with (the first frame's palette and the named colours)
        self.palette = palette
        groups = max(1, -(-len(detectors) // _BITS))
        self.bits = [np.zeros(1 << 24, dtype=np.uint16) for _ in range(groups)]
        self._mark = np.zeros(1 << 24, dtype=bool)

    @staticmethod
    def packed(frames: np.ndarray) -> np.ndarray:
        """``(..., 3)`` uint8 -> ``(...)`` index ``r << 16 | g << 8 | b``: the bytes ``0, r, g, b`` read as one big-endian word."""
        words = np.zeros(frames.shape[:-1] + (4,), dtype=np.uint8)
        words[..., 1:] = frames
        return words.view(">u4")[..., 0]

    def _learn(self, fresh: np.ndarray) -> None:
        """Classify the triples ``fresh`` (indices not seen before, repeats allowed)."""
        self._mark[fresh] = True
        new = np.flatnonzero(self._mark)
        self._mark[new] = False
        rgb = np.stack([new >> 16, (new >> 8) & 255, new & 255], axis=-1).astype(np.uint8)
        pixels = to_tensor(rgb.reshape(1, -1, 1, 3))  # (1, 1, 3, N, 1): the triples as one frame
        sem = Exact()
        space = ColourSpace(pixels, palette=self.palette if self.palette is not None else Palette.none())
        for k, (hex_colour, tol) in enumerate(self.detectors):
            hit = color(sem, space, hex_colour, tol).reshape(-1).numpy() > 0.5
            self.bits[k // _BITS][new[hit]] |= np.uint16(1 << (k % _BITS))
        self.bits[0][new] |= _KNOWN

    def masks(self, frames: np.ndarray) -> list[Tensor]:
        """One ``(1, n, H, W)`` float mask per detector for ``(n, H, W, 3)`` uint8 frames."""
        idx = self.packed(frames)
        first = self.bits[0][idx]
        unknown = first < _KNOWN
        if unknown.any():
            self._learn(idx[unknown])
            first = self.bits[0][idx]
        out = []
        for g, table in enumerate(self.bits):
            entry = first if g == 0 else table[idx]
            for k in range(g * _BITS, min(len(self.detectors), (g + 1) * _BITS)):
                hit = (entry & np.uint16(1 << (k % _BITS))) != 0
                out.append(torch.from_numpy(hit).unsqueeze(0).to(torch.float32))
        return out


class StreamingEvaluator:
    """Exact verdicts of one video (batch 1) fed as uint8 chunks ``(n, H, W, 3)``."""

    def __init__(self, compiled: CompiledRules):
        if any(n.op == "ask" for n in compiled.nodes):
            raise ValueError("ask() reads the whole video: evaluate it with RewardModule, not streamed")
        self.compiled = compiled
        self.reward = RewardModule(compiled, semantics="exact")
        nodes = compiled.nodes
        split = split_graph(compiled)
        self.static, self.local, self.kept = split.static, split.local, split.kept
        colours = sorted({_colour_key(n) for n in nodes if n.op == "color" and n.id in self.local})
        self.colour_index = {c: i for i, c in enumerate(colours)}
        self.table = ColourTable(colours)
        readers = [n for n in nodes if n.id in self.local and "video" in n.inputs and n.op not in ("color", "box")]
        self.needs_pixels = bool(readers)
        # When every pixel reader is ``unchanged`` over a frozen region, only that region's pixels
        # are converted to float (the kernel reads no others: :func:`covered_pixels`).
        self.gather = bool(readers) and all(
            n.op == "unchanged" and isinstance(n.arg("r"), Ref) and n.arg("r").node in self.static for n in readers)
        self.sem = Exact()

    def run(self, chunks: Iterable[np.ndarray]) -> tuple[RewardReport, int]:
        """The exact report and the number of frames (:meth:`feed` then :meth:`finish`)."""
        num_frames = self.feed(chunks)
        return self.finish(), num_frames

    def feed(self, chunks: Iterable[np.ndarray]) -> int:
        """Reduce every chunk to per-frame signals; returns the number of frames seen."""
        sem = self.sem
        self._static: dict[int, Tensor] = {}
        self._signals: dict[int, list[Tensor]] = {i: [] for i in self.kept}
        previous: np.ndarray | None = None
        self.num_frames, self.size = 0, None
        self._tracks = TrackBook()
        with torch.no_grad():
            for chunk in chunks:
                if self.size is None:
                    self.size = tuple(chunk.shape[1:3])
                    self.reward.validate_geometry(None, *self.size)
                    self._start = to_tensor(chunk[:1])
                    self.table = ColourTable(self.table.detectors, Palette(self._start, self.reward.named_colours))  # a new video, a new palette
                    # static nodes read the first frame (box: its size only), their colour detectors
                    # competing with the same palette as the table's and the whole-video reward's
                    first = GraphInputs.of(self._start, self._start, palette=self.table.palette, tracks=self._tracks)
                    for node in self.compiled.nodes:
                        if node.id in self.static:
                            self._static[node.id] = KERNELS[node.op](sem, *first.for_node(node), *node.arg_values(self._static))
                    if self.gather:
                        self._gather_pixels(chunk[0])
                frames = chunk if previous is None else np.concatenate([previous, chunk])
                self._chunk(frames, 0 if previous is None else 1)
                self.num_frames += chunk.shape[0]
                previous = chunk[-1:]
                release_freed_memory()
        if self.size is None:
            raise ValueError("no frames to evaluate")
        return self.num_frames

    def finish(self) -> RewardReport:
        """The temporal layer on the assembled ``(B, T)`` signals, and the report."""
        self.reward.validate_geometry(self.num_frames, *self.size)
        values: dict[int, Tensor] = dict(self._static)
        for i, parts in self._signals.items():
            values[i] = torch.cat(parts, dim=1)
        with torch.no_grad():
            for node in self.compiled.nodes:
                if node.id not in values and node.kind != Kind.MASK:
                    values[node.id] = KERNELS[node.op](self.sem, *node.arg_values(values))
        return self.reward.report(values, values, 1, self.num_frames)

    def _gather_pixels(self, first: np.ndarray) -> None:
        """For each frozen ``unchanged`` region, the pixels it covers (what the kernel reads of it)."""
        regions = {n.arg("r").node for n in self.compiled.nodes if n.id in self.local and n.op == "unchanged"}
        self._covered = {}
        for r in regions:
            region = self._static[r]
            index = torch.nonzero((region != 0).flatten(-2).any(0).any(0)).squeeze(-1).numpy()
            (gathered,) = covered_pixels(region, region)
            self._covered[r] = (index, gathered, self._pixel_frame(first[None], index))

    @staticmethod
    def _pixel_frame(frames: np.ndarray, index: np.ndarray) -> Tensor:
        """``(n, H, W, 3)`` uint8 -> the pixels at ``index`` (raster order) as a float video ``(1, n, 3, K, 1)``."""
        return to_tensor(frames.reshape(frames.shape[0], -1, 3)[:, index, None, :])

    def _chunk(self, frames: np.ndarray, skip: int) -> None:
        """Frame-local values of ``frames``; the first ``skip`` frames only give context (speed's previous frame)."""
        masks = self.table.masks(frames)
        video = to_tensor(frames) if self.needs_pixels and not self.gather else None
        values: dict[int, Tensor] = dict(self._static)
        for node in self.compiled.nodes:
            if node.id not in self.local:
                continue
            if node.op == "color":
                value = masks[self.colour_index[_colour_key(node)]]
            elif self.gather and node.op == "unchanged":
                index, region, start = self._covered[node.arg("r").node]
                value = KERNELS["unchanged"](self.sem, self._pixel_frame(frames, index), start, region, node.arg("tol").value)
            else:
                tensors = {"video": video, "start": self._start}
                named = [input_for(node, name, tensors, self._tracks.at(self.num_frames - skip)) for name in node.inputs]
                value = KERNELS[node.op](self.sem, *named, *node.arg_values(values))
            values[node.id] = value
            if node.id in self._signals:
                self._signals[node.id].append(value[:, skip:])
