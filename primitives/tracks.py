"""Tracks: one object of a same-colour set followed over time, so "the card that started on the
left" keeps its identity while it moves, passes another card or hides behind one.

``track(o, k, by="x")`` is the k-th piece of ``o`` in frame 0 (in the order ``nth`` uses), and
in every later frame the piece assigned to it. Each frame, all frame-0 pieces are assigned at
once to the frame's pieces by an optimal assignment (``scipy.optimize.linear_sum_assignment``)
whose cost is the square root of the distance from each track's last known centroid: concave,
so an object that stays put keeps its piece while another passes it (two objects moving a
little each would cost less with a linear or squared cost than one standing still and one
passing by; measured on card_swap, where that swapped the middle card and the one that passed
behind it). A track with
no piece left to take (hidden behind an occluder, merged into another piece of its colour,
vanished) is empty in that frame and keeps its last known centroid, so it is found again where
it reappears; a piece nobody takes (a duplicate) belongs to no track. Pieces are 8-connected
pieces of the mask > 0.5 (:func:`rulec.primitives.instances.pieces`: specks are none).

The assignment is exact and carries no gradient; the result is the soft mask on the assigned
piece's pixels (0 elsewhere), as for ``nth``. It depends on every earlier frame, so a
:class:`TrackBook` keeps, per tracked mask and batch item, the state after each frame: chunked
and streamed evaluation resume from the previous chunk's state, and a recomputation in
backward finds the state it needs. Every track of one mask (``track(cards, 1)``,
``track(cards, 2)``, a quantifier's instances) shares one labelling and assignment per frame:
the book keeps the last chunk's map of track numbers per mask, and each track node reads its
own number from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from rulec.primitives.instances import check_order, order, pieces
from rulec.primitives.semantics import Semantics


@dataclass
class _State:
    """After one frame: every frame-0 piece's last known centroid (K, 2) and which piece of the frame it took (-1: none)."""

    centroids: np.ndarray
    taken: np.ndarray


#: A tracked mask: the graph node that computes it and the order its frame-0 pieces are numbered in.
TrackKey = tuple[int, str]


@dataclass
class TrackBook:
    """The tracks' states of one evaluation, by (tracked mask, batch item, frame); ``offset``: the
    global index of the first frame the kernels are given (a chunk's first frame, its context
    included). ``numbers`` keeps, per tracked mask, the last frames numbered (their offset and
    the map), which the other tracks of that mask read instead of labelling the frames again."""

    offset: int = 0
    states: dict[tuple[TrackKey, int, int], _State] = field(default_factory=dict)
    numbers: dict[TrackKey, tuple[int, np.ndarray]] = field(default_factory=dict)

    def at(self, offset: int) -> TrackBook:
        """The same book, read from frame ``offset`` on (a chunk)."""
        return TrackBook(offset, self.states, self.numbers)


@dataclass(frozen=True)
class TrackHandle:
    """What one track node's kernel receives: the book and the graph node of the mask it tracks."""

    book: TrackBook
    mask_node: int


def _first(centroids: np.ndarray, sizes: np.ndarray, by: str) -> _State:
    ranked = order(sizes, centroids[:, 0], centroids[:, 1], by)
    return _State(centroids[ranked], ranked)


def _assign(previous: _State, centroids: np.ndarray) -> _State:
    from scipy.optimize import linear_sum_assignment

    k = len(previous.centroids)
    taken = np.full(k, -1)
    last = previous.centroids.copy()
    if k and len(centroids):
        # concave in the distance: an object that stays put keeps its piece, and one that moved
        # (or reappears past an occluder) takes the piece left over, rather than both shifting a little
        cost = np.sqrt(np.linalg.norm(previous.centroids[:, None, :] - centroids[None, :, :], axis=-1))
        rows, cols = linear_sum_assignment(cost)
        taken[rows] = cols
        last[rows] = centroids[cols]
    return _State(last, taken)


def track_numbers(book: TrackBook, key: TrackKey, o: Tensor) -> np.ndarray:
    """Per pixel of the mask ``o`` ``(B, T, H, W)`` (frames from ``book.offset`` on), the number of
    the track whose piece it is (1 = the first frame-0 piece in order of ``key``'s ``by``), 0 for
    none. Another track of the same mask finds it in the book: the mask is thresholded once."""
    found = book.numbers.get(key)
    if found is not None and found[0] == book.offset and found[1].shape == tuple(o.shape):
        return found[1]
    binary = (o.detach() > 0.5).cpu().numpy()
    by = key[1]
    b, t = binary.shape[:2]
    out = np.zeros(binary.shape, dtype=np.int16)
    for i in range(b):
        for j in range(t):
            g = book.offset + j
            labels, ids, centroids, sizes = pieces(binary[i, j])
            if g == 0:
                state = _first(centroids, sizes, by)
            else:
                previous = book.states.get((key, i, g - 1))
                if previous is None:
                    raise RuntimeError(f"track(): frame {g} evaluated before frame {g - 1}")
                state = _assign(previous, centroids)
            book.states[(key, i, g)] = state
            lut = np.zeros(int(labels.max()) + 1, dtype=np.int16)
            held = np.nonzero(state.taken >= 0)[0]
            lut[ids[state.taken[held]]] = held + 1
            out[i, j] = lut[labels]
    book.numbers[key] = (book.offset, out)
    return out


def track(sem: Semantics, tracks: TrackHandle | None, o: Tensor, k: int, by: str = "x") -> Tensor:
    """``o`` on the piece assigned to the k-th frame-0 piece (1 = first in order of ``by``), per frame;
    ``tracks``: this node's handle on the evaluation's book (None: a fresh one, the video from frame 0)."""
    check_order("track", k, by)
    book, mask_node = (tracks.book, tracks.mask_node) if tracks is not None else (TrackBook(), -1)
    numbers = track_numbers(book, (mask_node, by), o)
    return o * torch.from_numpy(numbers == k).to(device=o.device, dtype=o.dtype)
