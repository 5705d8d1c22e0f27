"""Which column is which: headings as union offices write them, without a mapping file.

Office sheets name the same column many ways (驿站名称 / 站点名称 / 名称, 经度 / X / lng ...),
add notes in brackets (``经度(百度)``) and mark required columns with ``*``.  Besides the
schema's fields a sheet may have one position cell (``坐标``: both numbers, a share link or
picker output) and one ticked column per amenity (``微波炉`` with √ / 是 / 有 / 1).  A heading
that names nothing is reported with the closest known heading, so a typo is easy to fix; 序号
(a row number) is recognised only to be ignored: it is never an id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from ..model import AMENITY_LABEL_INDEX, FIELD_LABELS_ZH, TEXT_FIELDS, normalise_label

# Pseudo-field of a column holding both coordinates, a share link or picker output.
POSITION = "position"
# Fields a source column can feed: the text fields, the coordinates and the amenity cell.
SOURCE_FIELDS: tuple[str, ...] = (*TEXT_FIELDS, "lon", "lat", POSITION, "amenities")
MADE_FIELDS = ("division_code", "opening_hours_text")  # always worked out, never read

HEADING_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "站点编号", "驿站编号", "序号编码", "code", "station id", "station_id"),
    "name": ("驿站名称", "名称", "站点名称", "服务站名称", "阵地名称", "驿站", "站点",
             "station name", "title"),
    "name_en": ("英文名称", "英文名", "name en", "english name"),
    "address": ("详细地址", "地址", "站点地址", "位置", "所在位置", "具体位置", "addr",
                "street address"),
    "province": ("省份", "省", "所在省份", "state"),
    "city": ("城市", "市", "所在城市", "所属城市", "地市", "所在市"),
    "district": ("所在区县", "区县", "区", "县区", "所属区县", "辖区", "所在辖区", "所属辖区",
                 "所在区", "county"),
    "operator": ("运营单位", "运营工会", "主办单位", "建设单位", "管理单位", "所属工会",
                 "负责单位", "责任单位"),
    "phone": ("联系电话", "电话", "联系方式", "服务电话", "tel", "telephone"),
    "opening_hours": ("开放时间", "开放时段", "服务时间", "营业时间", "hours", "opening hours"),
    "status": ("状态", "运营状态", "开放状态"),
    "source": ("来源", "数据来源", "信息来源"),
    "updated_at": ("更新时间", "更新日期", "updated", "last updated"),
    "lon": ("经度", "longitude", "lng", "lon", "long", "x", "x坐标", "东经"),
    "lat": ("纬度", "latitude", "lat", "y", "y坐标", "北纬"),
    POSITION: ("坐标", "经纬度", "位置坐标", "经纬度坐标", "坐标位置", "定位", "地图位置",
               "地图链接", "位置链接", "导航链接", "coordinates", "location", "lnglat"),
    "amenities": ("服务设施", "设施", "配套设施", "服务功能", "功能", "服务项目", "设施配置",
                  "amenity", "facilities"),
}
# Headings recognised only to be left out: they are row numbers or free notes, never data.
IGNORED_HEADINGS = ("序号", "序", "no", "no.", "备注", "说明", "remarks", "note", "notes")

_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_CLOSEST_SCORE = 60.0


def heading_key(heading: str) -> str:
    """A heading as compared: folded, without a bracketed note or a required-field ``*``."""
    return normalise_label(_BRACKETED.sub("", str(heading)).replace("*", "").replace("＊", ""))


_HEADING_INDEX: dict[str, str] = {
    heading_key(alias): name
    for name, aliases in HEADING_ALIASES.items()
    for alias in (name, *aliases)
    if name not in MADE_FIELDS
}
_IGNORED = frozenset(heading_key(h) for h in IGNORED_HEADINGS)


@dataclass(slots=True)
class Headings:
    """What the heading row says: column -> field, ticked amenity columns, and the rest."""

    fields: dict[int, str] = field(default_factory=dict)
    ticks: dict[int, str] = field(default_factory=dict)  # column -> amenity code
    ignored: list[str] = field(default_factory=list)
    unknown: list[tuple[str, str | None]] = field(default_factory=list)  # heading, closest

    def has(self, *names: str) -> bool:
        return set(names) <= set(self.fields.values())

    @property
    def locates(self) -> bool:
        """Whether the columns can give a position: lon and lat, or one position cell."""
        return self.has("lon", "lat") or self.has(POSITION)


def recognise_headings(headings: Iterable[object], mapping: Mapping[str, str] | None = None
                       ) -> Headings:
    """Read one heading row; a mapping file's lines win over the built-in variants."""
    extra = {heading_key(k): v for k, v in (mapping or {}).items()}
    extra.update({normalise_label(k): v for k, v in (mapping or {}).items()})
    found = Headings()
    for position, heading in enumerate(headings):
        text = str(heading).strip()
        key = heading_key(text)
        if not key:
            continue
        target = extra.get(normalise_label(text)) or extra.get(key) or _HEADING_INDEX.get(key)
        if target:
            if target not in found.fields.values():
                found.fields[position] = target
        elif key in _IGNORED:
            found.ignored.append(text)
        elif key in AMENITY_LABEL_INDEX:
            found.ticks[position] = AMENITY_LABEL_INDEX[key]
        else:
            found.unknown.append((text, closest_heading(key)))
    return found


def closest_heading(key: str) -> str | None:
    """The known heading nearest to ``key`` as ``营业时间 (opening_hours)``, if any is close."""
    best = process.extractOne(key, list(_HEADING_INDEX), scorer=fuzz.WRatio,
                              score_cutoff=_CLOSEST_SCORE)
    return None if best is None else f"{best[0]} ({_HEADING_INDEX[best[0]]})"


def field_label(name: str) -> str:
    """``地址 address``: how reports name a field, Chinese first."""
    label = FIELD_LABELS_ZH.get(name) or {"lon": "经度", "lat": "纬度", POSITION: "坐标",
                                          "amenities": "服务设施", "lon/lat": "经纬度",
                                          "geometry": "几何", "heading": "表头"}.get(name)
    return f"{label} ({name})" if label else name
