"""The coverage map for planners: service areas, grid choropleth, density heat and gaps.

The analysis is :mod:`stations.maps.coverage`; this module only draws it.  On the Amap base
map every polygon and point is shifted into GCJ-02 first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely
from folium.plugins import HeatMap
from jinja2 import Template

from .assets import AssetUser
from .basemaps import TILE_SOURCES, Basemap, display_geometry, display_lonlat, new_map
from .coverage import DEFAULT_RADII_M, Coverage, compute_coverage
from .district_layer import add_district_outlines
from .render import script_json, set_title

# Share of a cell within reach -> fill colour: red where nobody is served, green where all are.
SHARE_BINS: tuple[tuple[float, str, str], ...] = (
    (0.0, "#d73027", "0–10 %"),
    (0.1, "#fc8d59", "10–30 %"),
    (0.3, "#fee08b", "30–60 %"),
    (0.6, "#91cf60", "60–90 %"),
    (0.9, "#1a9850", "90–100 %"),
)
_AREA_STYLES = ("#08519c", "#3182bd", "#6baed6", "#9ecae1")


def share_colour(share: float) -> str:
    """The choropleth colour of a cell with ``share`` of its area within reach."""
    colour = SHARE_BINS[0][1]
    for lower, bin_colour, _label in SHARE_BINS:
        if share >= lower:
            colour = bin_colour
    return colour


def _percent(share: float) -> str:
    """One decimal, or two significant digits for the tiny shares of a national table."""
    if 0 < share < 0.001:
        return f"{share * 100:.2g} %"
    return f"{share * 100:.1f} %"


class CoveragePanel(AssetUser):
    """Summary block, legend, locate-me and fullscreen controls of the coverage map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (map, cfg) {
          StationsMap.addSummary(map, cfg.title, cfg.rows);
          StationsMap.addLegend(map, cfg.legendTitle, cfg.legend);
          StationsMap.addLocateControl(map, cfg.crs);
          StationsMap.addFullscreenControl(map);
        })({{ this._parent.get_name() }}, {{ this.config }});
        {% endmacro %}
    """)

    def __init__(self, config: dict[str, object]) -> None:
        super().__init__(js=("leaflet", "map_controls_js"), css=("leaflet_css",
                                                                 "map_controls_css"))
        self._name = "CoveragePanel"
        self.config = script_json(config)


def _summary_rows(coverage: Coverage, place: str) -> list[list[str]]:
    s = coverage.summary
    rows = [["范围 Area", place], ["驿站 Stations", f"{s.station_count:,}"],
            ["研究区 Study area", f"{s.study_area_km2:,.1f} km²"]]
    rows += [[f"{r} m 内覆盖 Within {r} m", _percent(share)]
             for r, share in s.covered_share.items()]
    rows += [["最大空白 Largest gap", f"{s.largest_gap_m / 1000:,.1f} km 距最近驿站"],
             ["网格 Grid cell", f"{s.cell_size_m / 1000:g} km"]]
    return rows


def _geojson(basemap: Basemap, geometry: shapely.Geometry) -> dict[str, object]:
    return json.loads(shapely.to_geojson(display_geometry(basemap, geometry)))


def _cells_geojson(coverage: Coverage, basemap: Basemap) -> dict[str, object]:
    cells = coverage.cells
    radii = list(coverage.service_areas)
    features = []
    for i, row in enumerate(cells.itertuples(index=False)):
        shares = {r: float(getattr(row, f"share_{r}")) for r in radii}
        properties: dict[str, object] = {
            "cell": row.cell, "stations": int(row.station_count),
            "area": f"{row.area_km2:.2f} km²",
            "colour": share_colour(shares[radii[-1]]),
        }
        properties.update({f"share_{r}": _percent(shares[r]) for r in radii})
        features.append({"type": "Feature", "id": i, "properties": properties,
                         "geometry": _geojson(basemap, row.geometry)})
    return {"type": "FeatureCollection", "features": features}


def build_coverage_map(stations: gpd.GeoDataFrame, basemap: Basemap = Basemap.OSM,
                       radii_m: Sequence[float] = DEFAULT_RADII_M,
                       cell_size_m: float | None = None, place: str = "全部 All",
                       coverage: Coverage | None = None,
                       districts: gpd.GeoDataFrame | None = None) -> folium.Map:
    """A folium coverage map of ``stations`` (WGS84); ``coverage`` skips the analysis.

    With ``districts`` (the place's district polygons), they are the study area, and their
    outlines and names are drawn.
    """
    study_area = None if districts is None else shapely.union_all(districts.geometry.to_numpy())
    coverage = coverage or compute_coverage(stations, radii_m, cell_size_m, study_area)
    radii = list(coverage.service_areas)
    minx, miny, maxx, maxy = display_geometry(
        basemap, shapely.box(*coverage.cells.total_bounds)).bounds
    fmap = new_map(basemap, ((miny + maxy) / 2, (minx + maxx) / 2), zoom=11)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])

    tooltip_fields = ["cell", "stations", "area", *(f"share_{r}" for r in radii)]
    tooltip_aliases = ["网格 Cell", "驿站数 Stations", "面积 Area",
                       *(f"{r} m 内面积占比 Share within {r} m" for r in radii)]
    folium.GeoJson(
        _cells_geojson(coverage, basemap), name="网格覆盖率 Coverage by grid cell",
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#888",
                                  "weight": 0.5, "fillOpacity": 0.45},
        tooltip=folium.GeoJsonTooltip(fields=tooltip_fields, aliases=tooltip_aliases),
    ).add_to(fmap)
    folium.GeoJson(
        _geojson(basemap, coverage.study_area), name="研究区（红色为未覆盖）Study area",
        style_function=lambda _f: {"color": "#b2182b", "weight": 1, "fillColor": "#b2182b",
                                   "fillOpacity": 0.08, "dashArray": "4 4"},
        interactive=False,
    ).add_to(fmap)
    for i, r in enumerate(reversed(radii)):
        colour = _AREA_STYLES[min(i, len(_AREA_STYLES) - 1)]
        folium.GeoJson(
            _geojson(basemap, coverage.service_areas[r]), name=f"{r} m 服务范围 Service area",
            style_function=lambda _f, c=colour: {"color": c, "weight": 1.5, "fillColor": c,
                                                 "fillOpacity": 0.2},
            interactive=False,
        ).add_to(fmap)

    lon, lat = display_lonlat(basemap, stations.geometry.x.to_numpy(),
                              stations.geometry.y.to_numpy())
    HeatMap(np.column_stack([lat, lon]).round(6).tolist(), name="驿站密度 Station density",
            radius=14, blur=18, min_opacity=0.3, show=False).add_to(fmap)
    gap_lon, gap_lat = display_lonlat(basemap, *coverage.summary.largest_gap_lonlat)
    folium.CircleMarker(
        (float(gap_lat), float(gap_lon)), radius=8, color="#b2182b", fill=True,
        fill_opacity=0.9,
        tooltip=f"最大空白 Largest gap: {coverage.summary.largest_gap_m / 1000:.1f} km",
    ).add_to(fmap)
    if districts is not None:
        add_district_outlines(fmap, districts, basemap)
    folium.LayerControl(collapsed=False, position="topleft").add_to(fmap)

    legend = [{"swatch": colour, "label": f"{label} 面积在 {radii[-1]} m 内"}
              for _lower, colour, label in SHARE_BINS]
    legend.append({"swatch": "#b2182b", "label": "最大空白 Largest gap"})
    CoveragePanel({
        "title": "覆盖概况 Coverage summary",
        "rows": _summary_rows(coverage, place),
        "legendTitle": "网格覆盖率 Share of cell within reach",
        "legend": legend,
        "crs": TILE_SOURCES[basemap].crs.value,
    }).add_to(fmap)
    set_title(fmap, f"驿站覆盖图 Station coverage — {place}")
    return fmap

