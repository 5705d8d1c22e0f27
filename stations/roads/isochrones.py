"""Service areas by road (isochrones) as polygons: the reached parts of streets, widened.

Given each node's road metres to the nearest station (or to one site), the part of every
segment from which a station is within the budget is found exactly: from end a (when the
segment may be travelled towards a) the first ``budget - d(a)`` metres, from end b likewise,
and around a station on the segment itself.  Those pieces are drawn in a local metric plane,
widened by :data:`WIDTH_M` on each side (the frontage a rider walks in from) and unioned.

The polygons are a drawing: the coverage figures are measured point by point
(:mod:`stations.planning.road_reach`), with the real off-road leg of each point.  Drawing is
bounded: more than :data:`MAX_PIECES` reached pieces raise :class:`~stations.errors.MapError`
(a caller then leaves the layer out), and the outline is simplified to a tenth of the width.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from ..errors import MapError
from ..index import EARTH_RADIUS_M
from .graph import RoadGraph
from .snap import Snapped

WIDTH_M: Final = 50.0
MAX_PIECES: Final = 400_000
FloatArray = npt.NDArray[np.float64]


def reached_pieces(graph: RoadGraph, node_metres: FloatArray, budget: float,
                   targets: Snapped | None = None,
                   targets_usable: npt.NDArray[np.bool_] | None = None
                   ) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray]:
    """``(segment, start, end)`` fractions of segments from which a target is within budget.

    ``node_metres`` is each node's road metres to its nearest target (``inf``: none within
    reach); ``targets`` on their segments add the pieces around them.
    """
    length = graph.seg_m
    from_a = np.where(graph.backward, np.clip(budget - node_metres[graph.seg_a], 0, length), 0)
    from_b = np.where(graph.forward, np.clip(budget - node_metres[graph.seg_b], 0, length), 0)
    segment = np.arange(graph.segment_count)
    whole = from_a + from_b >= length
    pieces = [(segment[whole], np.zeros(whole.sum()), np.ones(whole.sum()))]
    part = ~whole
    near_a, near_b = part & (from_a > 0), part & (from_b > 0)
    pieces.append((segment[near_a], np.zeros(near_a.sum()), (from_a / length)[near_a]))
    pieces.append((segment[near_b], 1 - (from_b / length)[near_b], np.ones(near_b.sum())))
    if targets is not None and targets_usable is not None:
        target = np.flatnonzero(targets_usable & (targets.offset_m <= budget))
        seg, t = targets.segment[target], targets.fraction[target]
        spare = (budget - targets.offset_m[target]) / length[seg]
        ahead, back = graph.forward[seg], graph.backward[seg]
        pieces.append((seg[ahead], np.maximum(t - spare, 0)[ahead], t[ahead]))
        pieces.append((seg[back], t[back], np.minimum(t + spare, 1)[back]))
    return tuple(np.concatenate(column) for column in zip(*pieces, strict=True))  # type: ignore[return-value]


def service_area(graph: RoadGraph, segment: npt.NDArray[np.int64], start: FloatArray,
                 end: FloatArray, width_m: float = WIDTH_M) -> shapely.Geometry:
    """The pieces widened by ``width_m`` and unioned, as a WGS84 (multi)polygon."""
    if segment.size > MAX_PIECES:
        raise MapError(f"service area: {segment.size:,} road pieces are more than "
                       f"{MAX_PIECES:,} to draw; choose a smaller area")
    if not segment.size:
        return shapely.Polygon()
    lat0 = float(np.radians(np.median(graph.lat)))
    kx, ky = EARTH_RADIUS_M * np.cos(lat0), EARTH_RADIUS_M
    x, y = kx * np.radians(graph.lon), ky * np.radians(graph.lat)
    a, b = graph.seg_a[segment], graph.seg_b[segment]
    ends = np.stack([
        np.column_stack([x[a] + start * (x[b] - x[a]), y[a] + start * (y[b] - y[a])]),
        np.column_stack([x[a] + end * (x[b] - x[a]), y[a] + end * (y[b] - y[a])])], axis=1)
    lines = shapely.multilinestrings(shapely.linestrings(ends))
    area = shapely.simplify(shapely.buffer(lines, width_m, quad_segs=2), width_m / 10)
    return shapely.transform(area, lambda xy: np.column_stack(
        [np.degrees(xy[:, 0] / kx), np.degrees(xy[:, 1] / ky)]).round(6))
