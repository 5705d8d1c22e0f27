"""GeoJSON feeds: RFC 7946 in WGS84, and the same shape in GCJ-02 for Amap/Tencent tools.

RFC 7946 removed the ``crs`` member and fixes WGS84, so the standard feed carries none.  The
GCJ-02 variant is, strictly, not RFC 7946 GeoJSON; it says so in a foreign member
``coordinate_system`` (and in its file name), which GeoJSON readers ignore and people see.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import orjson

from ..crs import CoordinateSystem
from ..model import TEXT_FIELDS
from .base import (
    CRS_LABELS,
    FEED_NAME_ZH,
    Target,
    amenity_codes,
    amenity_labels_zh,
    binary_output,
    coordinates,
    status_label_zh,
    text_columns,
)


@dataclass(frozen=True)
class GeoJSONExporter:
    """A FeatureCollection with every text field and the amenities as codes and labels."""

    name: str
    crs: CoordinateSystem
    description: str
    media_type: str = "application/geo+json"
    extension: str = ".geojson"

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        lon_array, lat_array = coordinates(stations, self.crs)
        lon, lat = lon_array.tolist(), lat_array.tolist()
        columns = text_columns(stations, TEXT_FIELDS)
        features = []
        for i, codes in enumerate(amenity_codes(stations)):
            properties: dict[str, object] = {field: columns[field][i] for field in TEXT_FIELDS}
            properties["status_zh"] = status_label_zh(properties["status"])  # type: ignore[arg-type]
            properties["amenities"] = codes
            properties["amenities_zh"] = amenity_labels_zh(codes)
            features.append({
                "type": "Feature",
                "id": columns["id"][i],
                "geometry": {"type": "Point", "coordinates": [lon[i], lat[i]]},
                "properties": properties,
            })
        collection: dict[str, object] = {"type": "FeatureCollection", "name": FEED_NAME_ZH}
        if self.crs is not CoordinateSystem.WGS84:
            collection["coordinate_system"] = CRS_LABELS[self.crs]
        collection["features"] = features
        with binary_output(target) as stream:
            stream.write(orjson.dumps(collection))
