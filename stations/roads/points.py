"""Many snapped points at once: how each leaves its segment, and what shares the segment.

A point snapped onto segment (a, b) at fraction ``t`` joins the graph at b (``offset + (1 - t)
* length`` metres) when the segment may be travelled from a to b, and at a (``offset + t *
length``) when from b to a; a target on the same segment is reached along it without passing
a node.  These are the vectorised forms of a rider's start (:mod:`stations.roads.nearest`), for
the hundreds of thousands of points a coverage figure asks about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .graph import RoadGraph
from .snap import Snapped

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Exits:
    """Point ``point[i]`` reaches node ``node[i]`` after ``metres[i]`` (off-road leg included)."""

    point: IntArray
    node: IntArray
    metres: FloatArray


def exits(graph: RoadGraph, snapped: Snapped, usable: npt.NDArray[np.bool_]) -> Exits:
    """The ways of each usable point onto the graph's nodes (one or two per point)."""
    point = np.flatnonzero(usable)
    segment, t = snapped.segment[point], snapped.fraction[point]
    length, offset = graph.seg_m[segment], snapped.offset_m[point]
    ahead, back = graph.forward[segment], graph.backward[segment]
    return Exits(np.concatenate([point[ahead], point[back]]),
                 np.concatenate([graph.seg_b[segment][ahead], graph.seg_a[segment][back]]),
                 np.concatenate([(offset + (1 - t) * length)[ahead],
                                 (offset + t * length)[back]]))


def attachments(graph: RoadGraph, snapped: Snapped, usable: npt.NDArray[np.bool_]
                ) -> tuple[IntArray, IntArray, FloatArray]:
    """``(node, target, extra)``: each usable target is reached from ``node`` with ``extra``
    metres more (the rest of its segment, then the straight walk from road to door)."""
    target = np.flatnonzero(usable)
    segment, t = snapped.segment[target], snapped.fraction[target]
    length, offset = graph.seg_m[segment], snapped.offset_m[target]
    ahead, back = graph.forward[segment], graph.backward[segment]
    return (np.concatenate([graph.seg_a[segment][ahead], graph.seg_b[segment][back]]),
            np.concatenate([target[ahead], target[back]]),
            np.concatenate([(t * length + offset)[ahead], ((1 - t) * length + offset)[back]]))


def same_segment(graph: RoadGraph, points: Snapped, points_usable: npt.NDArray[np.bool_],
                 targets: Snapped, targets_usable: npt.NDArray[np.bool_]
                 ) -> tuple[IntArray, IntArray, FloatArray]:
    """``(point, target, metres)`` for every point and target on one segment that the point
    may travel along to the target: off the road, along the segment, off the road again."""
    target = np.flatnonzero(targets_usable)
    target = target[np.argsort(targets.segment[target], kind="stable")]
    target_segment = targets.segment[target]
    point = np.flatnonzero(points_usable)
    segment = points.segment[point]
    low = np.searchsorted(target_segment, segment, side="left")
    high = np.searchsorted(target_segment, segment, side="right")
    counts = high - low
    owner = np.repeat(np.arange(point.size), counts)
    pair_point, pair_segment = point[owner], segment[owner]
    pair_target = target[np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                         + np.repeat(low, counts)]
    along = (targets.fraction[pair_target] - points.fraction[pair_point]) \
        * graph.seg_m[pair_segment]
    allowed = (along >= 0) & graph.forward[pair_segment] \
        | (along <= 0) & graph.backward[pair_segment]
    metres = points.offset_m[pair_point] + np.abs(along) + targets.offset_m[pair_target]
    return pair_point[allowed], pair_target[allowed], metres[allowed]
