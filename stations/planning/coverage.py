"""Coverage per district: the figures a union planner asks for, as one table.

For each district (province, city or county-level area) of a boundary frame:

``stations``, ``stations_per_10k_km2``
    stations inside it (point in polygon) and their density per 10,000 km²;
``area_share``, ``area_share_bound``
    share of its area within reach of a station (which may stand in the next district),
    measured on the cells of the equal-area sample grid of :mod:`stations.planning.samples`,
    and the most it can be off: for straight-line reach each cell's part within reach is
    computed exactly, but near corners of the service areas (:mod:`.reach_area`); other
    kinds of reach count each cell by its centre and give no bound (``NaN``);
``demand``, ``demand_within``, ``demand_share``
    weighted demand inside it and the part within reach (``NaN`` when no demand was given);
``largest_gap_m``, ``gap_lon``, ``gap_lat``
    the sample point farthest from every station, with its WGS84 position.

With another kind of reach, only cell centres near a station (same or neighbouring cell of a
grid as wide as the reach) are asked for their distance: a point farther than the reach in a
straight line is out of reach by road too.  The largest gap is found on at most
:data:`GAP_POINTS_PER_DISTRICT` points per district, so it is good to about a grid spacing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from .demand import Demand
from .districts import DISTRICT_COLUMNS, assign_districts
from .reach import Reach, StraightLineReach, within
from .reach_area import AreaWithin, straight_line_area
from .samples import AreaSamples, cached_area_samples

FloatArray = npt.NDArray[np.float64]
GAP_POINTS_PER_DISTRICT: Final = 250
_METRES_PER_DEGREE: Final = 111_195.0
_MAX_RASTER_CELLS: Final = 200_000_000


@dataclass(frozen=True)
class Stations:
    """Station positions (WGS84) and the district row each one lies in (-1: outside all)."""

    lon: FloatArray
    lat: FloatArray
    district: npt.NDArray[np.int64]

    @classmethod
    def locate(cls, lon: npt.ArrayLike, lat: npt.ArrayLike,
               districts: gpd.GeoDataFrame) -> Stations:
        """Stations with their districts found by point in polygon."""
        lon_arr = np.asarray(lon, dtype=np.float64)
        lat_arr = np.asarray(lat, dtype=np.float64)
        return cls(lon_arr, lat_arr, assign_districts(lon_arr, lat_arr, districts))


def near_stations(stations: Stations, reach_m: float, lon: npt.ArrayLike,
                  lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """A superset of the points within ``reach_m`` of a station, found with a boolean raster.

    Cells are at least ``reach_m`` wide in both directions everywhere in the stations' latitude
    band, so a point within reach lies in its station's cell or one of the eight around it.
    """
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    if len(stations.lon) == 0 or len(lon_arr) == 0:
        return np.zeros(len(lon_arr), dtype=bool)
    widest_lat = min(89.0, float(np.abs(stations.lat).max()) + 1.0)
    cell = reach_m / (_METRES_PER_DEGREE * math.cos(math.radians(widest_lat))) * 1.001
    lon0, lat0 = float(stations.lon.min()) - 2 * cell, float(stations.lat.min()) - 2 * cell
    cols = int((stations.lon.max() - lon0) / cell) + 3
    rows = int((stations.lat.max() - lat0) / cell) + 3
    if cols * rows > _MAX_RASTER_CELLS:  # a huge reach over a huge area: ask every point
        return np.ones(len(lon_arr), dtype=bool)
    occupied = np.zeros((rows, cols), dtype=bool)
    sc = ((stations.lon - lon0) / cell).astype(np.int64)
    sr = ((stations.lat - lat0) / cell).astype(np.int64)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            occupied[sr + dr, sc + dc] = True
    pc = np.floor((lon_arr - lon0) / cell).astype(np.int64)
    pr = np.floor((lat_arr - lat0) / cell).astype(np.int64)
    inside = (pc >= 0) & (pc < cols) & (pr >= 0) & (pr < rows)
    result = np.zeros(len(lon_arr), dtype=bool)
    result[inside] = occupied[pr[inside], pc[inside]]
    return result


def distances_within(stations: Stations, reach: Reach, lon: npt.ArrayLike,
                     lat: npt.ArrayLike) -> FloatArray:
    """Distance to the nearest station where it is within reach, ``inf`` elsewhere."""
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    distance = np.full(len(lon_arr), np.inf)
    ask = near_stations(stations, reach.reach_m, lon_arr, lat_arr)
    if ask.any():
        found = reach.nearest_m(lon_arr[ask], lat_arr[ask])
        distance[ask] = np.where(within(found, reach.reach_m), found, np.inf)
    return distance


def _gap_subset(samples: AreaSamples) -> npt.NDArray[np.int64]:
    """At most :data:`GAP_POINTS_PER_DISTRICT` evenly strided sample points per district."""
    counts = np.bincount(samples.district, minlength=len(samples.district_km2))
    ends = np.cumsum(counts)
    stride = np.maximum(1, -(-counts // GAP_POINTS_PER_DISTRICT))
    # One short range per district (the points are grouped by district): no pass over all.
    return np.concatenate([np.arange(end - count, end, step, dtype=np.int64)
                           for end, count, step in zip(ends.tolist(), counts.tolist(),
                                                       stride.tolist(), strict=True)])


def _largest_gaps(samples: AreaSamples, reach: Reach, n_districts: int) -> pd.DataFrame:
    subset = _gap_subset(samples)
    lon = samples.lon[subset].astype(np.float64)
    lat = samples.lat[subset].astype(np.float64)
    distance = reach.nearest_m(lon, lat)
    owner = samples.district[subset]
    # Sort by district, then distance descending: the first row of each district is its gap.
    order = np.lexsort((-np.nan_to_num(distance, posinf=1e12), owner))
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
    gaps = pd.DataFrame({"largest_gap_m": np.nan, "gap_lon": np.nan, "gap_lat": np.nan},
                        index=range(n_districts))
    gaps.loc[owner[first], "largest_gap_m"] = np.round(distance[first], 1)
    gaps.loc[owner[first], "gap_lon"] = np.round(lon[first], 6)
    gaps.loc[owner[first], "gap_lat"] = np.round(lat[first], 6)
    return gaps


def area_within(stations: Stations, reach: Reach, samples: AreaSamples) -> AreaWithin:
    """Share of each district's cells within reach: exact with a bound for straight lines,
    by the cell centres otherwise."""
    if isinstance(reach, StraightLineReach):
        return straight_line_area(samples, reach.index.lon, reach.index.lat, reach.reach_m)
    reached = np.isfinite(distances_within(stations, reach, samples.lon.astype(np.float64),
                                           samples.lat.astype(np.float64)))
    n = len(samples.district_km2)
    counts = np.maximum(np.bincount(samples.district, minlength=n), 1)
    return AreaWithin(np.bincount(samples.district, reached, n) / counts, np.full(n, np.nan))


def district_coverage(stations: Stations, districts: gpd.GeoDataFrame, reach: Reach,
                      demand: Demand | None = None,
                      samples: AreaSamples | None = None) -> pd.DataFrame:
    """One row per district with the columns described in the module docstring."""
    samples = samples if samples is not None else cached_area_samples(districts)
    n = len(districts)
    table = pd.DataFrame({c: districts[c].to_numpy() for c in DISTRICT_COLUMNS})
    area = samples.district_km2
    table["area_km2"] = np.round(area, 2)
    counted = stations.district[stations.district >= 0]
    table["stations"] = np.bincount(counted, minlength=n)
    table["stations_per_10k_km2"] = np.round(table["stations"] / np.maximum(area, 1e-9) * 1e4,
                                             2)
    within_reach = area_within(stations, reach, samples)
    table["area_share"] = np.round(np.clip(within_reach.share, 0, 1), 4)
    table["area_share_bound"] = np.ceil(within_reach.bound * 1e4) / 1e4  # rounded up
    table["demand"] = np.nan
    table["demand_within"] = np.nan
    table["demand_share"] = np.nan
    if demand is not None:
        owner = assign_districts(demand.lon, demand.lat, districts)
        inside = owner >= 0
        near = np.isfinite(distances_within(stations, reach, demand.lon, demand.lat))
        total = np.bincount(owner[inside], weights=demand.weight[inside], minlength=n)
        hit = np.bincount(owner[inside], weights=(demand.weight * near)[inside], minlength=n)
        table["demand"] = total
        table["demand_within"] = hit
        table["demand_share"] = np.round(np.divide(hit, total, out=np.full(n, np.nan),
                                                   where=total > 0), 4)
    table = pd.concat([table, _largest_gaps(samples, reach, n)], axis=1)
    table["spacing_m"] = np.round(samples.spacing_m, 1)
    return table


def coverage_totals(table: pd.DataFrame) -> dict[str, float]:
    """Figures for all the districts of a table together (area-weighted shares)."""
    area = float(table["area_km2"].sum())
    demand = float(table["demand"].sum()) if table["demand"].notna().any() else math.nan
    return {
        "districts": len(table),
        "districts_without_station": int((table["stations"] == 0).sum()),
        "stations": int(table["stations"].sum()),
        "area_km2": round(area, 2),
        "stations_per_10k_km2": round(table["stations"].sum() / max(area, 1e-9) * 1e4, 2),
        "area_share": round(float((table["area_share"] * table["area_km2"]).sum())
                            / max(area, 1e-9), 4),
        "area_share_bound": math.ceil(float((table["area_share_bound"] * table["area_km2"])
                                            .sum()) / max(area, 1e-9) * 1e4) / 1e4
        if table["area_share_bound"].notna().all() else math.nan,
        "demand": demand,
        "demand_share": (round(float(table["demand_within"].sum()) / demand, 4)
                         if demand and demand > 0 else math.nan),
        "largest_gap_m": float(table["largest_gap_m"].max()),
    }
