"""One station as a plain record, its checks, and the content digests behind ``data_version``.

A record is a dict with every text field of :data:`stations.model.TEXT_FIELDS` (strings),
``amenities`` (codes in vocabulary order) and ``lon``/``lat`` (WGS84 degrees).  Both stores
hold the same records, so they must agree on what a record's content is: each station gets a
digest of its canonical content, and the store's ``data_version`` is the XOR of the first
64 bits of every digest.  Equal data therefore gives an equal ``data_version`` in the
GeoPackage and in PostGIS, whatever order rows were written in, so ETags agree across
replicas; and one changed station changes the version in O(1), XOR-ing its old digest out
and its new one in.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Final

import orjson

from ..errors import InvalidInput
from ..hours import parse_hours
from ..model import AMENITIES, AMENITY_CODES, REQUIRED_FIELDS, TEXT_FIELDS, Status
from ..service import amenity_codes, check_point

Record = dict[str, object]

MAX_ID_CHARS: Final = 64
MAX_TEXT_CHARS: Final = 500
RECORD_FIELDS: Final[tuple[str, ...]] = (*TEXT_FIELDS, "amenities", "lon", "lat")
EMPTY_VERSION: Final = "0" * 16


def normalise(raw: Mapping[str, object], base: Mapping[str, object] | None = None) -> Record:
    """A checked, canonical record: ``raw`` laid over ``base`` (a merge patch when given).

    Raises :class:`InvalidInput` naming the first bad field; nothing is half-applied.
    """
    unknown = [key for key in raw if key not in RECORD_FIELDS]
    if unknown:
        raise InvalidInput(str(unknown[0]), "is not a station field; allowed: "
                           + ", ".join(RECORD_FIELDS), "extra_forbidden", unknown[0])
    merged = {**(base or {}), **raw}
    record: Record = {}
    for field in TEXT_FIELDS:
        record[field] = _text(field, merged.get(field, ""))
    for field in REQUIRED_FIELDS:
        if not record[field]:
            raise InvalidInput(field, "is required and must not be empty", "missing", "")
    _check_id(str(record["id"]))
    status = record["status"] or Status.OPEN.value
    if status not in set(Status):
        raise InvalidInput("status", "must be one of " + ", ".join(Status), "enum", status)
    record["status"] = str(status)
    hours = str(record["opening_hours"])
    if hours and parse_hours(hours) is None:
        raise InvalidInput("opening_hours", "is not a valid OSM opening_hours expression, "
                           "e.g. Mo-Fr 08:00-18:00", "value_error", hours)
    amenities = merged.get("amenities", [])
    if not isinstance(amenities, list | tuple) or not all(isinstance(a, str) for a in amenities):
        raise InvalidInput("amenities", "must be a list of amenity codes", "list_type",
                           str(amenities))
    chosen = set(amenity_codes(amenities, "amenities"))
    record["amenities"] = [code for code in AMENITY_CODES if code in chosen]
    record["lon"], record["lat"] = _coordinate("lon", merged.get("lon")), \
        _coordinate("lat", merged.get("lat"))
    check_point(float(record["lon"]), float(record["lat"]))  # type: ignore[arg-type]
    return record


def _text(field: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, "must be text", "string_type", str(value))
    text = unicodedata.normalize("NFC", value).strip()
    limit = MAX_ID_CHARS if field == "id" else MAX_TEXT_CHARS
    if len(text) > limit:
        raise InvalidInput(field, f"at most {limit} characters, got {len(text)}",
                           "string_too_long", text[:40])
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidInput(field, "must not contain control characters", "value_error",
                           text[:40])
    return text


def _check_id(station_id: str) -> None:
    if any(ch.isspace() or ch in "/?#%\\" for ch in station_id):
        raise InvalidInput("id", "must not contain spaces or any of / ? # % \\", "value_error",
                           station_id)


def _coordinate(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(field, "is required and must be a number (WGS84 degrees)",
                           "float_type", None if value is None else str(value))
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInput(field, "must be a finite number", "finite_number", str(value))
    return number


def amenity_bits(record: Mapping[str, object]) -> int:
    """The amenities of a record as bits in vocabulary order (as the index keeps them)."""
    chosen = set(record["amenities"])  # type: ignore[call-overload]
    return sum(1 << position for position, a in enumerate(AMENITIES) if a.code in chosen)


def digest(record: Mapping[str, object]) -> str:
    """Hex SHA-256 of a record's canonical content (coordinates to 7 decimals, about 1 cm)."""
    return content_digest([str(record[field]) for field in TEXT_FIELDS], amenity_bits(record),
                          float(record["lon"]), float(record["lat"]))  # type: ignore[arg-type]


def content_digest(texts: list[str], bits: int, lon: float, lat: float) -> str:
    """:func:`digest` from the parts as a reader of a file has them: the text fields in
    schema order, the amenity bits and the position (the API's loader uses this)."""
    return hashlib.sha256(orjson.dumps([*texts, bits, f"{lon:.7f},{lat:.7f}"])).hexdigest()


def digest_bits(station_digest: str) -> int:
    """The 64 bits of a digest that take part in ``data_version``."""
    return int(station_digest[:16], 16)


def version_of(bits: int) -> str:
    return f"{bits & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def data_version(digests: Iterable[str]) -> str:
    """``data_version`` of a set of stations from their digests (order does not matter)."""
    combined = 0
    for station_digest in digests:
        combined ^= digest_bits(station_digest)
    return version_of(combined)


def properties_json(record: Mapping[str, object]) -> bytes:
    """The record's text fields as one JSON object, in schema order, as the API serves them."""
    return orjson.dumps({field: record[field] for field in TEXT_FIELDS})
