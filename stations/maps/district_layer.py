"""District outlines on every planner map: offline, the districts still show where things are.

:class:`DistrictLayer` mounts ``district_layer.js``, which draws either plain outlines with the
district names, or (with metrics) the choropleth of :mod:`stations.maps.district_map`.
Polygons are simplified together (neighbours share one simplified border) to a tolerance that
follows the map's extent (about 1/3,000 of it), which keeps a national district map to a few
megabytes.
"""

from __future__ import annotations

import json
import math

import folium
import geopandas as gpd
import shapely
from jinja2 import Template

from ..planning.districts import district_outlines
from .assets import AssetUser
from .basemaps import Basemap, display_geometry, display_lonlat
from .render import script_json


def outline_tolerance(districts: gpd.GeoDataFrame) -> float:
    """Simplification tolerance in degrees: 1/3,000 of the extent, at least ~10 m."""
    minx, miny, maxx, maxy = districts.total_bounds
    return max(1e-4, math.hypot(maxx - minx, maxy - miny) / 3000)


def display_geojson(districts: gpd.GeoDataFrame, basemap: Basemap) -> list[dict[str, object]]:
    simple = district_outlines(districts, outline_tolerance(districts))
    simple = shapely.transform(display_geometry(basemap, simple), lambda xy: xy.round(5))
    return [json.loads(text) for text in shapely.to_geojson(simple)]


class DistrictLayer(AssetUser):
    """District polygons drawn by ``district_layer.js``: outlines, or a choropleth."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        StationsMap.mountDistricts({{ this._parent.get_name() }}, {{ this.config }});
        {% endmacro %}
    """)

    def __init__(self, config: dict[str, object]) -> None:
        super().__init__(js=("leaflet", "map_controls_js", "district_layer_js"),
                         css=("leaflet_css", "map_controls_css"))
        self._name = "DistrictLayer"
        self.config = script_json(config)


def add_district_outlines(fmap: folium.Map, districts: gpd.GeoDataFrame,
                          basemap: Basemap) -> None:
    """Dashed outlines of ``districts`` (WGS84) on ``fmap``, each named at a point inside it."""
    inside = shapely.point_on_surface(districts.geometry.to_numpy())
    lon, lat = display_lonlat(basemap, shapely.get_x(inside), shapely.get_y(inside))
    features = [{"type": "Feature", "geometry": geometry,
                 "properties": {"label": str(name), "at": [round(float(y), 5),
                                                           round(float(x), 5)]}}
                for geometry, name, x, y in zip(display_geojson(districts, basemap),
                                                districts["name"], lon, lat, strict=True)]
    DistrictLayer({"features": features, "metrics": []}).add_to(fmap)
