"""A planner's report: one self-contained HTML page per city, printable on A4.

It gathers what a union office asks before a planning meeting: the district table (stations,
coverage by area and by demand, the largest gap and where it is), a chart of coverage by
district, the coverage curve of the suggested sites, a map of districts, stations and sites,
and what changed since the previous data version.  The page has no script and no external
link: charts and the map are inline SVG, so it prints from any browser and opens offline.
Every text that comes from data is escaped by Jinja2's autoescaping.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from jinja2 import Environment

from ..index import haversine_m
from .coverage import coverage_totals
from .districts import district_outlines
from .reach import gap_text
from .sites import Candidates, SitePlan, plan_rows

MOVED_M: Final = 50.0
MAP_WIDTH: Final = 700
BAR_WIDTH: Final = 420


@dataclass(frozen=True)
class StationChanges:
    """Stations added, removed and moved (more than 50 m) since the previous data version."""

    previous_version: str
    added: list[str]
    removed: list[str]
    moved: list[tuple[str, float]]


def station_changes(current: gpd.GeoDataFrame, previous: gpd.GeoDataFrame,
                    previous_version: str) -> StationChanges:
    """Compare two station frames by id (names for the lists, metres for moves)."""
    now = current.set_index("id")
    before = previous.set_index("id")
    added = sorted(set(now.index) - set(before.index))
    removed = sorted(set(before.index) - set(now.index))
    both = sorted(set(now.index) & set(before.index))
    moved: list[tuple[str, float]] = []
    if both:
        a, b = now.loc[both].geometry, before.loc[both].geometry
        metres = haversine_m(a.x.to_numpy(), a.y.to_numpy(), b.x.to_numpy(), b.y.to_numpy())
        moved = [(sid, float(m)) for sid, m in zip(both, metres, strict=True) if m > MOVED_M]
    return StationChanges(previous_version, added, removed, moved)


class _Projection:
    """Equirectangular projection of a small area onto the SVG's pixels (north up)."""

    def __init__(self, bounds: tuple[float, float, float, float], width: int) -> None:
        west, south, east, north = bounds
        self.kx = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * self.kx, 1e-9)
        self.scale = width / span_x
        self.west, self.north = west, north
        self.width = width
        self.height = max(1, int((north - south) * self.scale) + 1)

    def xy(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        x = (np.asarray(lon) - self.west) * self.kx * self.scale
        y = (self.north - np.asarray(lat)) * self.scale
        return np.round(x, 1), np.round(y, 1)

    def path(self, geometry: shapely.Geometry) -> str:
        parts = []
        for polygon in getattr(geometry, "geoms", [geometry]):
            for ring in (polygon.exterior, *polygon.interiors):
                x, y = self.xy(*np.asarray(ring.coords).T[:2])
                parts.append("M" + "L".join(f"{a},{b}" for a, b in zip(x, y, strict=True)) + "Z")
        return "".join(parts)


def _map(districts: gpd.GeoDataFrame, station_lon: np.ndarray, station_lat: np.ndarray,
         sites: list[dict[str, Any]], service_area: shapely.Geometry | None
         ) -> dict[str, Any]:
    projection = _Projection(tuple(districts.total_bounds), MAP_WIDTH)
    tolerance = max(1e-4, (districts.total_bounds[2] - districts.total_bounds[0]) / 1500)
    shapes = district_outlines(districts, tolerance)
    sx, sy = projection.xy(station_lon, station_lat)
    labels_x, labels_y = projection.xy(
        *np.array([(p.x, p.y) for p in shapely.point_on_surface(shapes)]).T.reshape(2, -1))
    site_x, site_y = projection.xy([s["lon_wgs84"] for s in sites], [s["lat_wgs84"] for s in sites])
    return {
        "width": projection.width, "height": projection.height,
        "districts": [{"path": projection.path(g), "name": n, "x": x, "y": y}
                      for g, n, x, y in zip(shapes, districts["name"], labels_x, labels_y,
                                            strict=True)],
        "stations": list(zip(sx.tolist(), sy.tolist(), strict=True)),
        "service_area": _area_path(projection, service_area, shapes, tolerance),
        "sites": [{"rank": s["rank"], "x": x, "y": y}
                  for s, x, y in zip(sites, site_x.tolist(), site_y.tolist(), strict=True)],
    }


def _area_path(projection: _Projection, area: shapely.Geometry | None,
               shapes: npt.NDArray[np.object_], tolerance: float) -> str:
    """The service area clipped to the districts, as an SVG path ("" when there is none)."""
    if area is None or area.is_empty:
        return ""
    clipped = shapely.simplify(shapely.intersection(area, shapely.union_all(shapes)), tolerance)
    parts = [p for p in shapely.get_parts(clipped) if isinstance(p, shapely.Polygon)]
    return projection.path(shapely.MultiPolygon(parts)) if parts else ""


def _curve(plan: SitePlan | None) -> dict[str, Any] | None:
    if plan is None or len(plan.chosen) == 0 or plan.demand_total <= 0:
        return None
    shares = np.concatenate(([plan.covered_before], plan.curve)) / plan.demand_total
    width, height = 420, 180
    top = max(float(shares.max()), plan.upper_bound / plan.demand_total, 1e-9)
    xs = np.linspace(40, width - 10, len(shares))
    ys = height - 20 - shares / top * (height - 40)
    return {"width": width, "height": height,
            "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True)),
            "bound_y": round(height - 20 - plan.upper_bound / plan.demand_total / top
                             * (height - 40), 1),
            "first": shares[0], "last": shares[-1], "top": top, "n": len(shares) - 1}


def _percent(value: float) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value * 100:.1f}%"


def render_report(place: str, table: pd.DataFrame, districts: gpd.GeoDataFrame,
                  stations: gpd.GeoDataFrame, reach_m: float, data_version: str,
                  generated_at: dt.datetime, plan: SitePlan | None = None,
                  candidates: Candidates | None = None,
                  changes: StationChanges | None = None,
                  previous_table: pd.DataFrame | None = None, reach_label: str | None = None,
                  service_area: shapely.Geometry | None = None) -> str:
    """The report page as HTML text (the caller writes it).

    ``reach_label`` names the reach (default: ``reach_m`` m in a straight line);
    ``service_area`` (WGS84, e.g. the isochrones by road) is drawn on the map.
    """
    totals = coverage_totals(table)
    sites = plan_rows(plan, candidates) if plan is not None and candidates is not None else []
    rows = table.to_dict("records")
    if previous_table is not None:
        for row, before in zip(rows, previous_table.to_dict("records"), strict=True):
            row["stations_before"] = before["stations"]
            row["area_share_before"] = before["area_share"]
    inside = stations.geometry
    environment = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters["pct"] = _percent
    environment.filters["gap"] = gap_text
    template = (resources.files(__package__) / "templates" / "report.html").read_text("utf-8")
    return environment.from_string(template).render(
        place=place, rows=rows, totals=totals,
        reach_label=reach_label or f"{reach_m:.0f} m 直线 straight line",
        data_version=data_version,
        generated=generated_at.strftime("%Y-%m-%d %H:%M"), sites=sites, plan=plan,
        curve=_curve(plan), changes=changes, with_demand=bool(table["demand"].notna().any()),
        map=_map(districts, inside.x.to_numpy(), inside.y.to_numpy(), sites, service_area),
        bar_width=BAR_WIDTH, compared=previous_table is not None)
