"""Exact k-nearest stations by road for one profile.

Preparation (once per station set): every station is snapped onto its nearest segment and
"attached" to the segment's ends it can be reached from, with the rest of the segment plus
the straight walk from road to door as extra metres; then one k-best search from all stations
at once labels every node with its ``K`` (:data:`PREPARED_K`) nearest stations.

A query snaps the rider onto a segment (a, b).  Every route leaves that segment through a or b
(or reaches a station on the same segment directly), so the distance to a station ``s`` is the
smaller of ``offset_a + d(a, s)`` and ``offset_b + d(b, s)``.  The labels give ``d(e, s)``
exactly for the stations they hold; a station missing from end e's labels is at least
``T_e`` (e's K-th label) from e.  So with ``B = min_e(offset_e + T_e)``, every candidate whose
combined distance is at most ``B`` has its exact distance, and no missing station can be
nearer than ``B``: when k wanted candidates lie within ``B`` they are the exact answer.
Otherwise (filters that exclude most labelled stations, k above ``K``, a radius beyond ``B``)
a Dijkstra from the rider that stops at the k-th wanted station answers instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .graph import RoadGraph
from .kernels import k_nearest_labels, search_from
from .points import attachments
from .snap import SegmentSnapper, Snapped

PREPARED_K = 8
# Stations and riders farther than this from every usable road are off the network.
MAX_SNAP_M = 500.0


@dataclass(frozen=True, slots=True)
class RoadAnswer:
    """Stations (positions in the station table) nearest first, road metres, and routes as
    lists of WGS84 ``(lon, lat)`` when asked for."""

    rows: list[int]
    metres: list[float]
    routes: list[list[tuple[float, float]]] | None = None


@dataclass(frozen=True, slots=True)
class Start:
    """A rider on the road: the segment ends it can leave by, at what distance, and the
    stations on the same segment it can reach without passing a node."""

    node: npt.NDArray[np.int64]
    metres: npt.NDArray[np.float64]
    direct_station: npt.NDArray[np.int64]
    direct_metres: npt.NDArray[np.float64]
    lon: float
    lat: float
    snap_lon: float
    snap_lat: float


class RoadStations:
    """Stations prepared on one profile's graph, answering exact k-nearest queries."""

    def __init__(self, graph: RoadGraph, snapper: SegmentSnapper,
                 lon: npt.ArrayLike, lat: npt.ArrayLike, prepared_k: int = PREPARED_K,
                 max_snap_m: float = MAX_SNAP_M) -> None:
        self.graph = graph
        self.snapper = snapper
        self.max_snap_m = max_snap_m
        self.lon = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        self.lat = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        self.count = int(self.lon.size)
        self.snapped: Snapped = snapper.snap(self.lon, self.lat) if self.count else \
            Snapped(*(np.zeros(0, dtype=t) for t in (np.int64, *[np.float64] * 4)))
        self.on_road = self.snapped.offset_m <= max_snap_m
        self._attach()
        self.prepared_k = prepared_k
        out = graph.in_edges
        self.label_station, self.label_m = k_nearest_labels(
            out.indptr, out.indices, out.weights, graph.node_count, prepared_k,
            self._att_node_sorted, self.att_station, self.att_extra)

    @property
    def off_road(self) -> npt.NDArray[np.int64]:
        """Stations farther than ``max_snap_m`` from any usable road: left out of answers."""
        return np.flatnonzero(~self.on_road)

    def _attach(self) -> None:
        """Attachments: for each node, the stations reachable from it and the extra metres."""
        g = self.graph
        node, who, extra = attachments(g, self.snapped, self.on_road)
        order = np.argsort(node, kind="stable")
        self._att_node_sorted = node[order]
        self.att_station, self.att_extra = who[order], extra[order]
        self.att_indptr = np.zeros(g.node_count + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=g.node_count), out=self.att_indptr[1:])
        station = np.flatnonzero(self.on_road)
        segment = self.snapped.segment[station]
        by_segment = np.argsort(segment, kind="stable")
        self._seg_sorted = segment[by_segment]
        self._seg_station = station[by_segment]

    # ----- a rider on the road ---------------------------------------------------------------

    def starts(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[Start | None]:
        """Snap riders; None for one farther than ``max_snap_m`` from every usable road."""
        lon_arr, lat_arr = np.atleast_1d(lon), np.atleast_1d(lat)
        snapped = self.snapper.snap(lon_arr, lat_arr)
        return [self._start(snapped, i, float(lon_arr[i]), float(lat_arr[i]))
                if snapped.offset_m[i] <= self.max_snap_m else None
                for i in range(lon_arr.size)]

    def _start(self, snapped: Snapped, i: int, lon: float, lat: float) -> Start:
        g = self.graph
        segment, t, offset = int(snapped.segment[i]), float(snapped.fraction[i]), \
            float(snapped.offset_m[i])
        length = float(g.seg_m[segment])
        nodes, metres = [], []
        if g.forward[segment]:
            nodes.append(int(g.seg_b[segment]))
            metres.append(offset + (1 - t) * length)
        if g.backward[segment]:
            nodes.append(int(g.seg_a[segment]))
            metres.append(offset + t * length)
        low, high = np.searchsorted(self._seg_sorted, [segment, segment + 1])
        here = self._seg_station[low:high]
        along = (self.snapped.fraction[here] - t) * length
        usable = (along >= 0) & g.forward[segment] | (along <= 0) & g.backward[segment]
        direct = offset + np.abs(along) + self.snapped.offset_m[here]
        return Start(np.asarray(nodes, dtype=np.int64), np.asarray(metres), here[usable],
                     direct[usable], lon, lat, float(snapped.lon[i]), float(snapped.lat[i]))

    # ----- queries -----------------------------------------------------------------------

    def nearest(self, start: Start, k: int, wanted: npt.NDArray[np.bool_] | None = None,
                radius_m: float | None = None, route: bool = False) -> RoadAnswer:
        """The k nearest wanted stations by road from a snapped rider, exact."""
        if not route:
            answer = self._from_labels(start, k, wanted, radius_m)
            if answer is not None:
                return answer
        return self._search(start, k, wanted, radius_m, route)

    def _from_labels(self, start: Start, k: int, wanted: npt.NDArray[np.bool_] | None,
                     radius_m: float | None) -> RoadAnswer | None:
        """The answer from the prepared labels, or None when they cannot prove it exact."""
        if k > self.prepared_k:
            return None
        stations = [start.direct_station]
        metres = [start.direct_metres]
        bound = math.inf
        for node, offset in zip(start.node.tolist(), start.metres.tolist(), strict=True):
            stations.append(self.label_station[node])
            metres.append(self.label_m[node] + offset)
            bound = min(bound, offset + float(self.label_m[node, -1]))
        station = np.concatenate(stations)
        metre = np.concatenate(metres)
        keep = station >= 0
        if wanted is not None:
            keep &= wanted[np.maximum(station, 0)]
        limit = bound if radius_m is None else min(bound, radius_m)
        keep &= metre <= limit
        station, metre = station[keep], metre[keep]
        order = np.lexsort((station, metre))
        station, metre = station[order], metre[order]
        # A station seen from both ends counts once, at the nearer distance (sorted first).
        first = np.zeros(station.size, dtype=bool)
        first[np.unique(station, return_index=True)[1]] = True
        station, metre = station[first], metre[first]
        if station.size < k and limit < math.inf and not (radius_m is not None
                                                          and radius_m <= bound):
            return None
        return RoadAnswer(station[:k].tolist(), metre[:k].tolist())

    def _search(self, start: Start, k: int, wanted: npt.NDArray[np.bool_] | None,
                radius_m: float | None, route: bool) -> RoadAnswer:
        """Dijkstra from the rider until k wanted stations are settled."""
        out = self.graph.out_edges
        if wanted is None:
            wanted = self.on_road
        found, metres, node_before, station_from = search_from(
            out.indptr, out.indices, out.weights, start.node, start.metres, self.att_indptr,
            self.att_station, self.att_extra, start.direct_station, start.direct_metres,
            wanted & self.on_road, k, math.inf if radius_m is None else radius_m, self.count)
        rows = found.tolist()
        routes = [self._route(start, s, node_before, station_from) for s in rows] \
            if route else None
        return RoadAnswer(rows, metres.tolist(), routes)

    def _route(self, start: Start, station: int, node_before: npt.NDArray[np.int32],
               station_from: npt.NDArray[np.int32]) -> list[tuple[float, float]]:
        """Rider, onto the road, node by node, off the road, station."""
        nodes = []
        node = int(station_from[station])
        while node >= 0:
            nodes.append(node)
            node = int(node_before[node])
        nodes.reverse()
        g = self.graph
        return [(start.lon, start.lat), (start.snap_lon, start.snap_lat),
                *zip(g.lon[nodes].tolist(), g.lat[nodes].tolist(), strict=True),
                (float(self.snapped.lon[station]), float(self.snapped.lat[station])),
                (float(self.lon[station]), float(self.lat[station]))]
