"""Base-map tile sources and the coordinate system each one is drawn in.

OpenStreetMap tiles are in WGS84, like the stations.  Amap (高德) tiles are drawn in GCJ-02, so on
an Amap base map every station must be shifted into GCJ-02 before it is drawn; without the shift
each sits a few hundred metres off its street.  Plain data, without folium, so that the static
maps (``maps/``) and the office console's live map share one list of hosts and attributions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .crs import CoordinateSystem


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

    def origins(self) -> list[str]:
        """The ``https://host`` origins the tiles come from, one per subdomain used."""
        base = self.url.split("/", 3)
        origin = "/".join(base[:3])
        if "{s}" not in origin:
            return [origin]
        return [origin.replace("{s}", s) for s in self.subdomains]


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
