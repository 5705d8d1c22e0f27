"""Service-area analysis for planners: how much of a city lies within reach of a station.

Distances and areas are computed in a local azimuthal equidistant projection centred on the
stations (never in degrees): a circle of 500 m there is 500 m on the ground.  Across a city the
projection is exact to a fraction of a per cent; across the whole of China the scale error
grows to about 2 % at 2,000 km from the centre, which is acceptable for a planning overview.

The study area is the place's districts when their polygons are given (a city's districts:
land beyond the outermost stations counts as gap, and a district without a station shows),
else the stations' convex hull widened by the largest radius.  It is cut into a metric grid,
and each cell gets its station count and the share of its area within each radius.  The
largest gap is the point of the study area farthest from any station, found on a fine sample
grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely
from scipy.spatial import cKDTree

from ..errors import MapError
from ..model import CRS_WGS84

DEFAULT_RADII_M: tuple[int, ...] = (500, 1000)
_TARGET_CELLS = 1500
_MAX_CELLS = 50_000
_MAX_GAP_SAMPLES = 250_000
# Above this many stations, circles get fewer vertices so that the page stays a sane size.
_DETAILED_CIRCLES_UP_TO = 20_000


@dataclass(frozen=True)
class CoverageSummary:
    """The figures the coverage map's summary block shows."""

    station_count: int
    study_area_km2: float
    covered_share: dict[int, float]
    largest_gap_m: float
    largest_gap_lonlat: tuple[float, float]
    cell_size_m: float


@dataclass(frozen=True)
class Coverage:
    """Merged service areas, the study area and grid cells in WGS84, with the summary."""

    service_areas: dict[int, shapely.Geometry]
    study_area: shapely.Geometry
    cells: gpd.GeoDataFrame
    summary: CoverageSummary


def _local_projection(lon: npt.NDArray[np.float64],
                      lat: npt.NDArray[np.float64]) -> tuple[pyproj.Transformer,
                                                             pyproj.Transformer]:
    centre_lon, centre_lat = float(np.median(lon)), float(np.median(lat))
    local = pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={centre_lat:.6f} +lon_0={centre_lon:.6f} +datum=WGS84 +units=m")
    forward = pyproj.Transformer.from_crs(CRS_WGS84, local, always_xy=True)
    inverse = pyproj.Transformer.from_crs(local, CRS_WGS84, always_xy=True)
    return forward, inverse


def _nice_cell_size(study_area_m2: float) -> float:
    """A round cell size (1, 2 or 5 times a power of ten, at least 500 m) giving ~1,500 cells."""
    raw = max(500.0, math.sqrt(study_area_m2 / _TARGET_CELLS))
    power = 10 ** math.floor(math.log10(raw))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= raw))


def check_radii(radii_m: Sequence[float]) -> tuple[int, ...]:
    """Service radii sorted and deduplicated; out of 1..50000 m is a :class:`MapError`."""
    radii = tuple(sorted({int(r) for r in radii_m}))
    if not radii or any(r <= 0 or r > 50_000 for r in radii):
        raise MapError(f"radius: each service radius must be 1..50000 m, got {list(radii_m)}")
    return radii


def check_cell_size(cell_size_m: float | None) -> None:
    """Grid cells under 50 m would only make the page heavy."""
    if cell_size_m is not None and cell_size_m < 50:
        raise MapError(f"cell size: must be at least 50 m, got {cell_size_m}")


def _grid(study: shapely.Geometry, cell: float) -> tuple[npt.NDArray[np.object_],
                                                        npt.NDArray[np.int64],
                                                        npt.NDArray[np.int64]]:
    """Grid cells clipped to the study area, with their column and row numbers."""
    minx, miny, maxx, maxy = study.bounds
    col0, row0 = math.floor(minx / cell), math.floor(miny / cell)
    cols = np.arange(col0, math.floor(maxx / cell) + 1)
    rows = np.arange(row0, math.floor(maxy / cell) + 1)
    col, row = (a.ravel() for a in np.meshgrid(cols, rows))
    boxes = shapely.box(col * cell, row * cell, (col + 1) * cell, (row + 1) * cell)
    shapely.prepare(study)
    keep = shapely.intersects(study, boxes)
    clipped, col, row = boxes[keep], col[keep], row[keep]
    # Only cells on the edge are cut: cutting every cell by a district outline of thousands
    # of vertices takes seconds.
    edge = ~shapely.contains_properly(study, clipped)
    clipped[edge] = shapely.intersection(clipped[edge], study)
    real = shapely.area(clipped) > 1.0  # cells that only touch the study area's edge
    return clipped[real], col[real], row[real]


def _covered_area_per_cell(cells: npt.NDArray[np.object_],
                           area: shapely.Geometry) -> npt.NDArray[np.float64]:
    """Area of each cell inside ``area``, summed over the disjoint parts of ``area``."""
    parts = shapely.get_parts(area)
    if len(parts) == 0:
        return np.zeros(len(cells))
    cell_idx, part_idx = shapely.STRtree(parts).query(cells, predicate="intersects")
    pieces = shapely.area(shapely.intersection(cells[cell_idx], parts[part_idx]))
    return np.bincount(cell_idx, weights=pieces, minlength=len(cells))


def _largest_gap(study: shapely.Geometry, x: npt.NDArray[np.float64],
                 y: npt.NDArray[np.float64], cell: float) -> tuple[float, float, float]:
    """(distance, x, y) of the study-area sample point farthest from every station."""
    step = max(cell / 4, math.sqrt(study.area / _MAX_GAP_SAMPLES))
    minx, miny, maxx, maxy = study.bounds
    gx, gy = np.meshgrid(np.arange(minx, maxx + step, step), np.arange(miny, maxy + step, step))
    inside = shapely.contains_xy(study, gx.ravel(), gy.ravel())
    sx, sy = gx.ravel()[inside], gy.ravel()[inside]
    if len(sx) == 0:
        return 0.0, float(x[0]), float(y[0])
    distance, _ = cKDTree(np.column_stack([x, y])).query(np.column_stack([sx, sy]))
    worst = int(np.argmax(distance))
    return float(distance[worst]), float(sx[worst]), float(sy[worst])


def compute_coverage(stations: gpd.GeoDataFrame, radii_m: Sequence[float] = DEFAULT_RADII_M,
                     cell_size_m: float | None = None,
                     study_area: shapely.Geometry | None = None) -> Coverage:
    """Merged service areas, grid statistics and the largest gap for ``stations`` (WGS84).

    ``study_area`` (WGS84 polygons, e.g. the city's districts) replaces the stations' hull.
    """
    if len(stations) == 0:
        raise MapError("no stations to analyse")
    radii = check_radii(radii_m)
    check_cell_size(cell_size_m)
    lon = stations.geometry.x.to_numpy()
    lat = stations.geometry.y.to_numpy()
    forward, inverse = _local_projection(lon, lat)
    x, y = forward.transform(lon, lat)
    points = shapely.points(np.unique(np.round(np.column_stack([x, y])), axis=0))
    quad_segs = 8 if len(points) <= _DETAILED_CIRCLES_UP_TO else 3
    areas = {r: shapely.union_all(shapely.buffer(points, r, quad_segs=quad_segs))
             for r in radii}
    if study_area is None:
        study = shapely.buffer(shapely.convex_hull(shapely.multipoints(points)), radii[-1],
                               quad_segs=quad_segs)
    else:
        study = shapely.make_valid(shapely.transform(study_area, lambda xy: np.column_stack(
            forward.transform(xy[:, 0], xy[:, 1]))))
        # Within a tenth of the smallest radius: invisible in the shares, and far fewer vertices.
        study = shapely.make_valid(shapely.simplify(study, radii[0] / 10))
        areas = {r: shapely.intersection(area, study) for r, area in areas.items()}
    cell = float(cell_size_m) if cell_size_m else _nice_cell_size(study.area)
    if study.area / cell**2 > _MAX_CELLS:
        smallest = _nice_cell_size(study.area * _TARGET_CELLS / _MAX_CELLS)
        raise MapError(f"cell size: {cell:g} m cuts the {study.area / 1e6:,.0f} km² study area "
                       f"into more than {_MAX_CELLS:,} cells; use at least {smallest:g} m")
    cells, col, row = _grid(study, cell)
    cell_area = shapely.area(cells)
    counts = _station_counts(x, y, col, row, cell)
    columns: dict[str, object] = {
        "cell": [f"{c:+d},{r:+d}" for c, r in zip(col, row, strict=True)],
        "station_count": counts,
        "area_km2": np.round(cell_area / 1e6, 3),
    }
    for r in radii:
        share = _covered_area_per_cell(cells, areas[r]) / cell_area
        columns[f"share_{r}"] = np.round(np.clip(share, 0.0, 1.0), 4)
    gap, gap_x, gap_y = _largest_gap(study, x, y, cell)
    gap_lon, gap_lat = inverse.transform(gap_x, gap_y)

    def to_wgs84(geometry: shapely.Geometry) -> shapely.Geometry:
        # Rounded to 1e-6 degrees (0.1 m): what a map can show, at half the page size.
        return shapely.transform(geometry, lambda xy: np.column_stack(
            inverse.transform(xy[:, 0], xy[:, 1])).round(6))

    def for_drawing(geometry: shapely.Geometry) -> shapely.Geometry:
        # Simplified part by part: one call on a national multipolygon takes a minute.
        # The tolerance keeps every vertex of the smallest circle's 32-gon (9.6 m off the
        # chord at 500 m), so the drawn area is the computed one.
        parts = shapely.simplify(shapely.get_parts(geometry), radii[0] / 100)
        return to_wgs84(shapely.multipolygons(parts))

    summary = CoverageSummary(
        station_count=len(stations),
        study_area_km2=round(study.area / 1e6, 2),
        covered_share={r: round(areas[r].area / study.area, 7) for r in radii},
        largest_gap_m=round(gap, 1),
        largest_gap_lonlat=(round(float(gap_lon), 6), round(float(gap_lat), 6)),
        cell_size_m=cell,
    )
    return Coverage(
        service_areas={r: for_drawing(areas[r]) for r in radii},
        study_area=for_drawing(study),
        cells=gpd.GeoDataFrame(columns, geometry=to_wgs84(cells), crs=CRS_WGS84),
        summary=summary,
    )


def _station_counts(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
                    col: npt.NDArray[np.int64], row: npt.NDArray[np.int64],
                    cell: float) -> npt.NDArray[np.int64]:
    """How many stations fall in each grid cell (stations outside the study area in none)."""
    index = {(c, r): i for i, (c, r) in enumerate(zip(col.tolist(), row.tolist(), strict=True))}
    counts = np.zeros(len(col), dtype=np.int64)
    for key in zip(np.floor(x / cell).astype(int).tolist(),
                   np.floor(y / cell).astype(int).tolist(), strict=True):
        if key in index:
            counts[index[key]] += 1
    return counts
