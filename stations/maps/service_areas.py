"""Service areas by road on the planner maps: isochrone polygons instead of circles.

The polygons come from :mod:`stations.roads.isochrones` (reached streets widened and
unioned); a straight-line reach draws none here, its circles are the other maps' business.
Drawing is bounded there: an area too big to draw leaves the layer out with a note on stderr,
and the figures (measured point by point) are unaffected.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Final

import folium
import shapely

from ..errors import MapError
from .basemaps import Basemap, display_geometry

if TYPE_CHECKING:
    from ..planning.reach import Reach

AREA_STYLE: Final = {"color": "#238b45", "weight": 1, "fillColor": "#41ab5d",
                     "fillOpacity": 0.25}


def area_layer(fmap: folium.Map | folium.FeatureGroup, area: shapely.Geometry,
               basemap: Basemap, name: str) -> None:
    """One service-area polygon, shifted for the base map, drawn under the markers."""
    if area.is_empty:
        return
    folium.GeoJson(shapely.geometry.mapping(display_geometry(basemap, area)), name=name,
                   interactive=False, style_function=lambda _feature: AREA_STYLE).add_to(fmap)


def drawn_service_area(reach: Reach) -> shapely.Geometry | None:
    """The stations' service area when ``reach`` is by road; None for a straight line, or
    (with a note on stderr) when it is too big to draw."""
    if reach.by != "road":
        return None
    try:
        return reach.service_area()  # type: ignore[attr-defined]
    except MapError as exc:
        print(f"note: service areas not drawn: {exc}", file=sys.stderr)
        return None


def add_service_area(fmap: folium.Map, reach: Reach, basemap: Basemap) -> None:
    """The stations' service area by road as a layer (nothing for a straight line)."""
    area = drawn_service_area(reach)
    if area is not None:
        area_layer(fmap, area, basemap, f"服务范围 Service area: {reach.label}")
