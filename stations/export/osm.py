"""OpenStreetMap XML (``.osm``) for review in JOSM, never for upload.

Every station becomes a node with a negative id (JOSM's mark for "new, not yet in OSM"), and
the root carries ``upload="false"``, so JOSM refuses to upload the layer: mappers check each
station against the ground and copy what is right by hand, as the import guidelines ask.

Tagging (see docs/feeds.md for the reasoning): ``amenity=social_facility`` with
``social_facility=outreach`` (a non-residential place offering social services) and
``social_facility:for=workers``; the amenities as the established keys where OSM has one
(``drinking_water``, ``toilets``, ``microwave``, ``air_conditioning``, ``internet_access``,
``device_charging``, a ``charging_station`` hint for e-bikes) and, for all of them, a Chinese
``description`` so nothing is lost.  A closed station keeps its tags under ``disused:``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from ..crs import CoordinateSystem
from ..model import Status
from ..phones import international_phone
from .base import (
    Target,
    amenity_labels_zh,
    station_rows,
    status_label_zh,
    xml_document,
)

FACILITY_TAGS: tuple[tuple[str, str], ...] = (
    ("amenity", "social_facility"),
    ("social_facility", "outreach"),
    ("social_facility:for", "workers"),
)

if TYPE_CHECKING:
    import geopandas as gpd
# amenity code -> OSM tags that say the same thing on the station node
AMENITY_TAGS: dict[str, tuple[tuple[str, str], ...]] = {
    "drinking_water": (("drinking_water", "yes"),),
    "toilet": (("toilets", "yes"),),
    "microwave": (("microwave", "yes"),),
    "air_conditioning": (("air_conditioning", "yes"),),
    "wifi": (("internet_access", "wlan"),),
    "phone_charging": (("device_charging", "yes"),),
    "ebike_charging": (("charging_station", "yes"),),
}
DESCRIPTION_PREFIX = "服务设施："
AMENITY_SEPARATOR = "、"
# The OSM API refuses tag values longer than 255 characters.
MAX_VALUE_LENGTH = 255


def station_tags(values: dict[str, str], codes: list[str]) -> list[tuple[str, str]]:
    """The OSM tags of one station, empty values left out."""
    facility = list(FACILITY_TAGS)
    if values["status"] == Status.CLOSED:
        facility = [(f"disused:{key}", value) for key, value in facility]
    tags = [
        *facility,
        ("name", values["name"]),
        ("name:zh", values["name"]),
        ("name:en", values["name_en"]),
        ("ref", values["id"]),
        ("operator", values["operator"]),
        ("phone", international_phone(values["phone"])),
        ("opening_hours", values["opening_hours"]),
        ("addr:province", values["province"]),
        ("addr:city", values["city"]),
        ("addr:district", values["district"]),
        ("addr:full", values["address"]),
        ("check_date", values["updated_at"][:10]),
        ("description",
         DESCRIPTION_PREFIX + AMENITY_SEPARATOR.join(amenity_labels_zh(codes)) if codes else ""),
    ]
    if values["status"] == Status.TEMPORARILY_CLOSED:
        tags.append(("note", status_label_zh(values["status"])))
    for code in codes:
        tags.extend(AMENITY_TAGS.get(code, ()))
    return [(key, value[:MAX_VALUE_LENGTH]) for key, value in tags if value]


@dataclass(frozen=True)
class OSMExporter:
    """An upload-blocked JOSM layer of new nodes."""

    name: str = "osm"
    description: str = "OpenStreetMap XML for review in JOSM (negative ids, upload blocked), WGS84"
    crs: CoordinateSystem = CoordinateSystem.WGS84
    media_type: str = "application/vnd.openstreetmap.data+xml"
    extension: str = ".osm"

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        root = {"version": "0.6", "generator": "stations", "upload": "false"}
        with xml_document(target) as xf, xf.element("osm", root):
            rows = station_rows(stations, self.crs, for_xml=True)
            for number, (values, codes, lon, lat) in enumerate(rows, start=1):
                node = etree.Element("node", id=str(-number), lat=f"{lat:.7f}", lon=f"{lon:.7f}")
                for key, value in station_tags(values, codes):
                    etree.SubElement(node, "tag", k=key, v=value)
                xf.write(node)
