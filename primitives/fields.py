"""Distance fields of frozen regions, and reading them at a soft mask.

Atoms and measures that must keep pulling when an object is far from a region read a
*field* (a per-pixel distance, normalized frame units) at the object's soft mask. Fields
are computed without gradient on the region thresholded at ``FIELD_THRESHOLD`` (exact
Euclidean transform, or shortest paths through free space); the gradient of
``read_at(o, field)`` flows through the object's mask only. One field per map: a static
region (T = 1) costs one transform whatever the video's length.

Pixel centres sit at ``(i + 0.5) / size`` as in :mod:`measures`, so a step of one pixel is
``1 / W`` across and ``1 / H`` down.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch
from torch import Tensor

from rulec.primitives.conventions import EMPTY_PATH_DISTANCE, FIELD_THRESHOLD
from rulec.primitives.measures import safe_ratio

#: Memory for fields of maps seen before (a batch's frozen regions, on every call of a reward).
FIELD_CACHE_BYTES = 64 * 2**20


def _maps(*masks: Tensor) -> tuple[np.ndarray, ...]:
    """Masks broadcast to one shape ``(B, T, H, W)`` and thresholded, as numpy bools."""
    shape = torch.broadcast_shapes(*(m.shape for m in masks))
    return tuple((m.detach() > FIELD_THRESHOLD).expand(shape).cpu().numpy() for m in masks)


def _as_tensor(field: np.ndarray, like: Tensor) -> Tensor:
    return torch.from_numpy(field).to(device=like.device, dtype=like.dtype)


def _edt(outside: np.ndarray, return_indices: bool = False):
    """Exact Euclidean distance of every pixel to the nearest ``False`` pixel, in normalized units."""
    from scipy.ndimage import distance_transform_edt

    h, w = outside.shape
    return distance_transform_edt(outside, sampling=(1.0 / h, 1.0 / w), return_indices=return_indices)


def _memo(compute):
    """Memoize a map -> field function on the maps' content (pure: same maps, same field).

    A reward reads the same frozen regions on every call (exact and smooth passes, every
    optimization step); the transform of a map is computed once. Least recently used fields
    are dropped beyond ``FIELD_CACHE_BYTES``, so large frames keep few.
    """
    cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
    held = [0]  # bytes in the cache

    def call(*maps: np.ndarray) -> np.ndarray:
        key = (maps[0].shape, *(np.packbits(m).tobytes() for m in maps))
        field = cache.get(key)
        if field is not None:
            cache.move_to_end(key)
            return field
        field = compute(*maps)
        field.setflags(write=False)
        cache[key] = field
        held[0] += field.nbytes
        while held[0] > FIELD_CACHE_BYTES and len(cache) > 1:
            held[0] -= cache.popitem(last=False)[1].nbytes
        return field

    call.cache = cache  # for tests
    return call


@_memo
def _region_map(binary: np.ndarray) -> np.ndarray:
    return _edt(~binary) if binary.any() else np.zeros(binary.shape)


def region_distance(region: Tensor) -> Tensor:
    """Distance of each pixel to the nearest pixel of ``region`` (0 inside it), ``(B, T|1, H, W)``.

    An empty region gives 0 everywhere: there is nowhere to pull towards.
    """
    (binary,) = _maps(region)
    field = np.zeros(binary.shape, dtype=np.float64)
    for index in np.ndindex(*binary.shape[:2]):
        field[index] = _region_map(binary[index])
    return _as_tensor(field, region)


def _box_distance(binary: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    """Distance of the pixels ``[rows, cols]`` to the bounding box of ``binary``'s pixel centres
    (normalized units): a lower bound of their distance to the nearest pixel of ``binary``."""
    h, w = binary.shape
    ys, xs = np.flatnonzero(binary.any(1)), np.flatnonzero(binary.any(0))
    y, x = np.arange(h)[rows], np.arange(w)[cols]
    dy = np.maximum(np.maximum(ys[0] - y, y - ys[-1]), 0) / h
    dx = np.maximum(np.maximum(xs[0] - x, x - xs[-1]), 0) / w
    return np.hypot(dy[:, None], dx[None, :])


def _support(o: Tensor) -> tuple[slice, slice] | None:
    """The bounding box of a map's non-zero pixels, as slices (None when it has none)."""
    rows, cols = torch.nonzero(o.any(1)).flatten(), torch.nonzero(o.any(0)).flatten()
    if rows.numel() == 0:
        return None
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def mean_distance(o: Tensor, region: Tensor, enough: Tensor | None = None) -> Tensor:
    """Mass-weighted mean distance of o's pixels to ``region``, ``(B, T)`` (0 for an empty o or region).

    With ``enough`` (``(B, T)``), for a caller that keeps only ``min(enough, result)``: where
    o's mean distance to the region's *bounding box* (a lower bound of the true mean, read
    on o's own support only) already exceeds ``enough``, that bound is returned, as a
    constant, instead of paying an exact transform of the region. ``min(enough, result)``
    is then exactly ``min(enough, true mean)``, with the same gradient (all through
    ``enough``, the strictly smaller one). A static region (T = 1) is always exact: its
    transform is computed once.
    """
    if enough is None or region.shape[1] == 1:
        return read_at(o, region_distance(region), 0.0)
    shape = torch.broadcast_shapes(o.shape, region.shape)
    o, region, enough = o.expand(shape), region.expand(shape), enough.expand(shape[:2])
    (binary,) = _maps(region)
    weights, bound = o.detach(), enough.detach()
    values = []
    for index in np.ndindex(*shape[:2]):
        if not binary[index].any():
            values.append(o.new_zeros(()))
            continue
        box = _support(weights[index])
        if box is not None:
            under = weights[index][box].double().cpu().numpy()
            mean_box = float((under * _box_distance(binary[index], *box)).sum() / under.sum())
            if mean_box > float(bound[index]):
                values.append(o.new_tensor(mean_box))
                continue
        field = torch.tensor(_region_map(binary[index]), dtype=o.dtype, device=o.device)  # the memo's array is read-only
        values.append(read_at(o[index], field, 0.0))
    return torch.stack(values).view(shape[:2])


def _grid_graph(passable: np.ndarray):
    """8-connected pixel graph of the passable pixels; a diagonal step needs both pixels beside it passable."""
    from scipy.sparse import coo_matrix

    h, w = passable.shape
    ids = np.arange(h * w).reshape(h, w)
    rows, cols, weights = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        ys, xs = np.mgrid[0 : h - dy, max(0, -dx) : w - max(0, dx)]
        ok = passable[ys, xs] & passable[ys + dy, xs + dx]
        if dy and dx:  # no corner cutting between two blocked pixels
            ok &= passable[ys + dy, xs] & passable[ys, xs + dx]
        rows.append(ids[ys, xs][ok])
        cols.append(ids[ys + dy, xs + dx][ok])
        weights.append(np.full(int(ok.sum()), float(np.hypot(dy / h, dx / w))))
    n = h * w
    return coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()


@_memo
def _path_map(goal: np.ndarray, free: np.ndarray) -> np.ndarray:
    """One map of :func:`path_field`."""
    from scipy.sparse.csgraph import dijkstra

    if not goal.any():
        return np.full(goal.shape, EMPTY_PATH_DISTANCE)
    passable = free | goal
    dist = dijkstra(_grid_graph(passable), directed=False, indices=np.flatnonzero(goal), min_only=True)
    dist = dist.reshape(goal.shape)
    reached = np.isfinite(dist)
    if reached.all():
        return dist
    # the rest (walls, enclosed pockets) takes its nearest reached pixel's distance plus the straight way there
    gap, (iy, ix) = _edt(~reached, return_indices=True)
    return dist[iy, ix] + gap


def path_field(goal: Tensor, free: Tensor) -> Tensor:
    """Shortest-path length from each pixel to ``goal`` through ``free`` (goal pixels count as free).

    8-connected steps cost their length in normalized units (1/W across, 1/H down, the
    diagonal between). Pixels from which the goal cannot be reached through free space
    get the value of the nearest reachable pixel (one of them, on a tie) plus the straight
    distance to it: finite, and in a wall at least two pixels thick each pixel reads the
    corridor on its own side, so the wall never looks closer than the corridor beside it
    (a mask straddling a thinner wall may read the far side). An empty goal gives
    ``EMPTY_PATH_DISTANCE`` everywhere.
    """
    g, f = _maps(goal, free)
    field = np.zeros(g.shape, dtype=np.float64)
    for index in np.ndindex(*g.shape[:2]):
        field[index] = _path_map(g[index], f[index])
    return _as_tensor(field, goal)


def read_at(o: Tensor, field: Tensor, when_empty: float) -> Tensor:
    """Mass-weighted mean of ``field`` under the soft mask ``o``: ``(B, T)``; ``when_empty`` for an empty o.

    The field carries no gradient; the value's gradient flows through ``o``.
    """
    return safe_ratio((o * field).sum((-2, -1)), o.sum((-2, -1)), when_empty)
