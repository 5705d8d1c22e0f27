"""Service areas by road on the planner maps: isochrone polygons instead of circles.

The polygons come from :mod:`stations.roads.isochrones` (a grid of places measured by road,
bounded in cells); a straight-line reach draws none on the district map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import folium
import shapely

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
    """The stations' service area when ``reach`` is by road; None for a straight line."""
    return reach.service_area() if reach.by == "road" else None  # type: ignore[attr-defined]


def add_service_area(fmap: folium.Map, reach: Reach, basemap: Basemap) -> None:
    """The stations' service area by road as a layer (nothing for a straight line)."""
    area = drawn_service_area(reach)
    if area is not None:
        area_layer(fmap, area, basemap, f"服务范围 Service area: {reach.label}")
