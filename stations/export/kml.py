"""KML 2.2 for Google Earth, 2GIS and the many phone apps that open ``.kml``.

Placemarks are styled by what matters most on the road: a station with e-bike charging, one
with a microwave to heat a meal, any other open station, and one that is not open now.  The
balloon (``description``) is HTML in a CDATA section built only from escaped text, so a hostile
name is shown, never run.  ``ExtendedData`` carries every field, so GIS tools get the table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from ..crs import CoordinateSystem
from ..model import FIELD_LABELS_ZH, TEXT_FIELDS, Status
from .base import (
    FEED_NAME_ZH,
    Target,
    amenity_labels_zh,
    station_rows,
    status_label_zh,
    xml_document,
)

if TYPE_CHECKING:
    import geopandas as gpd

KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
_ICON_BASE = "https://maps.google.com/mapfiles/kml/paddle/"
SCHEMA_ID = "station"
# KML readers (GDAL, QGIS) already have an ``id`` column for the KML object id, so the station
# id is called ``station_id`` here rather than showing up as ``id2``.
STATION_ID_FIELD = "station_id"
EXTENDED_FIELDS: tuple[tuple[str, str], ...] = (
    (STATION_ID_FIELD, FIELD_LABELS_ZH["id"]),
    *((field, FIELD_LABELS_ZH[field]) for field in TEXT_FIELDS if field != "id"),
    ("amenities", "服务设施代码"),
    ("amenities_zh", "服务设施"),
)

# style id -> (Chinese legend, icon colour as aabbggrr, icon file)
STYLES: dict[str, tuple[str, str, str]] = {
    "ebike": ("可电动车充电", "ff00a5ff", "orange-circle.png"),
    "meal": ("可加热饭菜", "ff00c800", "grn-circle.png"),
    "basic": ("工会驿站", "ffff8c00", "blu-circle.png"),
    "closed": ("暂停或关闭", "ff909090", "wht-circle.png"),
}


def style_for(codes: list[str], status: str) -> str:
    """The style id of a station: closed first, then e-bike charging, then microwave."""
    if status != Status.OPEN:
        return "closed"
    if "ebike_charging" in codes:
        return "ebike"
    if "microwave" in codes:
        return "meal"
    return "basic"


def balloon_html(values: dict[str, str], codes: list[str]) -> str:
    """The placemark balloon: escaped text only."""
    labels = amenity_labels_zh(codes)
    rows = [
        f"<b>{html.escape(values['name'])}</b>",
        html.escape(values["name_en"]),
        f"地址：{html.escape(values['address'])}",
        f"电话：{html.escape(values['phone'])}",
        f"开放时间：{html.escape(values['opening_hours'])}",
        f"状态：{html.escape(status_label_zh(values['status']))}",
        f"服务设施：{html.escape('、'.join(labels)) or '无'}",
    ]
    return "<br/>".join(row for row in rows if row)


@dataclass(frozen=True)
class KMLExporter:
    """KML 2.2 placemarks with shared styles and ExtendedData."""

    name: str = "kml"
    description: str = "KML 2.2 placemarks (Google Earth, 2GIS, phone map apps), WGS84"
    crs: CoordinateSystem = CoordinateSystem.WGS84
    media_type: str = "application/vnd.google-earth.kml+xml"
    extension: str = ".kml"

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        # Children are built without a namespace and written inside the root's default
        # namespace, so they serialise as plain <Placemark> and parsers read them as KML.
        with xml_document(target) as xf, \
                xf.element(f"{{{KML_NAMESPACE}}}kml", nsmap={None: KML_NAMESPACE}), \
                xf.element("Document"):
            with xf.element("name"):
                xf.write(FEED_NAME_ZH)
            for style_id, (_legend, colour, icon) in STYLES.items():
                xf.write(_style(style_id, colour, icon))
            xf.write(_schema())
            for row in station_rows(stations, self.crs, for_xml=True):
                xf.write(_placemark(row.values, row.codes, f"{row.lon:.7f},{row.lat:.7f}"))


def _style(style_id: str, colour: str, icon: str) -> etree._Element:
    style = etree.Element("Style", id=style_id)
    icon_style = etree.SubElement(style, "IconStyle")
    etree.SubElement(icon_style, "color").text = colour
    etree.SubElement(icon_style, "scale").text = "1.1"
    etree.SubElement(etree.SubElement(icon_style, "Icon"), "href").text = _ICON_BASE + icon
    return style


def _schema() -> etree._Element:
    """The typed field list, declared once so placemarks carry only values (half the size)."""
    schema = etree.Element("Schema", name=SCHEMA_ID, id=SCHEMA_ID)
    for field, label in EXTENDED_FIELDS:
        simple_field = etree.SubElement(schema, "SimpleField", type="string", name=field)
        etree.SubElement(simple_field, "displayName").text = label
    return schema


def _placemark(values: dict[str, str], codes: list[str], lon_lat: str) -> etree._Element:
    placemark = etree.Element("Placemark")
    etree.SubElement(placemark, "name").text = values["name"]
    etree.SubElement(placemark, "address").text = values["address"]
    etree.SubElement(placemark, "phoneNumber").text = values["phone"]
    etree.SubElement(placemark, "description").text = etree.CDATA(balloon_html(values, codes))
    etree.SubElement(placemark, "styleUrl").text = "#" + style_for(codes, values["status"])
    schema_data = etree.SubElement(etree.SubElement(placemark, "ExtendedData"),
                                   "SchemaData", schemaUrl="#" + SCHEMA_ID)
    row = {**values, STATION_ID_FIELD: values["id"], "amenities": ",".join(codes),
           "amenities_zh": "、".join(amenity_labels_zh(codes))}
    for field, _label in EXTENDED_FIELDS:
        etree.SubElement(schema_data, "SimpleData", name=field).text = row[field]
    point = etree.SubElement(placemark, "Point")
    etree.SubElement(point, "coordinates").text = lon_lat
    return placemark
