"""Brute force by road, for checking the fast search: scipy's Dijkstra over the whole graph.

Independent of the prepared labels and of the numba kernels: it reads the same graph and the
same snapped positions, and measures every station.  Tests and the benchmark compare the two.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import dijkstra

from .nearest import RoadStations, Start


def road_metres_to_all(prepared: RoadStations, start: Start, limit: float = np.inf
                       ) -> npt.NDArray[np.float64]:
    """Road metres from a snapped rider to every station (inf: off the road, unreachable, or
    beyond ``limit``, which makes the search faster but no less exact below it)."""
    matrix = prepared.graph.out_edges.scipy()
    metres = np.full(prepared.count, np.inf)
    if start.node.size:
        from_ends = dijkstra(matrix, directed=True, indices=start.node, limit=limit)
        via_end = from_ends + start.metres[:, None]  # (ends, nodes)
        best_node = via_end.min(axis=0)
        np.minimum.at(metres, prepared.att_station,
                      best_node[np.repeat(np.arange(prepared.graph.node_count),
                                          np.diff(prepared.att_indptr))]
                      + prepared.att_extra)
    np.minimum.at(metres, start.direct_station, start.direct_metres)
    return metres
