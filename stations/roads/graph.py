"""A profile's road graph: nodes, segments and directed edges in compressed sparse rows.

Segments (two consecutive nodes of a usable way) are kept undirected with a flag for each
direction, because riders and stations are snapped to segments; the directed edges in both
orientations (forward for routes from a rider, reversed for searches from stations) are CSR
arrays that the numba kernels walk and scipy's csgraph reads.  Only the largest strongly
connected part is kept: a rider snapped onto an island (a gated compound's lane that the
extract does not connect) could reach nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from ..errors import DataFileError
from ..index import haversine_m
from .osm import Highways
from .profiles import Profile

# Scipy's csgraph reads a stored zero as "no edge"; two nodes drawn at the same spot are
# joined by a millimetre instead.
MIN_EDGE_M = 1e-3


@dataclass(frozen=True, slots=True)
class Csr:
    """Directed edges as compressed sparse rows: ``indices[indptr[i]:indptr[i+1]]`` of node i."""

    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    weights: npt.NDArray[np.float64]

    @classmethod
    def build(cls, n: int, source: npt.NDArray[np.int64], target: npt.NDArray[np.int64],
              weight: npt.NDArray[np.float64]) -> Csr:
        """Rows from edge lists, keeping the shortest of parallel edges."""
        order = np.lexsort((weight, target, source))
        source, target, weight = source[order], target[order], weight[order]
        first = np.ones(source.size, dtype=bool)
        first[1:] = (source[1:] != source[:-1]) | (target[1:] != target[:-1])
        source, target, weight = source[first], target[first], weight[first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(source, minlength=n), out=indptr[1:])
        return cls(indptr, target.astype(np.int32), weight)

    def scipy(self) -> csr_array:
        n = self.indptr.size - 1
        return csr_array((self.weights, self.indices, self.indptr), shape=(n, n))


@dataclass(eq=False)
class RoadGraph:
    """The usable roads of one profile; node ``i`` is at ``lon[i], lat[i]``.

    Segment ``s`` joins nodes ``seg_a[s]`` and ``seg_b[s]``, ``seg_m[s]`` metres long, and may
    be travelled from a to b when ``forward[s]``, from b to a when ``backward[s]``.
    """

    profile: Profile
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    seg_a: npt.NDArray[np.int64]
    seg_b: npt.NDArray[np.int64]
    seg_m: npt.NDArray[np.float64]
    forward: npt.NDArray[np.bool_]
    backward: npt.NDArray[np.bool_]

    @property
    def node_count(self) -> int:
        return int(self.lon.size)

    @property
    def segment_count(self) -> int:
        return int(self.seg_a.size)

    def _edges(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                              npt.NDArray[np.float64]]:
        source = np.concatenate([self.seg_a[self.forward], self.seg_b[self.backward]])
        target = np.concatenate([self.seg_b[self.forward], self.seg_a[self.backward]])
        weight = np.concatenate([self.seg_m[self.forward], self.seg_m[self.backward]])
        return source, target, weight

    @cached_property
    def out_edges(self) -> Csr:
        """Edges leaving each node: the way from a rider outwards."""
        source, target, weight = self._edges()
        return Csr.build(self.node_count, source, target, weight)

    @cached_property
    def in_edges(self) -> Csr:
        """Edges arriving at each node: the way back from stations to every node."""
        source, target, weight = self._edges()
        return Csr.build(self.node_count, target, source, weight)

    @classmethod
    def build(cls, highways: Highways, profile: Profile) -> RoadGraph:
        """The graph of the ways ``profile`` may use; DataFileError if there are none."""
        directions = np.array([profile.directions(tags) for tags in highways.tags],
                              dtype=bool).reshape(-1, 2)
        lengths = np.diff(highways.way_start)
        way_of = np.repeat(np.arange(highways.way_count), lengths)
        # Reference p and p + 1 form a segment when both belong to one usable way.
        start = np.flatnonzero(way_of[:-1] == way_of[1:]) if way_of.size else way_of
        start = start[directions[way_of[start]].any(axis=1)]
        located = np.isfinite(highways.lon)
        start = start[located[start] & located[start + 1]]
        ends = np.concatenate([start, start + 1])
        _node_ids, first, compact = np.unique(highways.node_id[ends], return_index=True,
                                             return_inverse=True)
        if not start.size:
            raise DataFileError(f"road network: no road an {profile.name.value} profile may "
                                "use")
        lon, lat = highways.lon[ends][first], highways.lat[ends][first]
        seg_a, seg_b = compact[:start.size], compact[start.size:]
        keep = seg_a != seg_b
        way = way_of[start][keep]
        seg_a, seg_b = seg_a[keep], seg_b[keep]
        seg_m = np.maximum(haversine_m(lon[seg_a], lat[seg_a], lon[seg_b], lat[seg_b]),
                           MIN_EDGE_M)
        graph = cls(profile, lon, lat, seg_a, seg_b, seg_m, directions[way, 0],
                    directions[way, 1])
        return graph.largest_part()

    def largest_part(self) -> RoadGraph:
        """The largest strongly connected part, nodes renumbered."""
        _, label = connected_components(self.out_edges.scipy(), directed=True,
                                        connection="strong")
        biggest = np.argmax(np.bincount(label))
        kept = label == biggest
        if kept.all():
            return self
        new_index = np.cumsum(kept) - 1
        segments = kept[self.seg_a] & kept[self.seg_b]
        return RoadGraph(self.profile, self.lon[kept], self.lat[kept],
                         new_index[self.seg_a[segments]], new_index[self.seg_b[segments]],
                         self.seg_m[segments], self.forward[segments], self.backward[segments])
