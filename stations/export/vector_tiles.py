"""A PMTiles v3 archive of Mapbox Vector Tiles for web maps (MapLibre, Leaflet plugins).

Zoom range: 0 to :data:`MAX_ZOOM` (12).  At zoom 12 a tile is about 10 km wide and holds
every station in full, with all the attributes a popup or a filter needs; map clients
over-zoom it for closer views.  Below zoom 12 the stations are clustered on a grid of
:data:`CLUSTER_CELLS` cells per tile side (about 16 screen pixels): one point per occupied cell
at the mean position, with ``point_count``, so a national table stays a few megabytes and a
country-wide view draws a few thousand points instead of a hundred thousand.

The zoom 12 tiles use an extent of 16384 units instead of the usual 4096: a unit is then about
0.6 m, so a station decoded from a tile is within 0.5 m of where it is stored.

Amenities are one comma-separated ``amenities`` property of codes (a MapLibre filter for
microwaves is ``["in", "microwave", ["get", "amenities"]]``): one boolean per amenity would
make the tiles a third larger and the export twice as slow.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mapbox_vector_tile
import numpy as np
import numpy.typing as npt
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from ..crs import CoordinateSystem
from ..errors import ExportError
from .base import (
    FEED_NAME_EN,
    FEED_NAME_ZH,
    Target,
    amenity_codes,
    binary_output,
    text_columns,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

LAYER = "stations"
MIN_ZOOM = 0
MAX_ZOOM = 12
DETAIL_EXTENT = 16384
CLUSTER_EXTENT = 4096
CLUSTER_CELLS = 32
DETAIL_FIELDS = ("id", "name", "name_en", "address", "city", "district", "phone",
                 "opening_hours", "status")
_MAX_LATITUDE = 85.05112878


def mercator_unit(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Web Mercator position as fractions of the world square (0..1, y down)."""
    lat_rad = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -_MAX_LATITUDE,
                                 _MAX_LATITUDE))
    x = (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0
    y = (1.0 - np.log(np.tan(lat_rad) + 1.0 / np.cos(lat_rad)) / np.pi) / 2.0
    return x, y


def unit_to_lonlat(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Inverse of :func:`mercator_unit`."""
    lon = np.asarray(x, dtype=np.float64) * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * np.asarray(y, dtype=np.float64)))))
    return lon, lat


@dataclass(frozen=True)
class PMTilesExporter:
    """Stations as vector tiles in one PMTiles file."""

    name: str = "pmtiles"
    description: str = "PMTiles v3 vector tiles, layer 'stations', z0-z12 (web maps), WGS84"
    crs: CoordinateSystem = CoordinateSystem.WGS84
    media_type: str = "application/vnd.pmtiles"
    extension: str = ".pmtiles"

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        if stations.empty:
            raise ExportError("a vector tile archive needs at least one station")
        lon = stations.geometry.x.to_numpy()
        lat = stations.geometry.y.to_numpy()
        unit_x, unit_y = mercator_unit(lon, lat)
        tiles: dict[int, bytes] = {}
        tiles.update(_detail_tiles(stations, unit_x, unit_y))
        for zoom in range(MIN_ZOOM, MAX_ZOOM):
            tiles.update(_cluster_tiles(zoom, unit_x, unit_y))
        with binary_output(target) as stream:
            writer = Writer(stream)
            for tile_id in sorted(tiles):
                writer.write_tile(tile_id, tiles[tile_id])
            writer.finalize(_header(lon, lat), _metadata())


def _tile_positions(zoom: int, extent: int, unit_x: npt.NDArray[np.float64],
                    unit_y: npt.NDArray[np.float64]) -> pd.DataFrame:
    import pandas as pd  # imported on use: the API server loads this registry without pandas

    scale = float(2**zoom)
    tile_x = np.clip(np.floor(unit_x * scale), 0, scale - 1).astype(np.int64)
    tile_y = np.clip(np.floor(unit_y * scale), 0, scale - 1).astype(np.int64)
    return pd.DataFrame({
        "tile_x": tile_x,
        "tile_y": tile_y,
        "px": np.rint((unit_x * scale - tile_x) * extent).astype(np.int64),
        "py": np.rint((unit_y * scale - tile_y) * extent).astype(np.int64),
    })


def _encode(features: list[dict[str, object]], extent: int) -> bytes:
    layer = {"name": LAYER, "features": features}
    data = mapbox_vector_tile.encode(
        [layer], default_options={"extents": extent, "y_coord_down": True})
    return gzip.compress(data, mtime=0)


def _detail_tiles(stations: gpd.GeoDataFrame, unit_x: npt.NDArray[np.float64],
                  unit_y: npt.NDArray[np.float64]) -> dict[int, bytes]:
    positions = _tile_positions(MAX_ZOOM, DETAIL_EXTENT, unit_x, unit_y)
    columns = text_columns(stations, DETAIL_FIELDS)
    codes = amenity_codes(stations)
    px, py = positions["px"].tolist(), positions["py"].tolist()
    tiles = {}
    for (tile_x, tile_y), rows in positions.groupby(["tile_x", "tile_y"]).indices.items():
        features = []
        for i in rows.tolist():
            properties: dict[str, object] = {field: columns[field][i] for field in DETAIL_FIELDS}
            properties["amenities"] = ",".join(codes[i])
            features.append({"geometry": f"POINT({px[i]} {py[i]})", "properties": properties})
        tiles[zxy_to_tileid(MAX_ZOOM, int(tile_x), int(tile_y))] = _encode(features, DETAIL_EXTENT)
    return tiles


def _cluster_tiles(zoom: int, unit_x: npt.NDArray[np.float64],
                   unit_y: npt.NDArray[np.float64]) -> dict[int, bytes]:
    import pandas as pd  # imported on use, as in _tile_positions

    cells_per_world = float(2**zoom * CLUSTER_CELLS)
    frame = pd.DataFrame({
        "cell_x": np.floor(unit_x * cells_per_world).astype(np.int64),
        "cell_y": np.floor(unit_y * cells_per_world).astype(np.int64),
        "unit_x": unit_x,
        "unit_y": unit_y,
    })
    clusters = frame.groupby(["cell_x", "cell_y"], sort=False).agg(
        unit_x=("unit_x", "mean"), unit_y=("unit_y", "mean"), point_count=("unit_x", "size"))
    positions = _tile_positions(zoom, CLUSTER_EXTENT, clusters["unit_x"].to_numpy(),
                                clusters["unit_y"].to_numpy())
    positions["point_count"] = clusters["point_count"].to_numpy()
    tiles = {}
    for (tile_x, tile_y), group in positions.groupby(["tile_x", "tile_y"]):
        features = [
            {"geometry": f"POINT({x} {y})", "properties": {"point_count": int(count)}}
            for x, y, count in zip(group["px"], group["py"], group["point_count"], strict=True)
        ]
        tiles[zxy_to_tileid(zoom, int(tile_x), int(tile_y))] = _encode(features, CLUSTER_EXTENT)
    return tiles


def _header(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> dict[str, object]:
    return {
        "tile_compression": Compression.GZIP,
        "tile_type": TileType.MVT,
        "min_zoom": MIN_ZOOM,
        "max_zoom": MAX_ZOOM,
        "min_lon_e7": int(np.floor(lon.min() * 1e7)),
        "min_lat_e7": int(np.floor(lat.min() * 1e7)),
        "max_lon_e7": int(np.ceil(lon.max() * 1e7)),
        "max_lat_e7": int(np.ceil(lat.max() * 1e7)),
        "center_zoom": 4,
    }


def _metadata() -> dict[str, object]:
    fields = {field: "String" for field in DETAIL_FIELDS}
    fields["amenities"] = "String"
    fields["point_count"] = "Number"
    return {
        "name": FEED_NAME_ZH,
        "description": FEED_NAME_EN,
        "format": "pbf",
        "vector_layers": [
            {"id": LAYER, "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM, "fields": fields},
        ],
    }
