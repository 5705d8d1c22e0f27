"""The choropleth of coverage by province, city or district.

It replaces the national convex hull: one colour per area, switchable between station count,
stations per 10,000 km² and the shares within reach by area and by demand, with each area's
figures in a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..planning.coverage import coverage_totals
from ..planning.reach import gap_text
from .basemaps import TILE_SOURCES, Basemap, display_geometry, display_lonlat, new_map
from .district_layer import DistrictLayer, display_geojson
from .render import set_title

NO_DATA_COLOUR = "#bdbdbd"
CANVAS_FROM = 300
COUNT_BINS: tuple[tuple[float, str, str], ...] = (
    (0, "#d73027", "0"), (1, "#fee08b", "1–9"), (10, "#d9ef8b", "10–99"),
    (100, "#91cf60", "100–999"), (1000, "#1a9850", "≥ 1,000"))
# Finer at the low end than the cell maps: a national district map is mostly below 10 %.
SHARE_BINS: tuple[tuple[float, str, str], ...] = (
    (0, "#a50026", "0 %"), (1e-9, "#d73027", "< 5 %"), (0.05, "#fc8d59", "5–20 %"),
    (0.2, "#fee08b", "20–50 %"), (0.5, "#d9ef8b", "50–80 %"), (0.8, "#91cf60", "80–95 %"),
    (0.95, "#1a9850", "≥ 95 %"))
DENSITY_BINS: tuple[tuple[float, str, str], ...] = (
    (0, "#d73027", "0"), (1e-9, "#fc8d59", "< 1"), (1, "#fee08b", "1–10"),
    (10, "#d9ef8b", "10–100"), (100, "#91cf60", "100–1,000"), (1000, "#1a9850", "≥ 1,000"))


def _binned(value: float, bins: Sequence[tuple[float, str, str]]) -> str:
    colour = bins[0][1]
    for lower, bin_colour, _label in bins:
        if value >= lower:
            colour = bin_colour
    return colour


def _percent(share: float) -> str:
    """One decimal, two significant digits for tiny shares, a dash for none."""
    if pd.isna(share):
        return "—"
    return f"{share * 100:.2g} %" if 0 < share < 0.001 else f"{share * 100:.1f} %"


def _share_text(share: float, bound: float) -> str:
    """The share, with its bound when that shows at one decimal."""
    if pd.isna(bound) or bound < 0.0005:
        return _percent(share)
    return f"{_percent(share)} (± {bound * 100:.1f})"


def _metrics(within: str, with_demand: bool) -> list[dict[str, object]]:
    share_legend = [{"swatch": colour, "label": label} for _l, colour, label in SHARE_BINS]
    metrics: list[dict[str, object]] = [
        {"key": "area", "title": f"{within} 内面积占比 Area within {within}",
         "legend": share_legend},
        {"key": "stations", "title": "驿站数 Stations",
         "legend": [{"swatch": c, "label": label} for _l, c, label in COUNT_BINS]},
        {"key": "density", "title": "每万 km² 驿站数 Stations per 10,000 km²",
         "legend": [{"swatch": c, "label": label} for _l, c, label in DENSITY_BINS]},
    ]
    if with_demand:
        metrics.insert(1, {"key": "demand", "title": f"{within} 内需求占比 Demand within "
                           f"{within}", "legend": [*share_legend, {
                               "swatch": NO_DATA_COLOUR, "label": "无需求 No demand"}]})
    return metrics


def _feature(geometry: dict[str, object], row: dict[str, Any], with_demand: bool
             ) -> dict[str, object]:
    rows = [["代码 Code", row["code"]], ["驿站 Stations", f"{int(row['stations']):,}"],
            ["面积 Area", f"{row['area_km2']:,.1f} km²"],
            ["每万 km² Per 10,000 km²", f"{row['stations_per_10k_km2']:,.1f}"],
            ["面积覆盖 Area within reach", _share_text(row["area_share"],
                                                  row["area_share_bound"])]]
    if with_demand:
        rows.append(["需求覆盖 Demand within reach", _percent(row["demand_share"])])
    if not pd.isna(row["largest_gap_m"]):
        rows.append(["最大空白 Largest gap", gap_text(row["largest_gap_m"])])
    colours = {"area": _binned(row["area_share"], SHARE_BINS),
               "stations": _binned(row["stations"], COUNT_BINS),
               "density": _binned(row["stations_per_10k_km2"], DENSITY_BINS),
               "demand": (NO_DATA_COLOUR if pd.isna(row["demand_share"])
                          else _binned(row["demand_share"], SHARE_BINS))}
    return {"type": "Feature", "geometry": geometry,
            "properties": {"name": str(row["name"]), "rows": rows, "colours": colours}}


def build_district_map(table: pd.DataFrame, districts: gpd.GeoDataFrame, reach_m: float,
                       basemap: Basemap = Basemap.OSM, place: str = "全国 China",
                       reach_label: str | None = None) -> folium.Map:
    """A choropleth of ``table`` (from :func:`district_coverage`) over its ``districts``.

    ``reach_label`` names the reach (e.g. a 15-minute walk by road); default ``reach_m`` m.
    """
    within = reach_label or f"{reach_m:g} m"
    with_demand = bool(table["demand"].notna().any())
    geometries = display_geojson(districts, basemap)
    features = [_feature(g, row, with_demand)
                for g, row in zip(geometries, table.to_dict("records"), strict=True)]
    minx, miny, maxx, maxy = display_geometry(
        basemap, shapely.box(*districts.total_bounds)).bounds
    fmap = new_map(basemap, ((miny + maxy) / 2, (minx + maxx) / 2), zoom=5)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    totals = coverage_totals(table)
    rows = [["范围 Area", place], ["行政区 Areas", f"{totals['districts']:,}"],
            ["无驿站 Without a station", f"{totals['districts_without_station']:,}"],
            ["驿站 Stations", f"{totals['stations']:,}"],
            ["每万 km² Per 10,000 km²", f"{totals['stations_per_10k_km2']:,.1f}"],
            [f"{within} 内面积 Area within reach",
             _share_text(totals["area_share"], totals["area_share_bound"])]]
    if with_demand:
        rows.append([f"{within} 内需求 Demand within reach",
                     _percent(totals["demand_share"])])
    worst = table.loc[table["largest_gap_m"].idxmax()] if table["largest_gap_m"].notna().any() \
        else None
    if worst is not None:
        rows.append(["最大空白 Largest gap", f"{gap_text(worst['largest_gap_m'])}, "
                     f"{worst['name']} ({worst['gap_lon']:.4f}, {worst['gap_lat']:.4f})"])
    DistrictLayer({"features": features, "metrics": _metrics(within, with_demand),
                   "legendTitle": "按行政区 By area",
                   # Thousands of SVG paths take Chromium seconds; one canvas draws them fast.
                   "canvas": len(features) > CANVAS_FROM,
                   "summary": {"title": "覆盖概况 Coverage summary", "rows": rows},
                   "crs": TILE_SOURCES[basemap].crs.value}).add_to(fmap)
    set_title(fmap, f"驿站覆盖 Station coverage by district — {place}")
    return fmap


def station_points_layer(fmap: folium.Map, lon: np.ndarray, lat: np.ndarray,
                         basemap: Basemap) -> None:
    """Stations as small dots (for city and district views; a national map shows counts)."""
    x, y = display_lonlat(basemap, lon, lat)
    geometry = {"type": "MultiPoint", "coordinates": np.column_stack([x, y]).round(5).tolist()}
    folium.GeoJson(geometry, name="驿站 Stations", interactive=False,
                   marker=folium.CircleMarker(radius=2, color="#08306b", fill=True,
                                              fill_opacity=0.9, weight=0)).add_to(fmap)
