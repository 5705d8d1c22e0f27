"""Base maps and the coordinate system each one draws in.

OpenStreetMap tiles are in WGS84, like the stations.  Amap (高德) tiles are drawn in GCJ-02, so on
an Amap base map every station, buffer and polygon must be shifted into GCJ-02 before it is
drawn; without the shift each sits a few hundred metres off its street.  The browser's own
position is WGS84 too; the page shifts it with the same transform (see ``map_controls.js``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import folium
import numpy as np
import numpy.typing as npt
import shapely

from ..crs import CoordinateSystem, from_wgs84
from ..errors import MapError


class Basemap(enum.StrEnum):
    """The base maps a map can be drawn on."""

    OSM = "osm"
    AMAP = "amap"


@dataclass(frozen=True)
class TileSource:
    """A tile URL with its attribution and the coordinate system its tiles are drawn in."""

    name: str
    url: str
    attribution: str
    crs: CoordinateSystem
    subdomains: str = "abc"
    max_zoom: int = 19


TILE_SOURCES: dict[Basemap, TileSource] = {
    Basemap.OSM: TileSource(
        "OpenStreetMap 开放街图",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者',
        CoordinateSystem.WGS84,
    ),
    Basemap.AMAP: TileSource(
        "高德地图 Amap",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
        "&x={x}&y={y}&z={z}",
        '&copy; <a href="https://www.amap.com/">高德地图 AutoNavi</a> GS(2023)551号',
        CoordinateSystem.GCJ02,
        subdomains="1234",
        max_zoom=18,
    ),
}


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
