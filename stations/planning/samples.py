"""Regular sample points inside each district, laid out in an equal-area projection.

The share of a district's area within reach of a station is measured on these points: each
stands for an equal part of its district's area (measured in square metres on an Albers
equal-area projection for China, never in square degrees), so the share is the weighted
fraction of points within reach.  Unioning 150,000 service circles and clipping them to 2,875
district polygons takes minutes; one nearest-station query for a few million fixed points takes
a second, and the points depend only on the boundaries, so they are computed once and cached.

About :data:`DEFAULT_PER_DISTRICT` points per district: a 40 km² city district gets a grid of
about 130 m, a 10,000 km² county one of 2.2 km.  The spacing of each district is kept, so
reports can say how fine the estimate is.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from .districts import cache_dir

FloatArray = npt.NDArray[np.float64]

# Albers equal-area conic for China (standard parallels 25° N and 47° N, central meridian 105° E).
EQUAL_AREA_CHINA: Final = ("+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 "
                           "+units=m +no_defs")
DEFAULT_PER_DISTRICT: Final = 2000
# A city's dozen districts get finer grids: the points of a whole run stay under this budget.
POINTS_BUDGET: Final = 500_000
MAX_PER_DISTRICT: Final = 50_000
MIN_SPACING_M: Final = 20.0


def to_equal_area() -> pyproj.Transformer:
    """WGS84 lon/lat -> metres on the equal-area projection."""
    return pyproj.Transformer.from_crs("EPSG:4326", EQUAL_AREA_CHINA, always_xy=True)


def project_geometries(geometry: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """WGS84 geometries in equal-area metres (all vertices in one call)."""
    forward = to_equal_area()
    return shapely.transform(np.asarray(geometry, dtype=object),
                             lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))


def areas_km2(geometry: npt.ArrayLike) -> FloatArray:
    """Areas of WGS84 polygons in km², measured on the equal-area projection."""
    return shapely.area(project_geometries(geometry)) / 1e6


@dataclass(frozen=True)
class AreaSamples:
    """Points (WGS84, float32: a metre is plenty) inside the districts of one frame.

    ``district`` is each point's row in the frame (the points are grouped by district, in row
    order); per district, ``district_km2`` is its area and ``spacing_m`` the grid spacing, so
    each of its points stands for an equal share.
    """

    lon: npt.NDArray[np.float32]
    lat: npt.NDArray[np.float32]
    district: npt.NDArray[np.int32]
    district_km2: FloatArray
    spacing_m: FloatArray

    def weights_km2(self) -> FloatArray:
        """The area (km²) each point stands for."""
        counts = np.bincount(self.district, minlength=len(self.district_km2))
        return (self.district_km2 / np.maximum(counts, 1))[self.district]

    def save(self, path: Path) -> None:
        """Write atomically as .npz (a cache: a reader that fails rebuilds it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(partial, **{f.name: getattr(self, f.name) for f in fields(self)})
        os.replace(partial, path)

    @classmethod
    def load(cls, path: Path) -> AreaSamples:
        """Read what :meth:`save` wrote."""
        with np.load(path) as data:
            return cls(**{f.name: data[f.name] for f in fields(cls)})


def _district_points(polygon: shapely.Geometry, spacing: float
                     ) -> tuple[FloatArray, FloatArray]:
    minx, miny, maxx, maxy = polygon.bounds
    xs = np.arange(minx + spacing / 2, maxx, spacing)
    ys = np.arange(miny + spacing / 2, maxy, spacing)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    inside = shapely.contains_xy(polygon, gx, gy)
    if not inside.any():  # a sliver thinner than the grid: one point stands for all of it
        point = shapely.point_on_surface(polygon)
        return np.array([shapely.get_x(point)]), np.array([shapely.get_y(point)])
    return gx[inside], gy[inside]


def area_samples(districts: gpd.GeoDataFrame,
                 per_district: int = DEFAULT_PER_DISTRICT) -> AreaSamples:
    """About ``per_district`` grid points inside each district, weighted by area."""
    projected = project_geometries(districts.geometry.to_numpy())
    area_m2 = shapely.area(projected)
    spacing = np.maximum(np.sqrt(area_m2 / per_district), MIN_SPACING_M)
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    counts = np.zeros(len(projected), dtype=np.int64)
    for row, polygon in enumerate(projected):
        shapely.prepare(polygon)
        x, y = _district_points(polygon, float(spacing[row]))
        xs.append(x)
        ys.append(y)
        counts[row] = len(x)
    lon, lat = to_equal_area().transform(np.concatenate(xs), np.concatenate(ys),
                                         direction="INVERSE")
    return AreaSamples(lon=np.asarray(lon, dtype=np.float32),
                       lat=np.asarray(lat, dtype=np.float32),
                       district=np.repeat(np.arange(len(projected), dtype=np.int32), counts),
                       district_km2=area_m2 / 1e6, spacing_m=spacing)


def points_per_district(count: int) -> int:
    """Points per district for ``count`` districts: 2,000 nationally, more for fewer districts."""
    return int(min(MAX_PER_DISTRICT, max(DEFAULT_PER_DISTRICT, POINTS_BUDGET / max(count, 1))))


def cached_area_samples(districts: gpd.GeoDataFrame,
                        per_district: int | None = None) -> AreaSamples:
    """:func:`area_samples`, kept in the cache dir for boundaries from the data package.

    The cache key is the package source (``districts.attrs["source"]``) and the exact list of
    codes, so a subset of districts never reads the samples of another.
    """
    per_district = per_district or points_per_district(len(districts))
    source = districts.attrs.get("source")
    if not source:
        return area_samples(districts, per_district)
    codes = hashlib.sha256("\n".join(districts["code"]).encode()).hexdigest()[:16]
    path = cache_dir() / f"samples-{source}-{per_district}-{codes}.npz"
    try:
        return AreaSamples.load(path)
    except (OSError, KeyError, ValueError):
        samples = area_samples(districts, per_district)
        samples.save(path)
        return samples
