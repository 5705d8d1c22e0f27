"""How far a place is from the nearest station: by straight line now, by road when given.

Every coverage figure asks one question of many points at once: the distance to the nearest
station.  :class:`Reach` is that question; :class:`StraightLineReach` answers it on the sphere
with the project's exact index (metres, never degrees); :class:`~stations.planning.road_reach.
RoadReach` answers it along a profile's streets.  Site choice asks the reverse too: which
points a new station at each candidate site would bring within reach.

"Within reach" means a distance of at most ``reach_m`` plus one centimetre, so demand placed
exactly on the reach circle counts as covered despite floating-point rounding.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from ..errors import PlanningError
from ..index import EARTH_RADIUS_M, StationIndex, unit_vectors

FloatArray = npt.NDArray[np.float64]
BOUNDARY_TOLERANCE_M = 0.01
MAX_REACH_M = 100_000.0


def check_reach(reach_m: float) -> float:
    """A reach of 1 m .. 100 km; anything else is a :class:`PlanningError`."""
    reach = float(reach_m)
    if not 1.0 <= reach <= MAX_REACH_M:
        raise PlanningError(f"reach: must be 1..{MAX_REACH_M:.0f} m, got {reach_m}")
    return reach


class Reach(Protocol):
    """Distances from many points to their nearest station."""

    reach_m: float
    by: str
    label: str

    def nearest_m(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
        """Metres to the nearest station for each point (``inf`` where none can be reached)."""
        ...

    def site_coverage(self, site_lon: npt.ArrayLike, site_lat: npt.ArrayLike,
                      lon: npt.ArrayLike, lat: npt.ArrayLike) -> sp.csr_matrix:
        """Sites × points, 1 where a new station at the site would bring the point in reach."""
        ...


class StraightLineReach:
    """Great-circle distance to the nearest station, exact (k-d tree over unit vectors)."""

    by = "straight"

    def __init__(self, lon: npt.ArrayLike, lat: npt.ArrayLike, reach_m: float) -> None:
        self.reach_m = check_reach(reach_m)
        self.index = StationIndex(lon, lat)

    def nearest_m(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
        """Metres to the nearest station; ``inf`` for every point when there are no stations."""
        return self.index.nearest_batch(lon, lat, 1).distance_m[:, 0]

    @property
    def label(self) -> str:
        return f"{self.reach_m:g} m 直线 straight line"

    def site_coverage(self, site_lon: npt.ArrayLike, site_lat: npt.ArrayLike,
                      lon: npt.ArrayLike, lat: npt.ArrayLike) -> sp.csr_matrix:
        return great_circle_pairs(site_lon, site_lat, lon, lat, self.reach_m)


def great_circle_pairs(site_lon: npt.ArrayLike, site_lat: npt.ArrayLike, lon: npt.ArrayLike,
                       lat: npt.ArrayLike, reach_m: float) -> sp.csr_matrix:
    """Boolean sites × points matrix: which points each site brings within ``reach_m``.

    Great-circle distance with the same centimetre tolerance as the coverage figures, so a
    point exactly on the reach circle is covered.
    """
    shape = (int(np.size(site_lon)), int(np.size(lon)))
    if 0 in shape:
        return sp.csr_matrix(shape)
    angle = (reach_m + BOUNDARY_TOLERANCE_M) / EARTH_RADIUS_M
    chord = 2.0 * math.sin(min(angle, math.pi) / 2.0)
    sites = cKDTree(unit_vectors(site_lon, site_lat))
    points = cKDTree(unit_vectors(lon, lat))
    pairs = sites.sparse_distance_matrix(points, chord, output_type="coo_matrix")
    return sp.csr_matrix((np.ones(pairs.nnz), (pairs.row, pairs.col)), shape=shape)


def gap_text(metres: float) -> str:
    """A gap in km; by road, a place no station can reach at all says so."""
    if math.isnan(metres):
        return "—"
    return f"{metres / 1000:,.1f} km" if math.isfinite(metres) else "不可达 unreachable"


def within(distance_m: FloatArray, reach_m: float) -> npt.NDArray[np.bool_]:
    """Which distances count as within reach (boundary included, to the centimetre)."""
    return np.asarray(distance_m) <= reach_m + BOUNDARY_TOLERANCE_M
