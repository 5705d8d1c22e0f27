"""Static HTML maps: the station map for riders and the coverage map for planners.

Both are folium maps that open with no internet access except the base-map tiles.
"""

from .basemaps import Basemap, parse_basemap
from .coverage import compute_coverage
from .coverage_map import build_coverage_map
from .render import render_html, save_map
from .station_map import build_station_map

__all__ = ["Basemap", "build_coverage_map", "build_station_map", "compute_coverage",
           "parse_basemap", "render_html", "save_map"]
