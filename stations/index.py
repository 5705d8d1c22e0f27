"""Exact nearest-station search on the sphere.

Stations are stored as 3D unit vectors in a k-d tree (:mod:`pykdtree`, chosen over scipy's
cKDTree because a single query costs a third as much).  The
straight-line (chord) distance between two unit vectors grows monotonically with the
great-circle distance between the points, so the k nearest by chord are exactly the k nearest
on the sphere: no planar-degree shortcut, right at the poles and across the antimeridian.

Filters (amenities, status, city, open now) are a boolean mask over the stations.  A mask that
keeps many stations is applied inside the tree walk, which skips excluded stations and keeps
widening its search until k stations pass; a mask that keeps few stations is answered by brute
force over just those stations, which is then cheaper than walking the tree.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

# pykdtree parallelises queries with OpenMP.  By default idle OpenMP threads spin, waiting for
# work; between a server's single queries they would take the CPU from the event loop and, on
# a busy machine, make each query wait milliseconds for its thread team.  Sleeping threads cost
# nothing between queries.  (Read when OpenMP starts, so it is set before pykdtree loads.)
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np
import numpy.typing as npt
from pykdtree.kdtree import KDTree

EARTH_RADIUS_M = 6371008.8  # IUGG mean Earth radius

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Batches of at least this many points are queried in grid order (see _tree_search).
SORT_QUERIES_FROM = 256
# Below this many selected stations, a linear scan beats widening the tree query.
BRUTE_FORCE_MAX_SELECTED = 4096
# Masks that keep less than this share of stations are also scanned linearly: widening the
# tree query would need roughly k / share candidates.
BRUTE_FORCE_MAX_SHARE = 0.02


def unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
    """Points (degrees) as an (n, 3) array of unit vectors."""
    lon_r = np.radians(np.asarray(lon, dtype=np.float64))
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    cos_lat = np.cos(lat_r)
    return np.stack([cos_lat * np.cos(lon_r), cos_lat * np.sin(lon_r), np.sin(lat_r)], axis=-1)


def haversine_m(lon1: npt.ArrayLike, lat1: npt.ArrayLike,
                lon2: npt.ArrayLike, lat2: npt.ArrayLike) -> FloatArray:
    """Great-circle distance in metres between points given in degrees (broadcasts)."""
    lon1_r, lat1_r, lon2_r, lat2_r = (
        np.radians(np.asarray(v, dtype=np.float64)) for v in (lon1, lat1, lon2, lat2)
    )
    half = (np.sin((lat2_r - lat1_r) / 2) ** 2
            + np.cos(lat1_r) * np.cos(lat2_r) * np.sin((lon2_r - lon1_r) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))


def initial_bearing_deg(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Compass bearing (0 = north, 90 = east) to set off on from point 1 towards point 2.

    Plain floats on purpose: it runs a few times per request, where numpy's per-call
    overhead would cost more than the arithmetic.
    """
    lat1_r, lat2_r = math.radians(lat1), math.radians(lat2)
    d_lon = math.radians(lon2 - lon1)
    y = math.sin(d_lon) * math.cos(lat2_r)
    x = math.cos(lat1_r) * math.sin(lat2_r) - math.sin(lat1_r) * math.cos(lat2_r) * math.cos(d_lon)
    return math.degrees(math.atan2(y, x)) % 360.0


def chord_for_distance(distance_m: float) -> float:
    """Chord length between unit vectors that lie ``distance_m`` apart on the sphere."""
    angle = min(distance_m / EARTH_RADIUS_M, math.pi)
    return 2.0 * math.sin(angle / 2.0)


@dataclass(frozen=True, slots=True)
class Neighbours:
    """Result of a batch query: ``index`` is -1 and ``distance_m`` is inf where fewer than k
    stations qualified.  Rows are nearest first."""

    index: IntArray
    distance_m: FloatArray


class StationIndex:
    """k-nearest and radius queries over station positions (WGS84 degrees).

    An index is immutable; :meth:`updated` makes the index of changed positions without
    rebuilding the k-d tree.  The tree then keeps the positions it was built on: points of
    stations that moved or went are masked out of its walk, and stations that moved or joined
    sit in a small overlay searched linearly beside it.  The two answers are merged by
    distance, so results are exactly those of a fresh tree; :attr:`overlay_size` tells when a
    rebuild (``StationIndex(lon, lat)``, away from the refresh) is worth it.
    """

    def __init__(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> None:
        self.lon = np.ascontiguousarray(lon, dtype=np.float64)
        self.lat = np.ascontiguousarray(lat, dtype=np.float64)
        if self.lon.shape != self.lat.shape or self.lon.ndim != 1:
            raise ValueError("lon and lat must be one-dimensional arrays of equal length")
        self.size = int(self.lon.shape[0])
        self._xyz = unit_vectors(self.lon, self.lat)
        # pykdtree refuses an empty tree; queries never reach it when there are no stations.
        self._tree = KDTree(self._xyz if self.size else np.zeros((1, 3)), leafsize=16)
        self._tree_size = self.size
        # After updates: each tree point's station row (-1: moved or gone), the tree points
        # to skip (as pykdtree wants a mask), and the rows outside the tree.
        self._tree_rows: IntArray | None = None
        self._stale: npt.NDArray[np.uint8] | None = None
        self._extra: IntArray = np.zeros(0, dtype=np.int64)
        self._extra_xyz: FloatArray = np.zeros((0, 3))
        self._last_mask: tuple[BoolArray, npt.NDArray[np.uint8] | None, int, IntArray] | None \
            = None

    def __len__(self) -> int:
        return self.size

    @property
    def overlay_size(self) -> int:
        """Stations searched outside the tree plus tree points skipped: the cost of updates."""
        skipped = 0 if self._stale is None else int(np.count_nonzero(self._stale))
        return int(self._extra.size) + skipped

    def updated(self, lon: npt.ArrayLike, lat: npt.ArrayLike, changed: npt.ArrayLike,
                new_row: IntArray | None = None) -> StationIndex:
        """The index of new positions, sharing this one's tree.

        ``changed`` are the new rows whose position moved or that joined; ``new_row[i]`` is the
        new row of old row ``i`` (-1 if the station went; None when no row went).  Costs a
        pass over arrays, never a tree build.
        """
        fresh = object.__new__(StationIndex)
        fresh.lon = np.ascontiguousarray(lon, dtype=np.float64)
        fresh.lat = np.ascontiguousarray(lat, dtype=np.float64)
        fresh.size = int(fresh.lon.shape[0])
        fresh._tree, fresh._tree_size = self._tree, self._tree_size
        changed = np.asarray(changed, dtype=np.int64)
        rows = np.arange(self._tree_size) if self._tree_rows is None else self._tree_rows
        extra = self._extra
        if new_row is not None:
            rows = np.where(rows >= 0, new_row[np.maximum(rows, 0)], -1)
            extra = new_row[extra]
            extra = extra[extra >= 0]
            fresh._xyz = self._xyz[new_row >= 0]
        else:
            fresh._xyz = self._xyz
        if changed.size:
            moved = np.zeros(fresh.size, dtype=bool)
            moved[changed] = True
            rows = np.where(moved[np.maximum(rows, 0)], -1, rows)
            extra = np.union1d(extra, changed)
            fresh._xyz = fresh._xyz.copy() if fresh._xyz is self._xyz else fresh._xyz
            if fresh._xyz.shape[0] < fresh.size:
                fresh._xyz = np.concatenate([fresh._xyz,
                                             np.zeros((fresh.size - fresh._xyz.shape[0], 3))])
            fresh._xyz[changed] = unit_vectors(fresh.lon[changed], fresh.lat[changed])
        fresh._tree_rows = rows
        stale = rows < 0
        fresh._stale = stale.view(np.uint8) if stale.any() else None
        fresh._extra, fresh._extra_xyz = extra, fresh._xyz[extra]
        fresh._last_mask = None
        return fresh

    def nearest(self, lon: float, lat: float, k: int, radius_m: float | None = None,
                mask: BoolArray | None = None) -> tuple[list[int], list[float]]:
        """The k nearest stations to one point: (indices, metres), nearest first.

        Unfiltered single queries are what riders send most, so they skip the array set-up of
        :meth:`nearest_batch`.
        """
        if mask is not None or self.size == 0:
            found = self.nearest_batch((lon,), (lat,), k, radius_m, mask)
            keep = found.index[0] >= 0
            return found.index[0][keep].tolist(), found.distance_m[0][keep].tolist()
        lon_r, lat_r = math.radians(lon), math.radians(lat)
        cos_lat = math.cos(lat_r)
        point = np.array([[cos_lat * math.cos(lon_r), cos_lat * math.sin(lon_r),
                           math.sin(lat_r)]])
        bound = None if radius_m is None else chord_for_distance(radius_m) * (1 + 1e-9)
        chord, index = self._tree.query(point, k=k, distance_upper_bound=bound,
                                        mask=self._stale)
        pairs = [(c, i) for i, c in zip(index.ravel().tolist(), chord.ravel().tolist(),
                                         strict=True)
                 if i < self._tree_size]  # fewer stations than k, or none within the radius
        if self._tree_rows is not None:
            rows = self._tree_rows[[i for _, i in pairs]].tolist()
            pairs = [(c, row) for (c, _), row in zip(pairs, rows, strict=True)]
            if self._extra.size:
                extra_chord = np.sqrt(np.square(self._extra_xyz - point).sum(axis=1))
                near = np.argpartition(extra_chord, k - 1)[:k] if extra_chord.size > k \
                    else slice(None)
                pairs = sorted(pairs + list(zip(extra_chord[near].tolist(),
                                                self._extra[near].tolist(), strict=True)))[:k]
        limit = math.inf if radius_m is None else radius_m
        indices: list[int] = []
        metres: list[float] = []
        for c, i in pairs:
            distance = 2.0 * EARTH_RADIUS_M * math.asin(min(c, 2.0) / 2.0)
            if distance > limit:
                break
            indices.append(i)
            metres.append(distance)
        return indices, metres

    def nearest_batch(self, lon: npt.ArrayLike, lat: npt.ArrayLike, k: int,
                      radius_m: float | None = None,
                      mask: BoolArray | None = None) -> Neighbours:
        """The k nearest stations to each of many points, vectorised."""
        points = unit_vectors(lon, lat).reshape(-1, 3)
        n_points = points.shape[0]
        k = int(k)
        if k < 1:
            raise ValueError("k must be at least 1")
        bound = np.inf if radius_m is None else chord_for_distance(radius_m) * (1 + 1e-9)
        selected = self.size if mask is None else self._mask_facts(mask)[1]
        if selected == 0 or self.size == 0 or n_points == 0:
            return Neighbours(np.full((n_points, k), -1, dtype=np.int64),
                              np.full((n_points, k), np.inf))
        if mask is not None and selected < self.size and (
            selected <= BRUTE_FORCE_MAX_SELECTED or selected < BRUTE_FORCE_MAX_SHARE * self.size
        ):
            index, chord = self._scan(points, k, bound, np.flatnonzero(mask))
        else:
            index, chord = self._tree_search(points, k, bound, mask)
        return self._finish(index, chord, radius_m)

    def _tree_search(self, points: FloatArray, k: int, bound: float,
                     mask: BoolArray | None) -> tuple[IntArray, FloatArray]:
        """Tree query; a mask is applied inside the tree walk, so the answer stays exact.

        Many points are asked in order of a coarse grid cell, so that neighbouring queries walk
        the same part of the tree while it is in the CPU's cache (about twice as fast for
        10,000 points over 150,000 stations); the answers come back in the order asked.
        After :meth:`updated`, the overlay's answer is merged in."""
        excluded, extra = (self._stale, self._extra) if mask is None \
            else self._mask_facts(mask)[::2]
        order = _grid_order(points) if points.shape[0] >= SORT_QUERIES_FROM else None
        if order is not None:
            points = points[order]
        chord, index = self._tree.query(points, k=k, distance_upper_bound=bound, mask=excluded)
        index = index.reshape(points.shape[0], k).astype(np.int64)
        chord = chord.reshape(points.shape[0], k)
        if order is not None:
            back = np.empty_like(order)
            back[order] = np.arange(order.size)
            index, chord = index[back], chord[back]
            points = points[back]
        index[index >= self._tree_size] = -1
        if self._tree_rows is not None:
            index = np.where(index >= 0, self._tree_rows[np.maximum(index, 0)], -1)
        if extra.size:
            more, more_chord = self._scan(points, k, bound, extra)
            index, chord = _merge(index, chord, more, more_chord, k)
        return index, chord

    def _mask_facts(self, mask: BoolArray
                    ) -> tuple[npt.NDArray[np.uint8] | None, int, IntArray]:
        """For a filter mask over stations: the tree points to skip as pykdtree wants them,
        how many stations it keeps, and the overlay rows it keeps.

        Remembered for the last mask seen: callers ask many questions under the same (cached)
        filter, and these cost a pass over every station.  Exclusions are kept as bytes
        because pykdtree converts masks to uint8, which would copy a bool mask on every query.
        """
        last = self._last_mask
        if last is not None and last[0] is mask:
            return last[1], last[2], last[3]
        if self._tree_rows is None:
            excluded = (~mask).view(np.uint8)
        else:
            kept = (self._tree_rows >= 0) & mask[np.maximum(self._tree_rows, 0)]
            excluded = (~kept).view(np.uint8)
        extra = self._extra[mask[self._extra]]
        selected = int(np.count_nonzero(mask))
        self._last_mask = (mask, excluded, selected, extra)  # one assignment: threads see
        return excluded, selected, extra                     # old or new

    def _scan(self, points: FloatArray, k: int, bound: float,
              candidates: IntArray) -> tuple[IntArray, FloatArray]:
        """Linear scan over a small selection of stations, in blocks to bound memory."""
        n_points = points.shape[0]
        index = np.full((n_points, k), -1, dtype=np.int64)
        chord = np.full((n_points, k), np.inf)
        xyz = self._xyz[candidates]
        width = min(k, candidates.size)
        block = max(1, 1_000_000 // max(1, candidates.size))
        for start in range(0, n_points, block):
            part = points[start:start + block]
            # Differences, not 2 - 2 a.b: the dot product loses millimetres to cancellation.
            squared = np.square(part[:, None, :] - xyz[None, :, :]).sum(axis=2)
            if width < candidates.size:
                top = np.argpartition(squared, width - 1, axis=1)[:, :width]
            else:
                top = np.broadcast_to(np.arange(width), (part.shape[0], width))
            top_sq = np.take_along_axis(squared, top, axis=1)
            order = np.argsort(top_sq, axis=1, kind="stable")
            top = np.take_along_axis(top, order, axis=1)
            top_chord = np.sqrt(np.take_along_axis(top_sq, order, axis=1))
            inside = top_chord <= bound
            index[start:start + part.shape[0], :width] = np.where(inside, candidates[top], -1)
            chord[start:start + part.shape[0], :width] = np.where(inside, top_chord, np.inf)
        return index, chord

    @staticmethod
    def _finish(index: IntArray, chord: FloatArray, radius_m: float | None) -> Neighbours:
        """Metres from the chord, 2R asin(c/2): the great-circle distance haversine gives."""
        metres = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(chord, 2.0) / 2.0)
        metres[index < 0] = np.inf
        if radius_m is not None:
            outside = metres > radius_m
            index[outside] = -1
            metres[outside] = np.inf
        return Neighbours(index, metres)


def _merge(index: IntArray, chord: FloatArray, more: IntArray, more_chord: FloatArray, k: int
           ) -> tuple[IntArray, FloatArray]:
    """The k nearest of two answers for the same points (rows nearest first, -1/inf empty)."""
    index, chord = np.hstack([index, more]), np.hstack([chord, more_chord])
    order = np.argsort(chord, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(index, order, axis=1), np.take_along_axis(chord, order, axis=1)


def _grid_order(points: FloatArray) -> IntArray:
    """An order of unit vectors by cells about 50 km wide (256 steps per axis)."""
    cells = np.clip(((points + 1.0) * 128).astype(np.int64), 0, 255)
    return np.argsort((cells[:, 0] << 16) | (cells[:, 1] << 8) | cells[:, 2], kind="stable")


class StationSubset:
    """A fixed selection of stations with a tree of its own.

    A filter that keeps a minority of stations (one city, a rare amenity) makes the masked tree
    walk visit much of the national tree whenever the nearest selected stations are far away;
    a tree over the selection alone answers as fast as an unfiltered query.  Indices returned
    are those of the full index.
    """

    def __init__(self, index: StationIndex, mask: BoolArray) -> None:
        self.rows = np.flatnonzero(mask)
        self._index = StationIndex(index.lon[self.rows], index.lat[self.rows])

    def nearest(self, lon: float, lat: float, k: int, radius_m: float | None = None
                ) -> tuple[list[int], list[float]]:
        """As :meth:`StationIndex.nearest`, over the selection."""
        positions, metres = self._index.nearest(lon, lat, k, radius_m)
        return self.rows[positions].tolist(), metres

    def nearest_batch(self, lon: npt.ArrayLike, lat: npt.ArrayLike, k: int,
                      radius_m: float | None = None) -> Neighbours:
        """As :meth:`StationIndex.nearest_batch`, over the selection."""
        found = self._index.nearest_batch(lon, lat, k, radius_m)
        if not self.rows.size:
            return found  # nothing selected: every row is already "none found"
        index = np.where(found.index >= 0, self.rows[np.maximum(found.index, 0)], -1)
        return Neighbours(index, found.distance_m)
