"""How far a place is from the nearest station: by straight line now, by road when given.

Every coverage figure asks one question of many points at once: the distance to the nearest
station.  :class:`Reach` is that question; :class:`StraightLineReach` answers it on the sphere
with the project's exact index (metres, never degrees).  A road-network answer (the rider
issue's ``stations.roads``) plugs in by implementing the same protocol.

"Within reach" means a distance of at most ``reach_m`` plus one centimetre, so demand placed
exactly on the reach circle counts as covered despite floating-point rounding.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from ..errors import PlanningError
from ..index import StationIndex

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

    def nearest_m(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> FloatArray:
        """Metres to the nearest station for each point (``inf`` where none can be reached)."""
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


def within(distance_m: FloatArray, reach_m: float) -> npt.NDArray[np.bool_]:
    """Which distances count as within reach (boundary included, to the centimetre)."""
    return np.asarray(distance_m) <= reach_m + BOUNDARY_TOLERANCE_M
