"""KML 2.2 for Google Earth, 2GIS and the many phone apps that open ``.kml``.

Placemarks are styled by what matters most on the road: a station with e-bike charging, one
with a microwave to heat a meal, any other open station, and one that is not open now.  The
balloon (``description``) is HTML in a CDATA section built only from escaped text, so a hostile
name is shown, never run.  ``ExtendedData`` carries every field, so GIS tools get the table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import geopandas as gpd
from lxml import etree

from ..crs import CoordinateSystem
from ..model import FIELD_LABELS_ZH, TEXT_FIELDS, Status
from .base import (
    FEED_NAME_ZH,
    Target,
    amenity_codes,
    amenity_labels_zh,
    binary_output,
    coordinates,
    status_label_zh,
    text_columns,
    xml_text,
)

KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
_ICON_BASE = "https://maps.google.com/mapfiles/kml/paddle/"

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
        lon, lat = coordinates(stations, self.crs)
        columns = text_columns(stations, TEXT_FIELDS)
        # Children are built without a namespace and written inside the root's default
        # namespace, so they serialise as plain <Placemark> and parsers read them as KML.
        k = ""
        with binary_output(target) as stream, etree.xmlfile(stream, encoding="utf-8") as xf:
            xf.write_declaration()
            with xf.element(f"{{{KML_NAMESPACE}}}kml", nsmap={None: KML_NAMESPACE}), \
                    xf.element("Document"):
                xf.write(_text(k + "name", FEED_NAME_ZH))
                for style_id, (_legend, colour, icon) in STYLES.items():
                    xf.write(_style(k, style_id, colour, icon))
                for i, codes in enumerate(amenity_codes(stations)):
                    values = {field: xml_text(columns[field][i]) for field in TEXT_FIELDS}
                    xf.write(_placemark(k, values, codes, f"{lon[i]:.7f},{lat[i]:.7f}"))


def _text(tag: str, text: str) -> etree._Element:
    element = etree.Element(tag)
    element.text = text
    return element


def _style(k: str, style_id: str, colour: str, icon: str) -> etree._Element:
    style = etree.Element(k + "Style", id=style_id)
    icon_style = etree.SubElement(style, k + "IconStyle")
    etree.SubElement(icon_style, k + "color").text = colour
    etree.SubElement(icon_style, k + "scale").text = "1.1"
    etree.SubElement(etree.SubElement(icon_style, k + "Icon"), k + "href").text = _ICON_BASE + icon
    return style


def _placemark(k: str, values: dict[str, str], codes: list[str], lon_lat: str) -> etree._Element:
    placemark = etree.Element(k + "Placemark")
    etree.SubElement(placemark, k + "name").text = values["name"]
    etree.SubElement(placemark, k + "address").text = values["address"]
    etree.SubElement(placemark, k + "phoneNumber").text = values["phone"]
    etree.SubElement(placemark, k + "description").text = etree.CDATA(balloon_html(values, codes))
    etree.SubElement(placemark, k + "styleUrl").text = "#" + style_for(codes, values["status"])
    extended = etree.SubElement(placemark, k + "ExtendedData")
    data_items = [(field, FIELD_LABELS_ZH[field], values[field]) for field in TEXT_FIELDS]
    data_items.append(("amenities", "服务设施代码", ",".join(codes)))
    data_items.append(("amenities_zh", "服务设施", "、".join(amenity_labels_zh(codes))))
    for field, label, value in data_items:
        data = etree.SubElement(extended, k + "Data", name=field)
        etree.SubElement(data, k + "displayName").text = label
        etree.SubElement(data, k + "value").text = value
    point = etree.SubElement(placemark, k + "Point")
    etree.SubElement(point, k + "coordinates").text = lon_lat
    return placemark
