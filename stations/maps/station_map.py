"""The station map for riders: every station, clustered, with popups, search and filters.

The map carries the station table once in compact form (:mod:`stations.maps.payload`); the
page's own scripts cluster the stations in view (``static/grid_cluster.js``) and make pins
and popups only when they are shown (``static/station_layer.js``).  That keeps a national
map of 150,000 stations small and quick to build and to open.
"""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
from jinja2 import Template

from ..errors import MapError
from .assets import AssetUser
from .basemaps import TILE_SOURCES, Basemap, display_lonlat, new_map
from .payload import amenity_legend, encode_payload, station_payload, status_legend
from .render import script_json, set_title


class StationLayer(AssetUser):
    """Leaflet element that mounts the station layer and its controls on the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        StationsMap.mountStations({{ this._parent.get_name() }}, {{ this.config }},
            "{{ this.payload }}");
        {% endmacro %}
    """)

    def __init__(self, stations: gpd.GeoDataFrame, basemap: Basemap,
                 bounds: list[list[float]], rider_page_url: str | None = None) -> None:
        super().__init__(
            js=("leaflet", "map_controls_js", "grid_cluster_js", "station_layer_js"),
            css=("leaflet_css", "markerclustercss", "markerclusterdefaultcss",
                 "map_controls_css"),
        )
        self._name = "StationLayer"
        self.config = script_json({
            "crs": TILE_SOURCES[basemap].crs.value,
            "amenities": amenity_legend(),
            "statuses": status_legend(),
            "bounds": bounds,  # [[south, west], [north, east]] in the base map's system
            "riderPage": rider_page_url,
        })
        self.payload = encode_payload(station_payload(stations))


def check_rider_page_url(url: str | None) -> None:
    """Only web addresses: a ``javascript:`` or ``data:`` link in a map would run on a click."""
    if url is not None and not re.match(r"^(https?://[^\s]+|/[^\s]*)$", url):
        raise MapError(f"rider page: {url!r} is not an http(s) address or a path starting with /")


def build_station_map(stations: gpd.GeoDataFrame, basemap: Basemap = Basemap.OSM,
                      title: str = "工会驿站地图 Worker stations",
                      rider_page_url: str | None = None) -> folium.Map:
    """A folium map of ``stations`` (WGS84) on ``basemap``, fitted to the stations.

    With ``rider_page_url`` (where ``stations serve`` answers, e.g. ``https://yizhan.example.org/``)
    the map links riders to the page that lists the nearest open stations.
    """
    if len(stations) == 0:
        raise MapError("no stations to draw")
    check_rider_page_url(rider_page_url)
    lon, lat = display_lonlat(basemap, stations.geometry.x.to_numpy(),
                              stations.geometry.y.to_numpy())
    centre = (float(np.median(stations.geometry.y)), float(np.median(stations.geometry.x)))
    fmap = new_map(basemap, centre, zoom=12)
    bounds = [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
    StationLayer(stations, basemap, bounds, rider_page_url).add_to(fmap)
    set_title(fmap, title)
    return fmap
