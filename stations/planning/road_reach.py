"""Reach by road: the :class:`~stations.planning.reach.Reach` of a profile's street network.

Every node first gets its road metres to the nearest station in one multi-source Dijkstra
from all stations at once (the one-label form of :mod:`stations.roads.nearest`'s search, over
the edges *into* nodes, so one-way streets count the way a rider must travel).  A point is
then snapped onto its nearest usable segment and leaves it by either end the segment may be
travelled towards: its distance is the smallest ``off-road leg + along the segment + node's
metres``, or the way along the segment to a station on the same segment.

The off-road legs (point to road, road to station door) are counted as straight metres at
the profile's speed; a point or station more than :data:`~stations.roads.nearest.MAX_SNAP_M`
(500 m) from every usable road is unreachable (``inf``).  Reach given in minutes is turned
into metres at the profile's speed (walking 75 m, e-bike 250 m a minute).

For new sites, :meth:`RoadReach.site_coverage` runs one Dijkstra per site that stops at the
reach, and joins the nodes it reaches with the points' ways onto them.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import shapely

from ..errors import PlanningError
from ..roads import RoadNetwork
from ..roads.isochrones import area_within
from ..roads.kernels import join_at_nodes, within_limit
from ..roads.nearest import MAX_SNAP_M, RoadStations
from ..roads.points import attachments, exits, same_segment
from ..roads.profiles import PROFILES, ProfileName
from ..roads.snap import Snapped
from .reach import BOUNDARY_TOLERANCE_M, FloatArray, check_reach

PROFILE_WORDS = {ProfileName.WALK: "步行 walk", ProfileName.EBIKE: "电动车 e-bike"}


def minutes_to_metres(minutes: float, profile: ProfileName | str) -> float:
    """Road metres covered in ``minutes`` at the profile's speed (1..120 minutes)."""
    if not 1 <= float(minutes) <= 120:
        raise PlanningError(f"minutes: must be 1..120, got {minutes}")
    return float(minutes) * PROFILES[ProfileName(profile)].metres_per_minute


class RoadReach:
    """Road metres to the nearest station for many points, on one profile's network."""

    by = "road"

    def __init__(self, network: RoadNetwork, profile: ProfileName | str,
                 lon: npt.ArrayLike, lat: npt.ArrayLike, reach_m: float,
                 minutes: float | None = None) -> None:
        self.profile = ProfileName(profile)
        if self.profile not in network.graphs:
            raise PlanningError(f"profile: the road network was loaded without {self.profile}")
        self.reach_m = check_reach(reach_m)
        self.minutes = minutes
        self.graph = network.graphs[self.profile]
        self.snapper = network.snappers[self.profile]
        self.stations = RoadStations(self.graph, self.snapper, lon, lat, prepared_k=1,
                                     max_snap_m=MAX_SNAP_M)
        self.node_m = self.stations.label_m[:, 0]

    @property
    def label(self) -> str:
        """How the reach reads on maps and reports, Chinese first."""
        words = PROFILE_WORDS[self.profile]
        if self.minutes is not None:
            return f"{self.minutes:g} 分钟{words} ({self.reach_m:,.0f} m by road)"
        return f"道路 {self.reach_m:,.0f} m {words} by road"

    def _snap(self, lon: npt.ArrayLike, lat: npt.ArrayLike
              ) -> tuple[Snapped, npt.NDArray[np.bool_]]:
        snapped = self.snapper.snap(np.asarray(lon, dtype=np.float64),
                                    np.asarray(lat, dtype=np.float64))
        return snapped, snapped.offset_m <= MAX_SNAP_M

    def nearest_m(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
        """Road metres to the nearest station (``inf``: off the network or unreachable)."""
        if self.stations.count == 0:
            return np.full(np.size(lon), np.inf)
        return self._via(self.node_m, self.stations.snapped, self.stations.on_road, lon, lat)

    def _via(self, node_m: FloatArray, targets: Snapped, targets_usable: npt.NDArray[np.bool_],
             lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
        """Each point's road metres to the nearest target, given every node's (``node_m``)."""
        result = np.full(np.size(lon), np.inf)
        if result.size == 0:
            return result
        snapped, usable = self._snap(lon, lat)
        out = exits(self.graph, snapped, usable)
        np.minimum.at(result, out.point, out.metres + node_m[out.node])
        point, _target, metres = same_segment(self.graph, snapped, usable, targets,
                                              targets_usable)
        np.minimum.at(result, point, metres)
        return result

    def _from_sites(self, site_lon: npt.ArrayLike, site_lat: npt.ArrayLike, limit: float
                    ) -> tuple[Snapped, npt.NDArray[np.bool_], npt.NDArray[np.int64],
                               npt.NDArray[np.int64], FloatArray]:
        """Snapped sites and every ``(site, node, metres)`` within ``limit`` of a site."""
        sites, usable = self._snap(site_lon, site_lat)
        node, site, extra = attachments(self.graph, sites, usable)
        order = np.argsort(site, kind="stable")
        group_indptr = np.zeros(usable.size + 1, dtype=np.int64)
        np.cumsum(np.bincount(site, minlength=usable.size), out=group_indptr[1:])
        edges = self.graph.in_edges
        group, reached, metres = within_limit(edges.indptr, edges.indices, edges.weights,
                                              group_indptr, node[order], extra[order], limit)
        return sites, usable, group, reached, metres

    def site_coverage(self, site_lon: npt.ArrayLike, site_lat: npt.ArrayLike,
                      lon: npt.ArrayLike, lat: npt.ArrayLike) -> sp.csr_matrix:
        """Sites × points, 1 where the site would bring the point within reach by road."""
        shape = (int(np.size(site_lon)), int(np.size(lon)))
        if 0 in shape:
            return sp.csr_matrix(shape)
        limit = self.reach_m + BOUNDARY_TOLERANCE_M
        sites, sites_usable, group, reached, metres = self._from_sites(site_lon, site_lat,
                                                                      limit)
        order = np.argsort(reached, kind="stable")
        node_indptr = np.zeros(self.graph.node_count + 1, dtype=np.int64)
        np.cumsum(np.bincount(reached, minlength=self.graph.node_count), out=node_indptr[1:])
        points, usable = self._snap(lon, lat)
        out = exits(self.graph, points, usable)
        rows, columns = join_at_nodes(node_indptr, group[order], metres[order], out.point,
                                      out.node, out.metres, limit)
        point, site, along = same_segment(self.graph, points, usable, sites, sites_usable)
        near = along <= limit
        matrix = sp.coo_matrix((np.ones(rows.size + near.sum()),
                                (np.concatenate([rows, site[near]]),
                                 np.concatenate([columns, point[near]]))), shape=shape).tocsr()
        matrix.data[:] = 1.0  # a point reached from both ends of its segment counts once
        return matrix

    def service_area(self) -> shapely.Geometry:
        """The stations' service area by road, as a WGS84 polygon (see roads/isochrones)."""
        on = self.stations.on_road
        return area_within(self.nearest_m, self.stations.lon[on], self.stations.lat[on],
                           self.reach_m + BOUNDARY_TOLERANCE_M)

    def site_areas(self, site_lon: npt.ArrayLike, site_lat: npt.ArrayLike
                   ) -> list[shapely.Geometry]:
        """Each site's own service area by road (empty where the site is off the network)."""
        limit = self.reach_m + BOUNDARY_TOLERANCE_M
        sites, usable, group, reached, metres = self._from_sites(site_lon, site_lat, limit)
        site_lon, site_lat = np.atleast_1d(site_lon), np.atleast_1d(site_lat)
        areas = []
        node_m = np.full(self.graph.node_count, np.inf)
        for j in range(usable.size):
            if not usable[j]:
                areas.append(shapely.Polygon())
                continue
            mine = group == j
            node_m[reached[mine]] = metres[mine]
            only = np.arange(usable.size) == j
            areas.append(area_within(partial(self._via, node_m, sites, only), site_lon[j],
                                     site_lat[j], limit))
            node_m[reached[mine]] = np.inf
        return areas
