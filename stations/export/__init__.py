"""Feeds for map apps: one module per format, all behind one registry.

``EXPORTERS`` maps a format name to its :class:`~stations.export.base.Exporter`; the
``stations export`` command and the API's ``/feeds/{format}`` route both look formats up here,
so a new format is one module and one line below.
"""

from __future__ import annotations

from ..crs import CoordinateSystem
from ..errors import UnknownExportFormat
from .base import Exporter, default_filename, export_bytes
from .geojson import GeoJSONExporter
from .gpx import GPXExporter
from .kml import KMLExporter
from .osm import OSMExporter
from .tables import PoiTableExporter
from .vector_tiles import PMTilesExporter

_ALL: tuple[Exporter, ...] = (
    GeoJSONExporter("geojson", CoordinateSystem.WGS84,
                    "GeoJSON (RFC 7946) with every field and amenity, WGS84 (QGIS, OsmAnd)"),
    GeoJSONExporter("geojson-gcj02", CoordinateSystem.GCJ02,
                    "GeoJSON in GCJ-02 for Amap/Tencent based tools"),
    PoiTableExporter("csv-gcj02", CoordinateSystem.GCJ02,
                     "POI import table for Amap (高德) and Tencent (腾讯), GCJ-02, UTF-8 BOM",
                     category_heading="分类"),
    PoiTableExporter("csv-bd09", CoordinateSystem.BD09,
                     "POI import table for Baidu (百度), BD-09, UTF-8 BOM",
                     category_heading="标签"),
    KMLExporter(),
    GPXExporter(),
    OSMExporter(),
    PMTilesExporter(),
)
EXPORTERS: dict[str, Exporter] = {exporter.name: exporter for exporter in _ALL}


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name``; an unknown name lists the allowed ones."""
    try:
        return EXPORTERS[name.strip().lower()]
    except KeyError:
        allowed = ", ".join(EXPORTERS)
        raise UnknownExportFormat(f"unknown format {name!r}; allowed: {allowed}") from None


__all__ = ["EXPORTERS", "Exporter", "default_filename", "export_bytes", "get_exporter"]
