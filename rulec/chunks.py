"""How a graph splits for evaluation a chunk of frames at a time.

*Static* nodes read only the first frame (``at start`` regions, ``box``, what is computed
from them alone). *Frame-local* nodes give frame t's value from frames t-1 and t only
(masks, and the measures and atoms that read masks or pixels: ``speed``, ``moving`` and
``still`` read the previous frame). Every other node is a *signal* node: it reads
``(B, T)`` values only (comparisons, logic, temporal operators).

So frame-local nodes can run on one chunk of frames at a time, with the previous chunk's
last frame in front as context, keeping only their ``(B, n)`` values; the signal nodes
then run once on the assembled ``(B, T)`` signals. Two evaluators use this split: the
streamed exact check (:mod:`rulec.stream`, a video decoded chunk by chunk) and the reward
on large videos (:meth:`rulec.reward.RewardModule.evaluate_in_chunks`, each chunk
checkpointed so backward recomputes it instead of holding every chunk's masks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rulec.primitives.specs import Kind

if TYPE_CHECKING:
    from rulec.ir import CompiledRules

#: Pixels per chunk (batch x frames x height x width): about 2 MPixels, i.e. two 1024x1024
#: frames, keeps a chunk's masks and temporaries well below a few hundred MB.
CHUNK_PIXELS = 1 << 21

#: The reward's chunks (it also holds their autograd graph while recomputing one in backward):
#: about half a million pixels, one 480x832 frame. Measured at 240x416 x 81 frames, forward +
#: backward: whole 1,988 MB above the video, chunks of 2 MPixels 833 MB, of 0.5 MPixels 545 MB.
REWARD_CHUNK_PIXELS = 1 << 19

#: The largest video (B x T x H x W) the reward evaluates whole, which is faster (no
#: recomputation) while memory allows: about 2 GB of temporaries at this size.
WHOLE_VIDEO_PIXELS = 1 << 23

#: Frames of context in front of every chunk but the first (speed reads frame t-1).
CONTEXT_FRAMES = 1


@dataclass(frozen=True)
class GraphSplit:
    """Node ids by how they may be evaluated (see the module docstring)."""

    static: frozenset[int]
    local: frozenset[int]
    #: frame-local nodes whose ``(B, T)`` values the signal nodes or rules read (not masks)
    kept: tuple[int, ...]


def split_graph(compiled: CompiledRules) -> GraphSplit:
    """The static / frame-local / signal split of ``compiled``'s nodes."""
    nodes = compiled.nodes
    static: set[int] = set()
    local: set[int] = set()
    for node in nodes:
        refs = node.refs()
        reads_pixels = bool(node.inputs) or any(nodes[r].kind == Kind.MASK for r in refs)
        if (node.op == "box" or set(node.inputs) - {"tracks"} <= {"start"}) and all(r in static for r in refs) and (reads_pixels or node.kind == Kind.MASK):
            static.add(node.id)
        elif reads_pixels or node.kind == Kind.MASK:
            local.add(node.id)
    kept = tuple(n.id for n in nodes if n.id in local and n.kind != Kind.MASK)
    return GraphSplit(frozenset(static), frozenset(local), kept)


def release_freed_memory() -> None:
    """Give freed heap pages back to the OS after a chunk. glibc keeps them otherwise: a
    chunk's temporaries fall below glibc's raised mmap threshold, and the heap only grows
    (measured: 81 checkpointed chunks kept 778 MB resident without this, 83 MB with it)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def chunk_frames_for(height: int, width: int, batch: int = 1, pixels: int = CHUNK_PIXELS) -> int:
    """Frames per chunk of about ``pixels`` pixels (at least 2, so a chunk always has a previous frame to reuse)."""
    return max(2, pixels // max(1, batch * height * width))


def chunk_bounds(num_frames: int, chunk_frames: int) -> list[tuple[int, int, int]]:
    """``(lo, hi, context)`` per chunk: frames ``lo - context .. hi - 1`` are read, ``lo .. hi - 1`` kept."""
    return [(lo, min(num_frames, lo + chunk_frames), CONTEXT_FRAMES if lo else 0)
            for lo in range(0, num_frames, chunk_frames)]
