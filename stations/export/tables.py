"""CSV tables for bulk POI import into Chinese map platforms (Amap/Tencent GCJ-02, Baidu BD-09).

The columns follow the platforms' bulk import templates: Amap's enterprise map point upload
("经纬度模板": 名称, 经度, 纬度 as system fields, then free custom fields such as 地址 and 电话) and
Baidu's location data tables (title, address, longitude, latitude, tags, with the coordinate
type stated per table).  Headings are Chinese, as in the templates, and the file is UTF-8 with a
byte order mark so that Excel on Chinese Windows opens it without mojibake.

The coordinate system is in a column of its own (the templates accept custom columns) as well as
in the file name: a GCJ-02 table that looks like WGS84 would put every station a few hundred
metres off.

Every text cell that a spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with an apostrophe, so a hostile station name
cannot run anything when a planner opens the table.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..crs import CoordinateSystem
from .base import (
    CATEGORY_ZH,
    CRS_LABELS,
    Target,
    amenity_labels_zh,
    binary_output,
    station_rows,
    status_label_zh,
    summary_zh,
)

if TYPE_CHECKING:
    import geopandas as gpd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
AMENITY_SEPARATOR = "、"


def neutralise_formula(text: str) -> str:
    """Prefix a cell that a spreadsheet would evaluate with ``'`` so it stays text."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


@dataclass(frozen=True)
class PoiTableExporter:
    """A POI import table in one Chinese coordinate system."""

    name: str
    crs: CoordinateSystem
    description: str
    category_heading: str
    media_type: str = "text/csv; charset=utf-8"
    extension: str = ".csv"

    @property
    def headings(self) -> tuple[str, ...]:
        return ("名称", "地址", "经度", "纬度", "电话", "营业时间", self.category_heading,
                "描述", "服务设施", "编号", "英文名称", "省份", "城市", "区县", "运营单位", "状态",
                "来源", "更新时间", "坐标系")

    def write(self, stations: gpd.GeoDataFrame, target: Target) -> None:
        crs_label = CRS_LABELS[self.crs]
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(self.headings)
        for value, codes, lon, lat in station_rows(stations, self.crs):
            writer.writerow((
                neutralise_formula(value["name"]),
                neutralise_formula(value["address"]),
                f"{lon:.7f}",
                f"{lat:.7f}",
                neutralise_formula(value["phone"]),
                neutralise_formula(value["opening_hours"]),
                CATEGORY_ZH,
                neutralise_formula(summary_zh(codes, value["opening_hours"], value["status"])),
                AMENITY_SEPARATOR.join(amenity_labels_zh(codes)),
                neutralise_formula(value["id"]),
                neutralise_formula(value["name_en"]),
                neutralise_formula(value["province"]),
                neutralise_formula(value["city"]),
                neutralise_formula(value["district"]),
                neutralise_formula(value["operator"]),
                status_label_zh(value["status"]),
                neutralise_formula(value["source"]),
                neutralise_formula(value["updated_at"]),
                crs_label,
            ))
        with binary_output(target) as stream:
            stream.write(text.getvalue().encode("utf-8-sig"))
