"""What the console's live map needs: positions in each tile system, tile options, the CSP.

Stations are stored in WGS84.  Amap's tiles are drawn in GCJ-02 and OpenStreetMap's in WGS84,
so the browser has to show each station shifted for the tiles the member of staff chose, and a
pin dragged on Amap tiles has to be shifted back before it is saved.  Rather than a copy of the
GCJ-02 formula in JavaScript, the server sends every position in each system the tiles use
(``crs.py``), and converts a dragged pin back on request (``GET /console/position``).
"""

from __future__ import annotations

from typing import Any, Final

import numpy.typing as npt

from ..crs import CoordinateSystem, from_wgs84
from ..tiles import TILE_SOURCES

TILE_SYSTEMS: Final = tuple(sorted({source.crs for source in TILE_SOURCES.values()}))
# A station opened in the editor is shown this close: one screen pixel is about half a metre.
EDITOR_ZOOM: Final = 18


def in_tile_systems(lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[dict[str, list[float]]]:
    """WGS84 positions as ``{"wgs84": [lon, lat], "gcj02": [lon, lat]}``, one per point."""
    shifted = {crs.value: from_wgs84(lon, lat, crs) for crs in TILE_SYSTEMS}
    count = shifted[CoordinateSystem.WGS84.value][0].size
    return [{name: [float(x.flat[i]), float(y.flat[i])] for name, (x, y) in shifted.items()}
            for i in range(count)]


def tile_options() -> dict[str, dict[str, Any]]:
    """Each base map's URL, attribution, subdomains, zoom limit and system, for Leaflet."""
    return {basemap.value: {"name": source.name, "url": source.url,
                            "attribution": source.attribution, "subdomains": source.subdomains,
                            "max_zoom": source.max_zoom, "crs": source.crs.value}
            for basemap, source in TILE_SOURCES.items()}


def content_security_policy() -> str:
    """Scripts only from this site; images from it and the two tile hosts; no other requests;
    frames only from this site (the sheet review's map)."""
    tile_hosts = " ".join(origin for source in TILE_SOURCES.values()
                          for origin in source.origins())
    return ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: {tile_hosts}; connect-src 'self'; frame-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
