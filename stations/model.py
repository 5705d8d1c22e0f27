"""The station schema and the amenity vocabulary.

Everything that reads or writes stations (import, GeoPackage, API, maps, feeds) takes its
field names and amenity codes from here, so the vocabulary has one definition.

Amenities are stored in the GeoPackage as one boolean column per amenity, ``has_<code>``
(for example ``has_microwave``).  A QGIS user filters "has a microwave" with the expression
``"has_microwave"`` and no code; the API combines several amenities with a bitwise AND over
the same columns.  The vocabulary itself, with its Chinese and English labels, is written to
the GeoPackage as the attribute table ``amenities``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

STATIONS_LAYER: Final = "stations"
AMENITIES_TABLE: Final = "amenities"
BUILD_INFO_TABLE: Final = "build_info"
CRS_WGS84: Final = "EPSG:4326"
TIMEZONE: Final = "Asia/Shanghai"
AMENITY_COLUMN_PREFIX: Final = "has_"


class Status(enum.StrEnum):
    """Whether a station receives workers at all (opening hours apply only when open)."""

    OPEN = "open"
    TEMPORARILY_CLOSED = "temporarily_closed"
    CLOSED = "closed"


STATUS_LABELS_ZH: Final[dict[Status, str]] = {
    Status.OPEN: "开放",
    Status.TEMPORARILY_CLOSED: "暂停开放",
    Status.CLOSED: "已关闭",
}
STATUS_LABELS_EN: Final[dict[Status, str]] = {
    Status.OPEN: "Open",
    Status.TEMPORARILY_CLOSED: "Temporarily closed",
    Status.CLOSED: "Closed",
}


@dataclass(frozen=True, slots=True)
class Amenity:
    """One entry of the controlled amenity vocabulary.

    ``aliases`` are the other ways office sheets write the same thing (Chinese or English);
    they are matched after :func:`normalise_label`.
    """

    code: str
    label_zh: str
    label_en: str
    icon: str
    aliases: tuple[str, ...] = ()

    @property
    def column(self) -> str:
        """Name of the boolean column that holds this amenity in the GeoPackage."""
        return AMENITY_COLUMN_PREFIX + self.code


AMENITIES: Final[tuple[Amenity, ...]] = (
    Amenity("drinking_water", "饮水", "Drinking water", "💧",
            ("饮用水", "直饮水", "直饮水机", "饮水机", "热水", "开水", "喝水", "water")),
    Amenity("fridge", "冰箱", "Fridge", "🧊", ("电冰箱", "冷藏", "refrigerator")),
    Amenity("microwave", "微波炉", "Microwave", "🍲",
            ("热饭", "加热", "微波", "microwave oven")),
    Amenity("air_conditioning", "空调", "Air conditioning", "❄️",
            ("冷气", "纳凉", "避暑", "ac", "a/c", "aircon")),
    Amenity("heating", "取暖", "Heating", "🔥", ("暖气", "取暖器", "供暖", "heater")),
    Amenity("washing_machine", "洗衣机", "Washing machine", "🧺", ("洗衣", "washer")),
    Amenity("phone_charging", "手机充电", "Phone charging", "🔌",
            ("手机充电器", "充电器", "充电宝", "充电", "charging", "phone charger")),
    Amenity("ebike_charging", "电动车充电", "E-bike charging / battery swap", "🛵",
            ("电瓶车充电", "电动自行车充电", "换电", "充电续航", "电动车换电",
             "e-bike charging", "battery swap", "ebike charging")),
    Amenity("free_parking", "免费停车", "Free parking", "🅿️", ("停车", "停车位", "parking")),
    Amenity("toilet", "卫生间", "Toilet", "🚻",
            ("厕所", "洗手间", "公厕", "如厕", "toilets", "restroom", "wc")),
    Amenity("rest_seats", "休息座椅", "Rest seats", "🪑",
            ("座椅", "休息区", "桌椅", "休息", "歇脚", "seats", "seating", "rest area")),
    Amenity("reading_corner", "读书角", "Reading corner", "📚",
            ("图书角", "书架", "阅读角", "书籍", "books", "library")),
    Amenity("first_aid", "医药箱", "First aid kit", "🩹",
            ("药箱", "急救箱", "急救包", "常用药品", "first aid kit", "medicine")),
    Amenity("legal_aid", "维权援助", "Legal aid", "⚖️",
            ("法律援助", "法律咨询", "维权", "维权服务", "legal advice")),
    Amenity("union_signup", "扫码入会", "Union sign-up", "📝",
            ("入会", "工会入会", "建会入会", "union membership", "join the union")),
    Amenity("wifi", "无线网络", "Wi-Fi", "📶", ("wifi", "wi-fi", "无线网", "网络", "wlan")),
)

AMENITY_BY_CODE: Final[dict[str, Amenity]] = {a.code: a for a in AMENITIES}
AMENITY_CODES: Final[tuple[str, ...]] = tuple(a.code for a in AMENITIES)
AMENITY_COLUMNS: Final[tuple[str, ...]] = tuple(a.column for a in AMENITIES)


_FULL_WIDTH: Final[dict[int, int]] = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def normalise_label(text: str) -> str:
    """Fold case, full-width forms and inner spaces so that labels compare as people mean them."""
    return " ".join(text.translate(_FULL_WIDTH).strip().lower().replace("_", " ").split())


def _label_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for amenity in AMENITIES:
        for label in (amenity.code, amenity.label_zh, amenity.label_en, *amenity.aliases):
            index[normalise_label(label)] = amenity.code
    return index


AMENITY_LABEL_INDEX: Final[dict[str, str]] = _label_index()


# Text fields of a station, in the order they are written to the GeoPackage.
TEXT_FIELDS: Final[tuple[str, ...]] = (
    "id",
    "name",
    "name_en",
    "address",
    "province",
    "city",
    "district",
    "division_code",
    "operator",
    "phone",
    "opening_hours",
    "opening_hours_text",
    "status",
    "source",
    "updated_at",
)
REQUIRED_FIELDS: Final[tuple[str, ...]] = ("id", "name", "address", "city")
FIELD_LABELS_ZH: Final[dict[str, str]] = {
    "id": "编号",
    "name": "名称",
    "name_en": "英文名称",
    "address": "地址",
    "province": "省份",
    "city": "城市",
    "district": "区县",
    "division_code": "行政区划代码",
    "operator": "运营工会",
    "phone": "联系电话",
    "opening_hours": "开放时间",
    "opening_hours_text": "开放时间原文",
    "status": "状态",
    "source": "来源",
    "updated_at": "更新时间",
}

# Where the project keeps its data, relative to the working directory (the repository root).
DEFAULT_GEOPACKAGE: Final = "geodata/stations.gpkg"
DEFAULT_MANIFEST: Final = "geodata/sources/sources.toml"
DEFAULT_MAPS_DIR: Final = "maps"
