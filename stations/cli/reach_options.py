"""How far counts as within reach, for the planner commands: straight line, or by road.

``--reach METRES`` alone measures in a straight line.  ``--roads FILE`` (the same extract
``stations serve --roads`` reads) measures along the roads of ``--profile`` (walk or ebike),
as ``--reach`` road metres or as ``--minutes`` of travel: a 15-minute walk is
``--roads city.osm.pbf --minutes 15``.
"""

from __future__ import annotations

import argparse
import math
import os
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from ..errors import PlanningError
from ..planning.reach import Reach, StraightLineReach
from ..roads.nearest import MAX_SNAP_M
from ..roads.profiles import ProfileName

if TYPE_CHECKING:
    from ..roads.graph import RoadGraph

# The study area's bounding box must lie at least this much inside the road file's.
MIN_ROAD_COVER: Final = 0.5
METRES_PER_DEGREE: Final = 111_195.0


def add_reach_options(parser: argparse.ArgumentParser, default_m: float) -> None:
    """``--reach``, ``--roads``, ``--profile`` and ``--minutes``."""
    parser.add_argument("--reach", type=float, metavar="METRES",
                        help="distance counted as within reach: straight line, or road metres "
                        f"with --roads (default: {default_m:g})")
    parser.add_argument("--roads", metavar="FILE",
                        help="OpenStreetMap extract (.osm.pbf): measure reach along its roads "
                        "and draw service areas as isochrones (see docs/roads.md)")
    parser.add_argument("--profile", choices=[p.value for p in ProfileName],
                        help="with --roads: travel on foot (walk, 4.5 km/h) or by e-bike "
                        "(ebike, 15 km/h) (default: walk)")
    parser.add_argument("--minutes", type=float, metavar="MINUTES",
                        help="with --roads: reach as minutes of travel by --profile instead "
                        "of --reach metres (e.g. 15)")
    parser.set_defaults(default_reach_m=default_m)


def reach_metres(args: argparse.Namespace) -> float:
    """The reach in metres the options give; PlanningError for options that do not fit."""
    if args.roads is None:
        for option, value in (("--minutes", args.minutes), ("--profile", args.profile)):
            if value is not None:
                raise PlanningError(f"{option}: needs --roads FILE (a road network); without "
                                    "it reach is a straight line of --reach metres")
        return float(args.reach if args.reach is not None else args.default_reach_m)
    if not os.path.isfile(args.roads):
        raise PlanningError(f"--roads {args.roads}: no such file")
    if args.minutes is not None:
        if args.reach is not None:
            raise PlanningError("--minutes: give --minutes or --reach, not both")
        from ..planning.road_reach import minutes_to_metres

        return minutes_to_metres(args.minutes, args.profile or ProfileName.WALK)
    return float(args.reach if args.reach is not None else args.default_reach_m)


class ReachMaker:
    """Builds the reach of a station set from the options, reading the road file once."""

    def __init__(self, args: argparse.Namespace,
                 area: tuple[float, float, float, float] | None = None) -> None:
        self.reach_m = reach_metres(args)
        self.minutes = args.minutes
        self.profile = ProfileName(args.profile or ProfileName.WALK)
        self.network = None
        if args.roads is not None:
            from ..roads import RoadNetwork  # numba and osmium load only when roads are used

            self.network = RoadNetwork.load(args.roads, [self.profile])
            if area is not None:
                check_covers(args.roads, self.network.graphs[self.profile], area)

    def __call__(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> Reach:
        if self.network is None:
            return StraightLineReach(lon, lat, self.reach_m)
        from ..planning.road_reach import RoadReach

        return RoadReach(self.network, self.profile, lon, lat, self.reach_m, self.minutes)


def check_covers(path: str, graph: RoadGraph, area: tuple[float, float, float, float]) -> None:
    """PlanningError when the roads' bounding box, widened by the snapping distance, holds
    less than half of the study area's (a point or line counts by its extent inside)."""
    share = 1.0
    margin_lat = MAX_SNAP_M / METRES_PER_DEGREE  # points that near a road still snap onto it
    margin_lon = margin_lat / max(math.cos(math.radians(float(np.max(np.abs(graph.lat))))),
                                  0.01)
    for low, high, values, margin in ((area[0], area[2], graph.lon, margin_lon),
                                      (area[1], area[3], graph.lat, margin_lat)):
        road_low, road_high = float(np.min(values)) - margin, float(np.max(values)) + margin
        if high > low:
            share *= max(0.0, min(high, road_high) - max(low, road_low)) / (high - low)
        else:
            share *= float(road_low <= low <= road_high)
    if share < MIN_ROAD_COVER:
        raise PlanningError(
            f"--roads {path}: its roads (lon {graph.lon.min():.3f}..{graph.lon.max():.3f}, "
            f"lat {graph.lat.min():.3f}..{graph.lat.max():.3f}) cover {share:.0%} of the "
            f"study area (lon {area[0]:.3f}..{area[2]:.3f}, lat {area[1]:.3f}..{area[3]:.3f}); "
            "use an extract of the whole area")
