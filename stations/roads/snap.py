"""Snap points to the nearest usable road segment (not merely the nearest node).

Coordinates are projected onto a local plane (equirectangular at the network's middle
latitude: a city is small enough that this changes snapping distances by well under a
metre).  A k-d tree holds points along every segment no more than :data:`PIECE_M` apart; the
segment nearest to a point is then found exactly: the nearest piece gives an upper bound
``d``, and every segment within ``d`` has a piece within ``d + PIECE_M / 2``, all of which are
measured exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from ..index import EARTH_RADIUS_M, haversine_m
from .graph import RoadGraph

PIECE_M = 40.0
NEAREST_PIECES = 8


@dataclass(frozen=True, slots=True)
class Snapped:
    """Where points meet the road: segment, fraction from its node a, and the point there."""

    segment: npt.NDArray[np.int64]
    fraction: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    offset_m: npt.NDArray[np.float64]  # straight-line metres from the point to the road


class SegmentSnapper:
    """Exact nearest segment of one graph."""

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        self._lat0 = float(np.radians(np.median(graph.lat)))
        x, y = self._project(graph.lon, graph.lat)
        self._ax, self._ay = x[graph.seg_a], y[graph.seg_a]
        self._dx, self._dy = x[graph.seg_b] - self._ax, y[graph.seg_b] - self._ay
        plane_m = np.hypot(self._dx, self._dy)
        pieces = np.maximum(np.ceil(plane_m / PIECE_M), 1).astype(np.int64)
        self._piece_segment = np.repeat(np.arange(graph.segment_count), pieces)
        first = np.cumsum(pieces) - pieces
        middle = (np.arange(self._piece_segment.size) - first[self._piece_segment] + 0.5) \
            / pieces[self._piece_segment]
        s = self._piece_segment
        self._reach = float((plane_m / pieces).max()) / 2 if pieces.size else 0.0
        self._tree = cKDTree(np.column_stack([self._ax[s] + middle * self._dx[s],
                                              self._ay[s] + middle * self._dy[s]]))

    def _project(self, lon: npt.ArrayLike, lat: npt.ArrayLike
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        lon_r = np.radians(np.asarray(lon, dtype=np.float64))
        lat_r = np.radians(np.asarray(lat, dtype=np.float64))
        return EARTH_RADIUS_M * np.cos(self._lat0) * lon_r, EARTH_RADIUS_M * lat_r

    def _measure(self, px: npt.NDArray[np.float64], py: npt.NDArray[np.float64],
                 segment: npt.NDArray[np.int64]
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Plane distance from each point to its segment, and the fraction where it lands."""
        dx, dy = self._dx[segment], self._dy[segment]
        rx, ry = px - self._ax[segment], py - self._ay[segment]
        length2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(length2 > 0, (rx * dx + ry * dy) / length2, 0.0)
        t = np.minimum(np.maximum(t, 0.0), 1.0)
        return np.hypot(rx - t * dx, ry - t * dy), t

    def snap(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> Snapped:
        """The nearest segment to each point (WGS84 degrees)."""
        lon_arr, lat_arr = np.atleast_1d(lon), np.atleast_1d(lat)
        px, py = self._project(lon_arr, lat_arr)
        points = np.column_stack([px, py])
        # The nearest few pieces settle most points at once: when even the farthest of them
        # is beyond the best distance plus half a piece, no other segment can be nearer.
        few = min(NEAREST_PIECES, self._piece_segment.size)
        reach, piece = self._tree.query(points, k=few)
        reach, piece = reach.reshape(-1, few), piece.reshape(-1, few)
        near_segment = self._piece_segment[piece]
        distance, fraction = self._measure(px[:, None], py[:, None], near_segment)
        pick = np.argmin(distance, axis=1)
        rows = np.arange(px.size)
        segment, t = near_segment[rows, pick], fraction[rows, pick]
        best = distance[rows, pick]
        unsettled = np.flatnonzero((reach[:, -1] <= best + self._reach)
                                   & (few < self._piece_segment.size))
        if unsettled.size:
            segment[unsettled], t[unsettled] = self._settle(px[unsettled], py[unsettled],
                                                            best[unsettled])
        g = self.graph
        a, b = g.seg_a[segment], g.seg_b[segment]
        snap_lon = g.lon[a] + t * (g.lon[b] - g.lon[a])
        snap_lat = g.lat[a] + t * (g.lat[b] - g.lat[a])
        offset = haversine_m(lon_arr, lat_arr, snap_lon, snap_lat)
        return Snapped(segment, t, snap_lon, snap_lat, offset)

    def _settle(self, px: npt.NDArray[np.float64], py: npt.NDArray[np.float64],
                bound: npt.NDArray[np.float64]
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Every piece within ``bound`` plus half a piece, measured: the exact nearest."""
        near = self._tree.query_ball_point(np.column_stack([px, py]),
                                           bound * (1 + 1e-9) + self._reach + 1e-6)
        counts = np.fromiter(map(len, near), dtype=np.int64, count=len(near))
        owner = np.repeat(np.arange(len(near)), counts)
        candidates = self._piece_segment[np.concatenate(near).astype(np.int64)]
        distance, fraction = self._measure(px[owner], py[owner], candidates)
        # Per point, the candidate with the smallest distance (ties: lowest segment number).
        order = np.lexsort((candidates, distance, owner))
        best = order[np.cumsum(counts) - counts]
        return candidates[best], fraction[best]
