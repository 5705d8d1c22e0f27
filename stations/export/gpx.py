"""GPX 1.1 waypoints for OsmAnd, Organic Maps and bike computers.

Each station is a ``wpt`` with ``name``, ``cmt`` (the address), ``desc`` (amenities, hours and
status in Chinese), ``sym`` and ``type``.  GPX has no field for an identifier or a machine-readable
amenity list, so those go into ``extensions`` under the project's own namespace, which GPX 1.1
allows and readers that do not know it skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from ..crs import CoordinateSystem
from .base import (
    CATEGORY_ZH,
    FEED_NAME_ZH,
    Target,
    station_rows,
    summary_zh,
    xml_document,
)

if TYPE_CHECKING:
    import geopandas as gpd

GPX_NAMESPACE = "http://www.topografix.com/GPX/1/1"
GPX_SCHEMA_LOCATION = f"{GPX_NAMESPACE} http://www.topografix.com/GPX/1/1/gpx.xsd"
STATION_NAMESPACE = "urn:x-stations:gpx:1"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
# Garmin waypoint symbol names (the set GPX readers share), chosen by what a rider needs
# first; the station kind itself is in ``type``.
SYMBOLS_BY_AMENITY: tuple[tuple[str, str], ...] = (
    ("drinking_water", "Drinking Water"),
    ("toilet", "Restroom"),
)
DEFAULT_SYMBOL = "Building"


def symbol_for(codes: list[str]) -> str:
    """``Drinking Water`` when the station has it, else ``Restroom``, else ``Building``."""
    return next((symbol for code, symbol in SYMBOLS_BY_AMENITY if code in codes),
                DEFAULT_SYMBOL)


@dataclass(frozen=True)
class GPXExporter:
    """GPX 1.1 waypoints, one per station."""

    name: str = "gpx"
    description: str = "GPX 1.1 waypoints (OsmAnd, Organic Maps, bike computers), WGS84"
    crs: CoordinateSystem = CoordinateSystem.WGS84
    media_type: str = "application/gpx+xml"
    extension: str = ".gpx"

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        # Children are built without a namespace and written inside the root's default
        # namespace, so they serialise as plain <wpt> and parsers read them as GPX.
        root_attributes = {"version": "1.1", "creator": "stations",
                           f"{{{_XSI}}}schemaLocation": GPX_SCHEMA_LOCATION}
        nsmap = {None: GPX_NAMESPACE, "xsi": _XSI, "station": STATION_NAMESPACE}
        with xml_document(target) as xf, \
                xf.element(f"{{{GPX_NAMESPACE}}}gpx", root_attributes, nsmap=nsmap):
            metadata = etree.Element("metadata")
            etree.SubElement(metadata, "name").text = FEED_NAME_ZH
            xf.write(metadata)
            for row in station_rows(stations, self.crs, for_xml=True):
                xf.write(_waypoint(row.values, row.codes, row.lon, row.lat))


def _waypoint(values: dict[str, str], codes: list[str],
              lon: float, lat: float) -> etree._Element:
    waypoint = etree.Element("wpt", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
    etree.SubElement(waypoint, "name").text = values["name"]
    etree.SubElement(waypoint, "cmt").text = values["address"]
    description = summary_zh(codes, values["opening_hours"], values["status"])
    if values["phone"]:
        description += f"；电话：{values['phone']}"
    etree.SubElement(waypoint, "desc").text = description
    etree.SubElement(waypoint, "sym").text = symbol_for(codes)
    etree.SubElement(waypoint, "type").text = CATEGORY_ZH
    extensions = etree.SubElement(waypoint, "extensions")
    s = f"{{{STATION_NAMESPACE}}}"
    station_ns = {"station": STATION_NAMESPACE}
    etree.SubElement(extensions, s + "id", nsmap=station_ns).text = values["id"]
    etree.SubElement(extensions, s + "amenities", nsmap=station_ns).text = ",".join(codes)
    return waypoint
