"""Positions as office staff paste them into a sheet.

Besides a plain number in a 经度 and a 纬度 column, sheets hold both numbers in one cell
(``108.36,22.81``, in either order), degrees-minutes-seconds (``108°21'36"E``, ``北纬22度48分``),
the output of the Amap or Baidu coordinate picker, or a whole share link.  A link says which map
made it, and so which coordinate system its numbers are in: that system wins over the one the
source declares, and the report says so.

In China longitudes (72–138) and latitudes (0.8–56) do not overlap, so two numbers are put in
order by their size; the caller's range checks still catch anything outside China.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from ..crs import CoordinateSystem

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_DMS = re.compile(
    rf"(?P<pre>[NSEW东西南北]|东经|西经|南纬|北纬)?\s*(?P<deg>{_NUMBER})\s*(?:°|度)\s*"
    rf"(?:(?P<min>{_NUMBER})\s*(?:['′’]|分)\s*)?"
    rf"(?:(?P<sec>{_NUMBER})\s*(?:[\"″”]|''|秒)\s*)?(?P<post>[NSEW东西南北])?",
    re.IGNORECASE,
)
_PLAIN = re.compile(_NUMBER)
_URL = re.compile(r"https?://\S+|\b[\w.-]+\.(?:amap|gaode|baidu|qq)\.com/\S*", re.IGNORECASE)
# Characters that full-width input methods type for digits and separators.
_FOLD = str.maketrans("０１２３４５６７８９．－＋，；：　", "0123456789.-+,;: ")
_LON_RANGE = (72.0, 138.0)
_LAT_RANGE = (0.8, 56.0)

# Map services by host, and the coordinate system their links use unless they say otherwise.
_SERVICES = {"amap": ("高德", "Amap", CoordinateSystem.GCJ02),
             "gaode": ("高德", "Amap", CoordinateSystem.GCJ02),
             "autonavi": ("高德", "Amap", CoordinateSystem.GCJ02),
             "baidu": ("百度", "Baidu", CoordinateSystem.BD09),
             "qq": ("腾讯", "Tencent", CoordinateSystem.GCJ02)}
# Query parameters that name the system of a link's numbers (Baidu's coord_type, Amap's
# coordinate).
_SYSTEM_PARAMS = ("coord_type", "coordinate", "coordtype", "src_coord")


@dataclass(frozen=True, slots=True)
class Position:
    """A parsed position; ``crs`` is set when the text names its own coordinate system."""

    lon: float
    lat: float
    crs: CoordinateSystem | None = None
    source_zh: str = ""
    source_en: str = ""


def fold_digits(text: str) -> str:
    """Full-width digits, signs and separators as ASCII."""
    return text.translate(_FOLD)


def parse_coordinate(text: str) -> float | None:
    """One coordinate: a decimal (full-width allowed) or degrees-minutes-seconds."""
    folded = fold_digits(text).strip()
    try:
        return float(folded)
    except ValueError:
        pass
    values = _angles(folded)
    return values[0] if len(values) == 1 else None


def parse_position(text: str) -> Position | None:
    """Both coordinates from one cell: a pair, DMS, picker output or a share link."""
    folded = fold_digits(text).strip()
    link = _URL.search(folded)
    if link:
        return _from_link(link.group())
    numbers = _angles(folded) or [float(n) for n in _PLAIN.findall(folded)]
    if len(numbers) != 2:
        return None
    lon, lat = in_order(*numbers)
    return Position(lon, lat)


def in_order(first: float, second: float) -> tuple[float, float]:
    """(lon, lat) from two numbers in either order, by the ranges they fall in in China."""
    if _inside(second, _LON_RANGE) and _inside(first, _LAT_RANGE) and not (
            _inside(first, _LON_RANGE) and _inside(second, _LAT_RANGE)):
        return second, first
    return first, second


def _inside(value: float, limits: tuple[float, float]) -> bool:
    return limits[0] <= value <= limits[1]


def _angles(text: str) -> list[float]:
    """Every degrees(-minutes-seconds) angle in ``text``, signed by its hemisphere."""
    values = []
    for match in _DMS.finditer(text):
        value = float(match["deg"])
        value += float(match["min"] or 0) / 60 + float(match["sec"] or 0) / 3600
        hemisphere = (match["pre"] or match["post"] or "").upper()
        if hemisphere[:1] in ("S", "W", "南", "西"):
            value = -value
        values.append(value)
    return values


def _from_link(url: str) -> Position | None:
    """A share link: the service is told by its host, the numbers by its query."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    service = next((s for key, s in _SERVICES.items() if key in host.split(".")), None)
    params = {k.lower(): v for k, v in parse_qsl(parts.query + "&" + parts.fragment)}
    numbers: list[float] = []
    if "lng" in params and "lat" in params:
        numbers = [float(n) for n in _PLAIN.findall(params["lng"] + " " + params["lat"])]
    if len(numbers) != 2:
        for value in params.values():
            numbers = [float(n) for n in _PLAIN.findall(value)
                       if "." in n][:2]  # coordinates have decimals; zoom levels and ids don't
            if len(numbers) == 2:
                break
    if len(numbers) != 2:
        return None
    lon, lat = in_order(*numbers)
    if service is None:
        return Position(lon, lat)
    zh, en, crs = service
    named = next((params[p] for p in _SYSTEM_PARAMS if p in params), "")
    if named:
        with contextlib.suppress(ValueError):
            crs = CoordinateSystem.parse(named.removesuffix("ll").removesuffix("mc"))
    return Position(lon, lat, crs, f"{zh}链接", f"{en} link")
