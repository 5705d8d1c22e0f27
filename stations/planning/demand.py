"""Demand: where the riders are, as weighted points, from a planner's file or the search counts.

Operators have demand as points or grid cells with a weight: delivery orders, population,
rider counts.  They come as CSV (columns for longitude, latitude and weight) or as a GeoPackage
or GeoJSON layer of points or polygons (a polygon counts at its centroid), in WGS84, GCJ-02 or
BD-09; everything is converted to WGS84 here, once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely

from ..crs import CoordinateSystem, to_wgs84
from ..errors import PlanningError

FloatArray = npt.NDArray[np.float64]
_LON_FIELDS: Final = ("lon", "lng", "longitude", "x", "经度")
_LAT_FIELDS: Final = ("lat", "latitude", "y", "纬度")
_WEIGHT_FIELDS: Final = ("weight", "count", "demand", "orders", "population", "riders",
                         "权重", "数量", "需求", "订单", "人口")


@dataclass(frozen=True)
class Demand:
    """Weighted demand points in WGS84; ``label`` names what the weight counts."""

    lon: FloatArray
    lat: FloatArray
    weight: FloatArray
    label: str = "demand"

    def __len__(self) -> int:
        return len(self.lon)

    @property
    def total(self) -> float:
        """The sum of all weights."""
        return float(self.weight.sum())


def demand_points(lon: npt.ArrayLike, lat: npt.ArrayLike, weight: npt.ArrayLike | None = None,
                  crs: str | CoordinateSystem = "wgs84", label: str = "demand") -> Demand:
    """Demand from arrays given in ``crs``; a missing weight counts each point once."""
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    weights = (np.ones(len(lon_arr)) if weight is None
               else np.asarray(weight, dtype=np.float64))
    bad = ~(np.isfinite(lon_arr) & np.isfinite(lat_arr) & (np.abs(lon_arr) <= 180)
            & (np.abs(lat_arr) <= 90))
    if bad.any():
        raise PlanningError(f"demand row {int(np.flatnonzero(bad)[0]) + 1} (第"
                            f"{int(np.flatnonzero(bad)[0]) + 1}行): longitude/latitude "
                            "missing or out of range")
    negative = ~np.isfinite(weights) | (weights < 0)
    if negative.any():
        row = int(np.flatnonzero(negative)[0]) + 1
        raise PlanningError(f"demand row {row} (第{row}行): weight must be a number >= 0")
    wgs_lon, wgs_lat = to_wgs84(lon_arr, lat_arr, crs)
    return Demand(np.asarray(wgs_lon), np.asarray(wgs_lat), weights, label)


def _field(columns: list[str], wanted: str | None, candidates: tuple[str, ...],
           what: str, source: Path) -> str | None:
    if wanted:
        if wanted not in columns:
            raise PlanningError(f"{source.name}: no {what} column {wanted!r}; columns are "
                                f"{', '.join(columns)}")
        return wanted
    lowered = {c.strip().lower(): c for c in columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _numbers(values: pd.Series, what: str, source: Path) -> FloatArray:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise PlanningError(f"{source.name} row {row} (第{row}行): {what} "
                            f"{values.iloc[row - 1]!r} is not a number")
    return numbers.to_numpy(dtype=np.float64)


def is_csv(source: Path) -> bool:
    """Whether a planner's point file is a CSV table (else a GDAL layer)."""
    return source.suffix.lower() in {".csv", ".txt"}


def read_table(source: Path) -> pd.DataFrame:
    """A planner's point file as a table: CSV (UTF-8 or GB18030, all text) or a GDAL layer."""
    if is_csv(source):
        try:
            return pd.read_csv(source, dtype=str, encoding="utf-8-sig")
        except UnicodeDecodeError:
            return pd.read_csv(source, dtype=str, encoding="gb18030")
    try:
        return pyogrio.read_dataframe(source)
    except Exception as exc:  # GDAL's own message says what is wrong
        raise PlanningError(f"{source.name}: cannot read it ({exc})") from None


def read_demand(path: str | os.PathLike[str], crs: str | CoordinateSystem = "wgs84",
                weight_field: str | None = None) -> Demand:
    """Demand from a CSV (lon, lat, weight columns) or a GeoPackage/GeoJSON layer."""
    source = Path(path)
    if not source.is_file():
        raise PlanningError(f"demand: no such file {source}")
    system = CoordinateSystem.parse(crs)
    table = read_table(source)
    if is_csv(source):
        columns = list(table.columns)
        lon_col = _field(columns, None, _LON_FIELDS, "longitude", source)
        lat_col = _field(columns, None, _LAT_FIELDS, "latitude", source)
        if lon_col is None or lat_col is None:
            raise PlanningError(f"{source.name}: needs longitude and latitude columns "
                                f"(lon, lat / 经度, 纬度); columns are {', '.join(columns)}")
        lon = _numbers(table[lon_col], "longitude", source)
        lat = _numbers(table[lat_col], "latitude", source)
    else:
        columns = [c for c in table.columns if c != "geometry"]
        geometry = table.geometry.to_numpy()
        if len(geometry) and shapely.is_missing(geometry).any():
            row = int(np.flatnonzero(shapely.is_missing(geometry))[0]) + 1
            raise PlanningError(f"{source.name} feature {row}: no geometry")
        points = np.where(shapely.get_type_id(geometry) == 0, geometry,
                          shapely.centroid(geometry))
        lon, lat = shapely.get_x(points), shapely.get_y(points)
    weight_col = _field(columns, weight_field, _WEIGHT_FIELDS, "weight", source)
    weights = None if weight_col is None else _numbers(table[weight_col], "weight", source)
    return demand_points(lon, lat, weights, system, label=weight_col or "points")
