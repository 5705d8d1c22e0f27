"""The road network of an extract, for both profiles, and its preparation for a station set.

``RoadNetwork.load(path)`` reads the extract once and builds the e-bike and walking graphs;
``network.prepare(lon, lat)`` snaps a station table onto both and labels every node with its
nearest stations (seconds for a city, see docs/roads.md); the result answers queries::

    network = RoadNetwork.load("xian.osm.pbf")
    roads = network.prepare(station_lon, station_lat)
    answer = roads.nearest(108.94, 34.26, k=5, profile="ebike")

The graph does not change when stations do, so a rebuilt GeoPackage only needs ``prepare``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .graph import RoadGraph
from .nearest import MAX_SNAP_M, PREPARED_K, RoadAnswer, RoadStations
from .osm import read_highways
from .profiles import PROFILES, ProfileName
from .snap import SegmentSnapper

log = logging.getLogger(__name__)


@dataclass(eq=False)
class RoadNetwork:
    """One graph and snapper per profile, read from one extract."""

    path: Path | None
    graphs: dict[ProfileName, RoadGraph]
    snappers: dict[ProfileName, SegmentSnapper]

    @classmethod
    def load(cls, path: str | os.PathLike[str],
             profiles: Iterable[ProfileName | str] = tuple(PROFILES)) -> RoadNetwork:
        """Read an ``.osm.pbf``; DataFileError if it is unreadable or has no usable road.

        ``profiles`` limits the graphs built (a planner asks about one way of travelling)."""
        highways = read_highways(path)
        graphs = {ProfileName(name): RoadGraph.build(highways, PROFILES[ProfileName(name)])
                  for name in profiles}
        network = cls(Path(path), graphs, {name: SegmentSnapper(g) for name, g in graphs.items()})
        for name, graph in graphs.items():
            log.info("road network %s, %s: %d nodes, %d segments", path, name.value,
                     graph.node_count, graph.segment_count)
        log.info("road network %s: version %s", path, network.version)
        return network

    @cached_property
    def version(self) -> str:
        """A digest of the graphs' content: answers by road change with it, so it belongs in
        their ETags (a server restarted on another extract must not confirm a cached answer)."""
        digest = hashlib.blake2b(digest_size=8)
        for name in sorted(self.graphs):
            graph = self.graphs[name]
            digest.update(name.value.encode())
            for column in (graph.lon, graph.lat, graph.seg_a, graph.seg_b, graph.seg_m,
                           graph.forward, graph.backward):
                digest.update(np.ascontiguousarray(column).data)
        return digest.hexdigest()

    @property
    def bounds(self) -> list[float]:
        """WGS84 bounding box of the e-bike graph (or the one loaded), to tell riders where
        roads are known."""
        graph = self.graphs.get(ProfileName.EBIKE) or next(iter(self.graphs.values()))
        return [float(graph.lon.min()), float(graph.lat.min()),
                float(graph.lon.max()), float(graph.lat.max())]

    def prepare(self, lon: npt.ArrayLike, lat: npt.ArrayLike, prepared_k: int = PREPARED_K,
                max_snap_m: float = MAX_SNAP_M) -> StationRoads:
        """Snap stations onto every profile's roads and label nodes with their nearest."""
        # The searches release the GIL: the profiles are prepared side by side.
        with ThreadPoolExecutor(len(self.graphs)) as pool:
            futures = {name: pool.submit(RoadStations, graph, self.snappers[name], lon, lat,
                                         prepared_k, max_snap_m)
                       for name, graph in self.graphs.items()}
            roads = StationRoads(self, {name: f.result() for name, f in futures.items()})
        if roads.off_road.size:
            log.warning("%d stations are more than %g m from any road of %s; road answers "
                        "leave them out (positions %s)", roads.off_road.size, max_snap_m,
                        self.path, roads.off_road[:20].tolist())
        return roads


@dataclass(eq=False)
class StationRoads:
    """A station table prepared on a network: exact k-nearest by road, per profile."""

    network: RoadNetwork
    profiles: dict[ProfileName, RoadStations]

    @property
    def off_road(self) -> npt.NDArray[np.int64]:
        """Stations too far from the e-bike roads to be reached by them."""
        return self.profiles[ProfileName.EBIKE].off_road

    def off_road_report(self) -> dict[str, list[tuple[int, float]]]:
        """Per profile, the stations left out (position, metres to the nearest road)."""
        return {name.value: [(int(i), round(float(prepared.snapped.offset_m[i]), 1))
                             for i in prepared.off_road]
                for name, prepared in self.profiles.items()}

    def nearest_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike, k: int,
                     profile: ProfileName | str = ProfileName.EBIKE,
                     wanted: npt.NDArray[np.bool_] | None = None, radius_m: float | None = None,
                     route: bool = False) -> list[RoadAnswer | None]:
        """The k nearest wanted stations by road from each point (WGS84), exact; None for a
        point farther than the snapping distance from every usable road (off the extract)."""
        prepared = self.profiles[ProfileName(profile)]
        return [None if start is None else prepared.nearest(start, k, wanted, radius_m, route)
                for start in prepared.starts(lon, lat)]

    def nearest(self, lon: float, lat: float, k: int = 5,
                profile: ProfileName | str = ProfileName.EBIKE,
                wanted: npt.NDArray[np.bool_] | None = None, radius_m: float | None = None,
                route: bool = False) -> RoadAnswer | None:
        """The k nearest wanted stations by road from one point (WGS84), exact."""
        return self.nearest_many([lon], [lat], k, profile, wanted, radius_m, route)[0]
