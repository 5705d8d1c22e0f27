"""Static HTML maps: the station map for riders and the coverage map for planners.

Both are folium maps that open with no internet access except the base-map tiles.
"""

from .basemaps import Basemap, parse_basemap
from .render import render_html, save_map
from .station_map import build_station_map

__all__ = ["Basemap", "build_station_map", "parse_basemap", "render_html", "save_map"]
