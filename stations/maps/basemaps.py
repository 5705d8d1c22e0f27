"""Base maps for folium: every station, buffer and polygon shifted into the tiles' system.

The tile sources themselves are in ``stations/tiles.py``; on an Amap base map (GCJ-02) each
geometry is shifted before it is drawn.  The browser's own position is WGS84 too; the page
shifts it with the same transform (see ``map_controls.js``).
"""

from __future__ import annotations

import folium
import numpy as np
import numpy.typing as npt
import shapely

from ..crs import CoordinateSystem, from_wgs84
from ..errors import MapError
from ..tiles import TILE_SOURCES, Basemap

__all__ = ["TILE_SOURCES", "Basemap", "display_geometry", "display_lonlat", "new_map",
           "parse_basemap"]


def parse_basemap(name: str | Basemap) -> Basemap:
    """``osm`` or ``amap``; anything else is a clear error naming the allowed values."""
    try:
        return Basemap(str(name).strip().lower())
    except ValueError:
        allowed = ", ".join(b.value for b in Basemap)
        raise MapError(f"unknown base map {name!r}; allowed: {allowed}") from None


def new_map(basemap: Basemap, location: tuple[float, float], zoom: int) -> folium.Map:
    """A folium map showing ``basemap`` with its attribution, and no folium default tiles.

    ``location`` is (lat, lon) in WGS84; it is shifted like everything else on the map.
    """
    source = TILE_SOURCES[basemap]
    lon, lat = display_lonlat(basemap, [location[1]], [location[0]])
    fmap = folium.Map(location=(float(lat[0]), float(lon[0])), zoom_start=zoom, tiles=None,
                      control_scale=True)
    folium.TileLayer(source.url, attr=source.attribution, name=source.name,
                     subdomains=source.subdomains, max_zoom=source.max_zoom).add_to(fmap)
    return fmap


def display_lonlat(basemap: Basemap, lon: npt.ArrayLike,
                   lat: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS84 positions in the coordinate system the base map's tiles are drawn in."""
    return from_wgs84(lon, lat, TILE_SOURCES[basemap].crs)


def display_geometry(basemap: Basemap, geometry: shapely.Geometry) -> shapely.Geometry:
    """A WGS84 geometry with every vertex shifted for the base map."""
    if TILE_SOURCES[basemap].crs is CoordinateSystem.WGS84:
        return geometry

    def shift(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = display_lonlat(basemap, coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, shift)
