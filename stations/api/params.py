"""Turn query strings and JSON bodies into typed query options, naming any bad parameter.

The nearest-station endpoints parse their own parameters instead of going through FastAPI's
validation, which costs more than the query itself; the parameters are still described in the
OpenAPI document (:func:`nearest_parameters`), and errors keep FastAPI's shape.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from ..crs import CoordinateSystem
from ..errors import InvalidInput, UnknownCoordinateSystem
from ..hours import OPEN_STATES, parse_moment
from ..model import AMENITY_CODES
from ..service import (
    MAX_K,
    MAX_RADIUS_M,
    PROFILE_NAMES,
    DistanceBasis,
    NearestOptions,
    check_point,
)

NEAREST_OPTION_NAMES = ("k", "radius_m", "amenity", "open_now", "open_state", "at", "city",
                        "crs", "by", "profile", "geometry")
NEAREST_QUERY_NAMES = ("lon", "lat", *NEAREST_OPTION_NAMES)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def query_pairs(raw: bytes) -> list[tuple[str, str]]:
    """Decode a raw query string (percent-encoded or raw UTF-8) into name/value pairs."""
    text = raw.decode("utf-8", "replace")
    if "%" in text or "+" in text or ";" in text:
        return parse_qsl(text, keep_blank_values=True)
    # Nothing to unquote, as in the plain lon/lat/k queries apps send most: split directly.
    return [(name, value) for name, _, value in (p.partition("=") for p in text.split("&") if p)]


def parse_float(name: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(name, "Input should be a valid number", "float_parsing",
                           value) from None
    if not math.isfinite(number) or isinstance(value, bool):
        raise InvalidInput(name, "Input should be a finite number", "finite_number", value)
    return number


def parse_int(name: str, value: object) -> int:
    if isinstance(value, bool):
        raise InvalidInput(name, "Input should be a valid integer", "int_type", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():  # JSON Schema counts 5.0 as an integer
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidInput(name, "Input should be a valid integer", "int_parsing",
                           value) from None


def parse_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise InvalidInput(name, "Input should be a valid boolean (true or false)", "bool_parsing",
                       value)


def parse_crs(value: object) -> CoordinateSystem:
    try:
        return CoordinateSystem.parse(str(value))
    except UnknownCoordinateSystem as exc:
        raise InvalidInput("crs", f"{exc}", "enum", value) from None


def parse_choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidInput(name, "must be one of: " + ", ".join(allowed), "enum", value)
    return str(value)


def split_list(pairs: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Every value of a repeatable, comma-separated query parameter (``amenity=a,b&amenity=c``)."""
    return [part.strip() for key, value in pairs if key == name
            for part in value.split(",") if part.strip()]


def string_list(name: str, value: object, what: str) -> list[str]:
    """A JSON body member that lists strings (``what`` names them in the error)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(name, f"must be a list of {what}", "list_type", None)
    return value


def options_from(values: Mapping[str, Any], amenities: Iterable[str],
                 open_states: Iterable[str] = ()) -> NearestOptions:
    """NearestOptions from already-split values (query string or JSON body)."""
    k = parse_int("k", values.get("k", 5))
    radius = values.get("radius_m")
    radius_m = None if radius in (None, "") else parse_float("radius_m", radius)
    at = values.get("at")
    city = values.get("city")
    if city is not None and not isinstance(city, str):
        raise InvalidInput("city", "Input should be a valid string", "string_type", city)
    return NearestOptions(
        k=k,
        radius_m=radius_m,
        amenities=tuple(amenities),
        open_now=parse_bool("open_now", values.get("open_now", False)),
        open_state=tuple(open_states),
        at=None if at in (None, "") else parse_moment(str(at)),
        city=city or None,
        crs=parse_crs(values.get("crs", "wgs84")),
        by=DistanceBasis(parse_choice("by", values.get("by") or "straight",
                                      tuple(b.value for b in DistanceBasis))),
        profile=None if values.get("profile") in (None, "") else parse_choice(
            "profile", values["profile"], PROFILE_NAMES),
        route=values.get("geometry") not in (None, "") and parse_choice(
            "geometry", values["geometry"], ("route",)) == "route",
    )


def reject_unknown(names: Iterable[str], allowed: tuple[str, ...], location: str = "") -> None:
    for name in names:
        if name not in allowed:
            raise InvalidInput(f"{location}{name}", "unknown parameter; allowed: "
                               + ", ".join(allowed), "extra_forbidden", name)


def parse_nearest_query(pairs: list[tuple[str, str]]) -> tuple[float, float, NearestOptions]:
    """lon, lat and options from GET /nearest query pairs."""
    reject_unknown((name for name, _ in pairs), NEAREST_QUERY_NAMES)
    single = dict(pairs)  # the last value wins for parameters given twice
    for name in ("lon", "lat"):
        if single.get(name, "") == "":
            raise InvalidInput(name, "Field required", "missing", None)
    lon, lat = parse_float("lon", single["lon"]), parse_float("lat", single["lat"])
    check_point(lon, lat)
    option_pairs = tuple(p for p in pairs if p[0] not in ("lon", "lat"))
    if sum(len(value) + 1 for _, value in option_pairs) <= CACHED_OPTIONS_MAX_CHARS:
        return lon, lat, _cached_nearest_options(option_pairs)
    return lon, lat, _nearest_options(option_pairs)


def _nearest_options(option_pairs: tuple[tuple[str, str], ...]) -> NearestOptions:
    """Options from the query pairs besides the point."""
    return options_from(dict(option_pairs), split_list(option_pairs, "amenity"),
                        split_list(option_pairs, "open_state"))


# Apps send the same few option sets again and again, so each is parsed once; refused ones are
# not kept, and long ones (a city name of a megabyte) are not kept either.
CACHED_OPTIONS_MAX_CHARS = 256
_cached_nearest_options = lru_cache(maxsize=1024)(_nearest_options)


def _query_parameter(name: str, schema: dict[str, object], description: str,
                     required: bool = False, **extra: object) -> dict[str, object]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description, **extra}


def nearest_parameters() -> list[dict[str, object]]:
    """OpenAPI parameter objects for GET /nearest."""
    return [
        _query_parameter("lon", {"type": "number", "minimum": -180, "maximum": 180},
                         "Longitude of the rider, in `crs`", required=True),
        _query_parameter("lat", {"type": "number", "minimum": -90, "maximum": 90},
                         "Latitude of the rider, in `crs`", required=True),
        _query_parameter("k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5},
                         "How many stations, nearest first"),
        _query_parameter("radius_m",
                         {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_M},
                         "Only stations within this many metres (great-circle); may return "
                         "fewer than k"),
        _query_parameter("amenity", {"type": "array",
                                     "items": {"type": "string", "enum": list(AMENITY_CODES)}},
                         "Required amenities, all of them (repeat the parameter); Chinese "
                         "labels such as 微波炉 are accepted too", explode=True),
        _query_parameter("open_now", {"type": "boolean", "default": False},
                         "Only stations known to be open (status and opening_hours) at "
                         "Asia/Shanghai time, or at `at`: the same as `open_state=open`"),
        _query_parameter("open_state", {"type": "array", "items": {
                             "type": "string", "enum": list(OPEN_STATES)}},
                         "Only stations in these open states, comma-separated: `open`, "
                         "`closed` (status closed or temporarily closed, or outside their "
                         "hours), `unknown` (no recorded hours). Riders' default is "
                         "`open,unknown`", style="form", explode=False),
        _query_parameter("at", {"type": "string", "format": "date-time"},
                         "Moment for `open_now`, `open_state` and their properties; without an "
                         "offset it is Asia/Shanghai time. Default: now"),
        _query_parameter("city", {"type": "string"}, "Only stations in this city, e.g. 南宁市"),
        _query_parameter("crs", {"type": "string", "enum": [c.value for c in CoordinateSystem],
                                 "default": "wgs84"},
                         "Coordinate system of the query point and of the returned "
                         "coordinates: wgs84 (GPS, OsmAnd, QGIS), gcj02 (Amap/高德, Tencent), "
                         "bd09 (Baidu)"),
        _query_parameter("by", {"type": "string", "enum": [b.value for b in DistanceBasis],
                                "default": "straight"},
                         "Rank by great-circle distance (`straight`) or by the length of the "
                         "route on the road network (`road`, needs `stations serve --roads`; "
                         "422 without). Answers say which in `distance_basis`"),
        _query_parameter("profile", {"type": "string", "enum": list(PROFILE_NAMES)},
                         "With by=road: `ebike` (roads bicycles may ride, one-way streets "
                         "kept; the default) or `walk` (footways and paths too); "
                         "straight-line answers give both times and ignore it"),
        _query_parameter("geometry", {"type": "string", "enum": ["route"]},
                         "With by=road: add each station's route as a GeoJSON LineString "
                         "property `route` (ignored by straight-line answers)"),
    ]
