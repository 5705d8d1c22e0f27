"""GeoJSON feeds: RFC 7946 in WGS84, and the same shape in GCJ-02 for Amap/Tencent tools.

RFC 7946 removed the ``crs`` member and fixes WGS84, so the standard feed carries none.  The
GCJ-02 variant is, strictly, not RFC 7946 GeoJSON; it says so in a foreign member
``coordinate_system`` (and in its file name), which GeoJSON readers ignore and people see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from ..crs import CoordinateSystem
from .base import (
    CRS_LABELS,
    FEED_NAME_ZH,
    Target,
    amenity_labels_zh,
    binary_output,
    station_rows,
    status_label_zh,
)

if TYPE_CHECKING:
    import geopandas as gpd


@dataclass(frozen=True)
class GeoJSONExporter:
    """A FeatureCollection with every text field and the amenities as codes and labels."""

    name: str
    crs: CoordinateSystem
    description: str
    media_type: str = "application/geo+json"
    extension: str = ".geojson"

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        features = [
            {
                "type": "Feature",
                "id": row.values["id"],
                "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
                "properties": {
                    **row.values,
                    "status_zh": status_label_zh(row.values["status"]),
                    "amenities": row.codes,
                    "amenities_zh": amenity_labels_zh(row.codes),
                },
            }
            for row in station_rows(stations, self.crs)
        ]
        collection: dict[str, object] = {"type": "FeatureCollection", "name": FEED_NAME_ZH}
        if self.crs is not CoordinateSystem.WGS84:
            collection["coordinate_system"] = CRS_LABELS[self.crs]
        collection["features"] = features
        with binary_output(target) as stream:
            stream.write(orjson.dumps(collection))
