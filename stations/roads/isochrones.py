"""Service areas by road (isochrones) as polygons, drawn from a grid of measured places.

The places around the stations (or one site) are laid out as a grid of square cells in a
local metric plane; a cell is in the service area when its centre is within the budget by
road, measured by the same function as the coverage figures (off-road leg included), so the
drawing and the shares agree.  Cells farther than the budget in a straight line from every
station are out without asking.  The cells in are merged row by row into runs, unioned, and
the stair steps smoothed (simplified to half a cell).

Bounded in time and size: at most :data:`MAX_CELLS` cells (cells grow, never below
:data:`MIN_CELL_M`, when the area is large), about a second of CPU for a city of 20 km.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from ..index import EARTH_RADIUS_M

MAX_CELLS: Final = 250_000
MIN_CELL_M: Final = 30.0
FloatArray = npt.NDArray[np.float64]
Distance = Callable[[FloatArray, FloatArray], FloatArray]


def area_within(distance_m: Distance, lon: npt.ArrayLike, lat: npt.ArrayLike,
                budget_m: float) -> shapely.Geometry:
    """Places whose ``distance_m`` is at most ``budget_m``, around the points ``lon, lat``
    (the stations or a site), as a WGS84 (multi)polygon."""
    lon_arr = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat_arr = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon_arr.size == 0:
        return shapely.Polygon()
    kx = EARTH_RADIUS_M * math.cos(math.radians(float(np.median(lat_arr))))
    ky = EARTH_RADIUS_M
    x, y = kx * np.radians(lon_arr), ky * np.radians(lat_arr)
    west, south = float(x.min()) - budget_m, float(y.min()) - budget_m
    width, height = float(x.max()) + budget_m - west, float(y.max()) + budget_m - south
    cell = max(MIN_CELL_M, math.sqrt(width * height / MAX_CELLS))
    columns, rows = math.ceil(width / cell), math.ceil(height / cell)
    cx, cy = np.meshgrid(west + (np.arange(columns) + 0.5) * cell,
                         south + (np.arange(rows) + 0.5) * cell)
    near, _ = cKDTree(np.column_stack([x, y])).query(
        np.column_stack([cx.ravel(), cy.ravel()]), distance_upper_bound=budget_m)
    ask = np.flatnonzero(np.isfinite(near))
    inside = np.zeros(rows * columns, dtype=bool)
    if ask.size:
        inside[ask] = distance_m(np.degrees(cx.ravel()[ask] / kx),
                                 np.degrees(cy.ravel()[ask] / ky)) <= budget_m
    # Runs of cells in each row: where the padded row steps up, a run starts; down, it ends.
    step = np.diff(np.pad(inside.reshape(rows, columns), ((0, 0), (1, 1))).astype(np.int8),
                   axis=1)
    row, first = np.nonzero(step == 1)
    _, after = np.nonzero(step == -1)
    runs = shapely.box(west + first * cell, south + row * cell, west + after * cell,
                       south + (row + 1) * cell)
    area = shapely.simplify(shapely.union_all(runs), cell / 2)
    return shapely.transform(area, lambda xy: np.column_stack(
        [np.degrees(xy[:, 0] / kx), np.degrees(xy[:, 1] / ky)]).round(6))
