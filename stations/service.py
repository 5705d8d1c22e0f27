"""Station queries in plain Python: nearest, batch, one station, pages of stations.

The web API, the benchmarks and the tests all go through :class:`StationService`, which knows
nothing about HTTP.  Answers are GeoJSON bytes, ready to send.

Speed comes from doing the work once, at load time: each station's GeoJSON (every field and its
amenities with Chinese and English labels) is serialised when the GeoPackage is read; a query
only splices in what depends on the question: distance, bearing, travel times, open now and
coordinates in the caller's system.

Travel times are honest estimates from the straight-line (great-circle) distance, at
:data:`WALK_KMH` on foot and :data:`EBIKE_KMH` by e-bike, rounded up to whole minutes; real
routes along streets are longer.  With a road network (:mod:`stations.roads`) a query may ask
``by="road"``: stations are then ranked by the length of the route, and ``distance_m``, the
times and ``radius_m`` are along it; every answer says which in ``distance_basis``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import orjson

from .cities import unknown_city_message
from .compact import CompactIds, compact_rows
from .crs import CoordinateSystem, from_wgs84, to_wgs84
from .errors import InvalidInput, StationNotFound
from .gpkg_rows import StationChunk, check_stations, read_station_chunks
from .hours import (
    OPEN,
    OPEN_STATES,
    STATE_NAMES,
    Clock,
    HoursTable,
    china_minute,
    hours_for_riders,
)
from .index import Neighbours, StationIndex, StationSubset, haversine_m, initial_bearing_deg
from .model import (
    AMENITIES,
    AMENITY_CODES,
    AMENITY_LABEL_INDEX,
    TEXT_FIELDS,
    Status,
    normalise_label,
)

if TYPE_CHECKING:
    from .roads import StationRoads
    from .roads.nearest import RoadAnswer

log = logging.getLogger(__name__)

WALK_KMH = 4.5
EBIKE_KMH = 15.0
MAX_K = 100
MAX_RADIUS_M = 2_000_000.0
# Fields a page of stations can be filtered on by exact value (OGC API property filters).
FILTERABLE_FIELDS = ("province", "city", "district", "operator", "status")
CODED_FIELDS = ("opening_hours", *FILTERABLE_FIELDS)
# The text columns a StationChunk carries for the service (the recorded hours for riders' words).
CHUNK_TEXT_FIELDS = ("id", "opening_hours_text", *CODED_FIELDS)
# Filters keeping less than this share of stations get a tree of their own (see
# StationSubset); at most this many such trees are kept.
SUBSET_MAX_SHARE = 0.25
MAX_SUBSET_TREES = 16
# A batch answer is made and sent in parts of about this many answers (points × k): a GeoJSON
# answer is some 1.3 KB each, a compact one 25 bytes.
GEOJSON_PART_ANSWERS = 2_000
COMPACT_PART_ANSWERS = 50_000

_WALK_M_PER_MIN = WALK_KMH * 1000 / 60
_EBIKE_M_PER_MIN = EBIKE_KMH * 1000 / 60
# Both ways a feature says whether it is open: open_now (true/false/null) and open_state.
_STATE_JSON = {code: b'"open_now":%s,"open_state":"%s"' % (
    {"open": b"true", "closed": b"false", "unknown": b"null"}[name], name.encode())
    for code, name in STATE_NAMES.items()}
# Everything of a feature after its static properties, filled in per answer with % so that
# each feature costs one formatting call.  Coordinates get 7 decimals (about 1 cm).
_GEOMETRY = b'},"geometry":{"type":"Point","coordinates":[%.7f,%.7f]}}'
# By road, distance_m is the route's length; the great-circle distance is kept beside it.
_ROAD = b',"distance_basis":"road","road_distance_m":%.1f,"straight_distance_m":%.1f'
_NEAREST_TAIL = (b',"distance_m":%.1f,"bearing_deg":%.1f,"walk_min":%d,"ebike_min":%d,'
                 b'%s' + _GEOMETRY)


class DistanceBasis(StrEnum):
    """How distances are measured: great-circle, or along the roads of a loaded network."""

    STRAIGHT = "straight"
    ROAD = "road"


PROFILE_NAMES = ("ebike", "walk")


class BatchFormat(StrEnum):
    """What a batch answer holds per point: a FeatureCollection, or only station ids and
    metres, in one JSON document (``compact``) or one JSON line per point (``ndjson``)."""

    GEOJSON = "geojson"
    COMPACT = "compact"
    NDJSON = "ndjson"


# Per batch format: the answer's head, and what comes before and after each point's result.
_BATCH_FRAMING = {
    BatchFormat.GEOJSON: (b'{"results":[', b"", b""),
    BatchFormat.COMPACT: (b'{"format":"compact","results":[', b",", b""),
    BatchFormat.NDJSON: (b"", b"", b"\n"),
}


@dataclass(frozen=True, slots=True)
class NearestOptions:
    """What a rider or an app asks for beside the point itself.

    ``profile`` (``ebike`` by default) and ``route`` (the route's geometry) matter with
    ``by=road`` only: straight-line answers give both travel times and have no route.
    """

    k: int = 5
    radius_m: float | None = None
    amenities: tuple[str, ...] = ()
    open_now: bool = False
    open_state: tuple[str, ...] = ()
    at: dt.datetime | None = None
    city: str | None = None
    crs: CoordinateSystem = CoordinateSystem.WGS84
    by: DistanceBasis = DistanceBasis.STRAIGHT
    profile: str | None = None
    route: bool = False

    def __post_init__(self) -> None:
        if self.profile not in (None, *PROFILE_NAMES):
            raise InvalidInput("profile", "must be one of: " + ", ".join(PROFILE_NAMES),
                               "enum", self.profile)
        if not 1 <= self.k <= MAX_K:
            raise InvalidInput("k", f"must be between 1 and {MAX_K}",
                               "less_than_equal" if self.k > MAX_K else "greater_than_equal",
                               self.k)
        if self.radius_m is not None and not 0 < self.radius_m <= MAX_RADIUS_M:
            raise InvalidInput("radius_m", f"must be greater than 0 and at most {MAX_RADIUS_M:g}",
                               "value_error", self.radius_m)
        object.__setattr__(self, "amenities", amenity_codes(self.amenities))
        object.__setattr__(self, "open_state", open_state_names(self.open_state))

    def wanted_states(self) -> frozenset[int] | None:
        """The open states asked for (``open_now`` means ``open``), or None for all of them."""
        wanted = frozenset(OPEN_STATES[name] for name in self.open_state or OPEN_STATES)
        if self.open_now:
            wanted &= {OPEN}
        return None if len(wanted) == len(OPEN_STATES) else wanted


def amenity_codes(labels: Sequence[str], field_name: str = "amenity") -> tuple[str, ...]:
    """Amenity codes for codes or labels (``microwave``, ``微波炉``); unknown ones are refused."""
    codes: list[str] = []
    for label in labels:
        code = AMENITY_LABEL_INDEX.get(normalise_label(label))
        if code is None:
            raise InvalidInput(field_name, f"unknown amenity {label!r}; allowed: "
                               + ", ".join(AMENITY_CODES), "enum", label)
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def open_state_names(names: Sequence[str], field_name: str = "open_state") -> tuple[str, ...]:
    """Open states (``open``, ``closed``, ``unknown``) in a fixed order; others are refused."""
    for name in names:
        if name not in OPEN_STATES:
            raise InvalidInput(field_name, f"unknown open state {name!r}; allowed: "
                               + ", ".join(OPEN_STATES), "enum", name)
    return tuple(name for name in OPEN_STATES if name in names)


def check_point(lon: float, lat: float, where: str = "") -> None:
    """Refuse coordinates off the globe (and NaN), naming the field."""
    if not -180.0 <= lon <= 180.0:
        raise InvalidInput(f"{where}lon", "must be between -180 and 180", "value_error", lon)
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput(f"{where}lat", "must be between -90 and 90", "value_error", lat)


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """What changes when a GeoPackage is replaced: inode, size and modification time."""

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileIdentity | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return cls(stat.st_ino, stat.st_size, stat.st_mtime_ns)


class _Codes:
    """A text column as small integer codes, for fast equality filters and little memory."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}
        self._parts: list[npt.NDArray[np.int32]] = []

    def extend(self, values: Sequence[str]) -> None:
        code_of = self.code_of
        for value in dict.fromkeys(values):  # new distinct values only; the loop is short
            code_of.setdefault(value, len(code_of))
        self._parts.append(np.fromiter(map(code_of.__getitem__, values), dtype=np.int32,
                                       count=len(values)))

    @property
    def codes(self) -> npt.NDArray[np.int32]:
        return np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=np.int32)

    def freeze(self) -> tuple[dict[str, int], npt.NDArray[np.int32]]:
        return self.code_of, self.codes


@lru_cache(maxsize=4096)
def _hours_in_words(expression: str, recorded: str) -> bytes:
    """``"hours_zh":..,"hours_en":..,`` for one station's hours, so that apps show riders words
    (每天 05:00–23:00) and not OSM syntax."""
    return b'"hours_zh":%s,"hours_en":%s,' % (
        orjson.dumps(hours_for_riders(expression, recorded, "zh")),
        orjson.dumps(hours_for_riders(expression, recorded, "en")))


def _feature_head(id_json: bytes, properties_json: bytes, opening_hours: str,
                  opening_hours_text: str) -> bytes:
    """``{"type":"Feature","id":..,"properties":{..fields..,"hours_zh":..,"hours_en":..,``:
    a feature's fixed start, open for more members."""
    return b'{"type":"Feature","id":%s,"properties":%s,%s' % (
        id_json, properties_json[:-1], _hours_in_words(opening_hours, opening_hours_text))


@lru_cache(maxsize=1 << 14)
def _amenity_fragment(bits: int) -> bytes:
    """``"amenities":[...]`` for one combination of amenity bits (kept for the next load)."""
    chosen = [
        {"code": a.code, "label_zh": a.label_zh, "label_en": a.label_en, "icon": a.icon}
        for position, a in enumerate(AMENITIES) if bits >> position & 1
    ]
    return b'"amenities":' + orjson.dumps(chosen)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of stations: the features and how many matched in all."""

    features: list[bytes]
    number_matched: int


@dataclass(eq=False)
class StationService:
    """An immutable, query-ready snapshot of one GeoPackage."""

    data_version: str
    ids: list[str]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    amenity_bits: npt.NDArray[np.uint32]
    filter_codes: dict[str, tuple[dict[str, int], npt.NDArray[np.int32]]]
    hours: HoursTable
    heads: list[bytes]
    amenity_json: list[bytes]
    path: Path | None = None
    identity: FileIdentity | None = None
    clock: Clock = china_minute  # "now" for queries that name no moment
    roads: StationRoads | None = None  # prepared by LiveStations when a network is served
    position_of: dict[str, int] = field(init=False)
    index: StationIndex = field(init=False)

    def __post_init__(self) -> None:
        self.position_of = {station_id: i for i, station_id in enumerate(self.ids)}
        self.index = StationIndex(self.lon, self.lat)
        self._mask_cache: dict[tuple[object, ...], npt.NDArray[np.bool_]] = {}
        self._subsets: dict[tuple[object, ...], StationSubset | None] = {}

    # ----- loading -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str], clock: Clock = china_minute) -> StationService:
        """Read, check and index a station GeoPackage; raises DataFileError if it is unusable."""
        identity = FileIdentity.of(path)
        info, chunks = read_station_chunks(path, TEXT_FIELDS)
        content = _ContentVersion()
        service = cls.from_chunks(content.digesting(path, chunks), "", Path(path), identity,
                                  clock)
        check_stations(path, service.ids, service.lon, service.lat)  # ids across chunks
        # The version of what is served, not what build_info says: a file edited after its
        # build (positions patched, say) must not keep the old ETags.
        service.data_version = content.version()
        if service.data_version != info.get("data_version"):
            log.warning("%s: its content is not what its build wrote (data version %s, "
                        "build_info says %s); serving it as %s", path, service.data_version,
                        info.get("data_version"), service.data_version)
        return service

    @classmethod
    def from_chunks(cls, chunks: Iterable[StationChunk], data_version: str,
                    path: Path | None = None, identity: FileIdentity | None = None,
                    clock: Clock = china_minute) -> StationService:
        """Build from station chunks, serialising every station's GeoJSON once."""
        ids: list[str] = []
        heads: list[bytes] = []
        bits: list[int] = []
        lon: list[npt.NDArray[np.float64]] = []
        lat: list[npt.NDArray[np.float64]] = []
        # Repeated text (city, hours ...) is kept as integer codes, not 200,000 strings.
        coded = {name: _Codes() for name in CODED_FIELDS}
        for chunk in chunks:
            heads.extend(map(_feature_head, chunk.id_json, chunk.properties_json,
                             chunk.text["opening_hours"], chunk.text["opening_hours_text"]))
            ids.extend(chunk.text["id"])
            for name, codes in coded.items():
                codes.extend(chunk.text[name])
            bits.extend(chunk.amenity_bits)
            lon.append(chunk.lon)
            lat.append(chunk.lat)
        fragments = {b: _amenity_fragment(b) for b in set(bits)}
        status = coded["status"]  # also a filter of the OGC items endpoint
        hours = coded.pop("opening_hours")
        return cls(
            data_version=data_version,
            ids=ids,
            lon=np.concatenate(lon) if lon else np.zeros(0),
            lat=np.concatenate(lat) if lat else np.zeros(0),
            amenity_bits=np.asarray(bits, dtype=np.uint32),
            filter_codes={name: codes.freeze() for name, codes in coded.items()},
            hours=HoursTable(hours.codes, list(hours.code_of),
                             status.codes == status.code_of.get(Status.OPEN, -1)),
            heads=heads,
            amenity_json=[fragments[b] for b in bits],
            path=path,
            identity=identity,
            clock=clock,
        )

    def with_changes(self, chunk: StationChunk, data_version: str,
                     deleted: Sequence[str] = ()) -> StationService:
        """A new snapshot where the stations in ``chunk`` replace theirs or join at the end and
        the ``deleted`` ids are gone (the others keep their order).

        Built for a store's incremental refresh: arrays are copied and patched, everything
        else is shared, and the k-d tree is kept (see :meth:`StationIndex.updated`), so one
        edited, moved or deleted station costs milliseconds, not a full load.
        """
        base, new_row = self._without(deleted) if deleted else (self, None)
        changed_ids = list(chunk.text["id"])
        added = [i for i in dict.fromkeys(changed_ids) if i not in base.position_of]
        position_of = base.position_of
        if added:
            position_of = {**position_of, **{i: base.count + k for k, i in enumerate(added)}}
        rows = np.fromiter((position_of[i] for i in changed_ids), dtype=np.intp,
                           count=len(changed_ids))

        def patched(array: npt.NDArray[Any], values: npt.ArrayLike) -> npt.NDArray[Any]:
            grown = np.concatenate([array, np.zeros(len(added), dtype=array.dtype)])
            grown[rows] = values
            return grown

        lon, lat = patched(base.lon, chunk.lon), patched(base.lat, chunk.lat)
        was_lon, was_lat = np.full(rows.size, np.nan), np.full(rows.size, np.nan)
        existing = rows < base.count  # joining stations were nowhere (NaN): they "moved"
        was_lon[existing], was_lat[existing] = base.lon[rows[existing]], base.lat[rows[existing]]
        moved = rows[(lon[rows] != was_lon) | (lat[rows] != was_lat)]
        padding = [b""] * len(added)
        heads, amenity_json = base.heads + padding, base.amenity_json + padding
        for row, station_id, props, hours, recorded, bits in zip(
                rows.tolist(), chunk.id_json, chunk.properties_json, chunk.text["opening_hours"],
                chunk.text["opening_hours_text"], chunk.amenity_bits, strict=True):
            heads[row] = _feature_head(station_id, props, hours, recorded)
            amenity_json[row] = _amenity_fragment(bits)
        filter_codes = {}
        for name, (code_of, codes) in base.filter_codes.items():
            new_code_of = dict(code_of)
            filter_codes[name] = (new_code_of, patched(codes, [
                new_code_of.setdefault(value, len(new_code_of)) for value in chunk.text[name]]))
        fresh = copy.copy(base)
        fresh.__dict__.pop("extent", None)
        fresh.__dict__.pop("compact_ids", None)
        fresh.__dict__.pop("id_order", None)
        fresh.data_version, fresh.ids = data_version, base.ids + added if added else base.ids
        fresh.lon, fresh.lat = lon, lat
        fresh.amenity_bits = patched(base.amenity_bits, chunk.amenity_bits)
        fresh.filter_codes, fresh.heads, fresh.amenity_json = filter_codes, heads, amenity_json
        fresh.hours = base.hours.with_rows(rows.tolist(), chunk.text["opening_hours"],
                                           [s == Status.OPEN for s in chunk.text["status"]])
        fresh.position_of = position_of
        fresh.index = self.index.updated(lon, lat, moved, new_row) \
            if moved.size or new_row is not None else self.index
        fresh._mask_cache, fresh._subsets = {}, {}
        return fresh

    def _without(self, deleted: Sequence[str]) -> tuple[StationService, npt.NDArray[np.int64]]:
        """This snapshot's columns without the ``deleted`` stations (its index untouched), and
        each old row's new row (-1 for a deleted one)."""
        gone = sorted({self.position_of[i] for i in deleted if i in self.position_of},
                      reverse=True)
        keep = np.ones(self.count, dtype=bool)
        keep[gone] = False
        ids, heads, amenity_json = list(self.ids), list(self.heads), list(self.amenity_json)
        for row in gone:
            del ids[row], heads[row], amenity_json[row]
        smaller = copy.copy(self)
        smaller.ids, smaller.heads, smaller.amenity_json = ids, heads, amenity_json
        smaller.position_of = dict(zip(ids, range(len(ids)), strict=True))
        smaller.lon, smaller.lat = self.lon[keep], self.lat[keep]
        smaller.amenity_bits = self.amenity_bits[keep]
        smaller.filter_codes = {name: (code_of, codes[keep])
                                for name, (code_of, codes) in self.filter_codes.items()}
        smaller.hours = self.hours.taken(keep)
        return smaller, np.where(keep, np.cumsum(keep) - 1, -1)

    @property
    def count(self) -> int:
        return len(self.ids)

    def moment(self, options: NearestOptions) -> dt.datetime:
        """The moment a query asks about: its own ``at``, else now by the service's clock."""
        return options.at if options.at is not None else self.clock()

    # ----- masks ---------------------------------------------------------------------------

    def _mask(self, amenities: Sequence[str], filters: Mapping[str, str],
              states: frozenset[int] | None, at: dt.datetime | None
              ) -> npt.NDArray[np.bool_] | None:
        """Stations passing every filter, or None when there is no filter; cached per filter.

        ``states`` are the open states kept at ``at`` (a minute), None for all."""
        key = (tuple(amenities), tuple(sorted(filters.items())), states,
               at if states is not None else None)
        cached = self._mask_cache.get(key)
        if cached is not None:
            return cached
        mask: npt.NDArray[np.bool_] | None = None

        def narrow(selection: npt.NDArray[np.bool_]) -> None:
            nonlocal mask
            mask = selection if mask is None else mask & selection

        if amenities:
            required = np.uint32(sum(1 << AMENITY_CODES.index(c) for c in amenities))
            narrow((self.amenity_bits & required) == required)
        for name, value in filters.items():
            code_of, codes = self.filter_codes[name]
            narrow(codes == code_of.get(value, -1))
        if states is not None:
            narrow(self.hours.state_mask(states, at))
        if len(self._mask_cache) > 256:
            self._mask_cache.clear()
        self._mask_cache[key] = mask  # type: ignore[assignment]
        return mask

    def _filter_mask(self, options: NearestOptions
                     ) -> tuple[npt.NDArray[np.bool_] | None, tuple[object, ...]]:
        """The stations a query's filters keep (None: all), and a key naming the filter."""
        states = options.wanted_states()
        if not (options.amenities or options.city or states is not None):
            return None, ()
        if options.city and options.city not in self.filter_codes["city"][0]:
            hint = unknown_city_message(options.city, self.filter_codes["city"][0])
            if hint:  # 南宁 for 南宁市; a city with no station and no near namesake gets []
                raise InvalidInput("city", hint, "enum", options.city)
        filters = {"city": options.city} if options.city else {}
        open_at = china_minute(self.moment(options)) if states is not None else None
        return (self._mask(options.amenities, filters, states, open_at),
                (options.amenities, options.city, states, open_at))

    def _searcher(self, options: NearestOptions
                  ) -> tuple[StationSubset | None, npt.NDArray[np.bool_] | None]:
        """A subset tree for filters that keep a minority of stations, else the filter mask."""
        mask, key = self._filter_mask(options)
        if mask is None:
            return None, None
        if key not in self._subsets:
            if len(self._subsets) >= MAX_SUBSET_TREES:
                self._subsets.clear()
            small = np.count_nonzero(mask) < SUBSET_MAX_SHARE * self.count
            self._subsets[key] = StationSubset(self.index, mask) if small else None
        return self._subsets[key], mask

    def _nearest_rows(self, lon: float, lat: float, options: NearestOptions
                      ) -> tuple[list[int], list[float]]:
        subset, mask = self._searcher(options)
        if subset is not None:
            return subset.nearest(lon, lat, options.k, options.radius_m)
        return self.index.nearest(lon, lat, options.k, options.radius_m, mask)

    def _nearest_rows_batch(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64],
                            options: NearestOptions) -> Neighbours:
        subset, mask = self._searcher(options)
        if subset is not None:
            return subset.nearest_batch(lon, lat, options.k, options.radius_m)
        return self.index.nearest_batch(lon, lat, options.k, options.radius_m, mask)

    # ----- features ------------------------------------------------------------------------

    @staticmethod
    def _geometry(lon: float, lat: float) -> bytes:
        """Closes the properties, adds the point and closes the feature."""
        return _GEOMETRY % (lon, lat)

    def _output_coordinates(self, rows: npt.ArrayLike, crs: CoordinateSystem
                            ) -> tuple[list[float], list[float]]:
        lon, lat = self.lon[rows], self.lat[rows]
        if crs is not CoordinateSystem.WGS84:
            lon, lat = from_wgs84(lon, lat, crs)
        return np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist()

    def _nearest_features(self, lon: float, lat: float, rows: list[int], metres: list[float],
                          crs: CoordinateSystem, states: npt.NDArray[np.int8],
                          road: RoadAnswer | None = None) -> list[bytes]:
        """Features ``metres`` away; with ``road``, its rows, road metres and routes."""
        if road is not None:
            rows, metres = road.rows, road.metres
        if not rows:
            return []
        station_lon, station_lat = self.lon[rows].tolist(), self.lat[rows].tolist()
        out_lon, out_lat = (station_lon, station_lat) if crs is CoordinateSystem.WGS84 \
            else self._output_coordinates(rows, crs)
        heads, amenity_json, state_json = self.heads, self.amenity_json, _STATE_JSON
        extras = [b""] * len(rows) if road is None else \
            self._road_members(lon, lat, rows, road, crs)
        return [
            b"".join((heads[row], amenity_json[row], extra, _NEAREST_TAIL % (
                distance, initial_bearing_deg(lon, lat, s_lon, s_lat),
                math.ceil(distance / _WALK_M_PER_MIN), math.ceil(distance / _EBIKE_M_PER_MIN),
                state_json[states[row]], x, y)))
            for row, distance, extra, s_lon, s_lat, x, y in zip(
                rows, metres, extras, station_lon, station_lat, out_lon, out_lat, strict=True)
        ]

    def _road_members(self, lon: float, lat: float, rows: list[int], road: RoadAnswer,
                      crs: CoordinateSystem) -> list[bytes]:
        """``distance_basis``, road and great-circle metres, and the route when asked for."""
        straight = haversine_m(lon, lat, self.lon[rows], self.lat[rows]).tolist()
        members = [_ROAD % pair for pair in zip(road.metres, straight, strict=True)]
        if road.routes is not None:
            members = [m + _route_json(r, crs) for m, r in zip(members, road.routes, strict=True)]
        return members

    def _road_answers(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64],
                      options: NearestOptions) -> list[RoadAnswer | None]:
        """Exact k-nearest by road for WGS84 points (None: no road near the point, the answer
        is then by straight line); InvalidInput naming ``by`` without a road network."""
        if self.roads is None:
            raise InvalidInput("by", "road distances need a road network: start the server "
                               "with --roads FILE (an OpenStreetMap .osm.pbf extract)",
                               "value_error", DistanceBasis.ROAD.value)
        return self.roads.nearest_many(lon, lat, options.k, options.profile or "ebike",
                                       self._filter_mask(options)[0], options.radius_m,
                                       options.route)

    def answer_version(self, by: DistanceBasis) -> str:
        """What answers measured ``by`` depend on: the stations, and for road answers also the
        road network (a restart on another extract changes the routes, not the stations)."""
        if by is DistanceBasis.ROAD and self.roads is not None:
            return f"{self.data_version}-{self.roads.network.version}"
        return self.data_version

    def road_report(self) -> dict[str, object] | None:
        """The road network in use and the stations it leaves out (too far from any road)."""
        if self.roads is None:
            return None
        off_road = {profile: [{"id": self.ids[row], "road_m": metres} for row, metres in rows]
                    for profile, rows in self.roads.off_road_report().items()}
        return {"file": str(self.roads.network.path), "bounds": self.roads.network.bounds,
                "version": self.roads.network.version, "stations_off_road": off_road}

    def _plain_feature(self, row: int, x: float, y: float, state: int, extra: bytes = b""
                       ) -> bytes:
        return (self.heads[row] + self.amenity_json[row] + b"," + _STATE_JSON[state]
                + self._geometry(x, y)[:-1] + extra + b"}")

    # ----- queries -------------------------------------------------------------------------

    def find_nearest(self, lon: float, lat: float,
                     options: NearestOptions = NearestOptions()) -> bytes:
        """The k nearest stations as a GeoJSON FeatureCollection, nearest first.

        When ``radius_m`` leaves nothing, ``nearestBeyondReach`` is the nearest station passing
        the other filters, so that a rider is told how far the nearest one is."""
        check_point(lon, lat)
        wgs_lon, wgs_lat = self._query_point(lon, lat, options.crs)
        states = self.hours.states(self.moment(options))
        if options.by is DistanceBasis.ROAD:
            (road,) = self._road_answers(np.array([wgs_lon]), np.array([wgs_lat]), options)
            if road is not None:
                return self._road_collection(wgs_lon, wgs_lat, road, options, states,
                                             b',"crs":"%s"' % options.crs.value.encode())
        rows, metres = self._nearest_rows(wgs_lon, wgs_lat, options)
        features = self._nearest_features(wgs_lon, wgs_lat, rows, metres, options.crs, states)
        extra = b""
        if not rows and options.radius_m is not None:
            beyond = self._nearest_rows(wgs_lon, wgs_lat, _beyond_reach(options))
            extra = _beyond_member(self._nearest_features(wgs_lon, wgs_lat, *beyond,
                                                          options.crs, states))
        return feature_collection(features, b',"crs":"%s"' % options.crs.value.encode()
                                  + _STRAIGHT + extra)

    def _road_collection(self, lon: float, lat: float, road: RoadAnswer,
                         options: NearestOptions, states: npt.NDArray[np.int8],
                         members: bytes = b"") -> bytes:
        """A FeatureCollection ranked by road, with the nearest beyond reach when empty."""
        features = self._nearest_features(lon, lat, [], [], options.crs, states, road)
        if not features and options.radius_m is not None:
            (further,) = self._road_answers(np.array([lon]), np.array([lat]),
                                            _beyond_reach(options))
            if further is not None:
                members += _beyond_member(self._nearest_features(lon, lat, [], [], options.crs,
                                                                 states, further))
        return feature_collection(features, members + _BY_ROAD)

    def find_nearest_batch(self, lon: npt.ArrayLike, lat: npt.ArrayLike,
                           options: NearestOptions = NearestOptions(),
                           answer_format: BatchFormat = BatchFormat.GEOJSON) -> bytes:
        """One FeatureCollection per point, in order, inside ``{"results": [...]}``; or, in
        the compact formats, per point only station ids and metres (see :mod:`stations.compact`)."""
        return b"".join(self.nearest_batch_parts(lon, lat, options, answer_format))

    def nearest_batch_parts(self, lon: npt.ArrayLike, lat: npt.ArrayLike,
                            options: NearestOptions = NearestOptions(),
                            answer_format: BatchFormat = BatchFormat.GEOJSON) -> Iterator[bytes]:
        """:meth:`find_nearest_batch` in parts of bounded size, so that a large answer is
        never held whole.  The points are checked here, before the first part is made."""
        lon_arr = np.asarray(lon, dtype=np.float64).reshape(-1)
        lat_arr = np.asarray(lat, dtype=np.float64).reshape(-1)
        bad = np.flatnonzero(~((np.abs(lon_arr) <= 180) & (np.abs(lat_arr) <= 90)))
        if bad.size:
            first = int(bad[0])
            check_point(float(lon_arr[first]), float(lat_arr[first]), f"points.{first}.")
        if options.crs is not CoordinateSystem.WGS84:
            lon_arr, lat_arr = to_wgs84(lon_arr, lat_arr, options.crs)
        return self._batch_parts(lon_arr, lat_arr, options, answer_format)

    def _batch_parts(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64],
                     options: NearestOptions, answer_format: BatchFormat) -> Iterator[bytes]:
        geojson = answer_format is BatchFormat.GEOJSON
        per_part = max(1, (GEOJSON_PART_ANSWERS if geojson else COMPACT_PART_ANSWERS)
                       // options.k)
        states = self.hours.states(self.moment(options))
        head, before, after = _BATCH_FRAMING[answer_format]
        if not lon.size and head:
            yield head
        for start in range(0, lon.size, per_part):
            part = slice(start, start + per_part)
            if geojson:
                body = b",".join(self._geojson_results(lon[part], lat[part], options, states))
                rows = body if start == 0 else b"," + body
            else:
                found = self._nearest_rows_batch(lon[part], lat[part], options)
                rows = compact_rows(self.compact_ids, found.index, found.distance_m, before,
                                    after)
                rows = rows[len(before):] if start == 0 else rows
            # The first part carries the head: a caller that takes it before answering has
            # met any error the request can raise.
            yield head + rows if start == 0 else rows
        if answer_format is not BatchFormat.NDJSON:
            yield (b'],"numberOfPoints":%d,"k":%d,"crs":"%s"}'
                   % (lon.size, options.k, options.crs.value.encode()))

    def _geojson_results(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64],
                         options: NearestOptions, states: npt.NDArray[np.int8]) -> list[bytes]:
        """A FeatureCollection for each point (WGS84), by road or great-circle distance."""
        if options.by is DistanceBasis.ROAD:
            roads = self._road_answers(lon, lat, options)
        else:
            roads = [None] * lon.size
        straight = [point for point, road in enumerate(roads) if road is None]
        results = dict(zip(straight, self._straight_collections(
            lon[straight], lat[straight], options, states), strict=True))
        for point, road in enumerate(roads):
            if road is not None:
                results[point] = self._road_collection(float(lon[point]), float(lat[point]),
                                                       road, options, states)
        return [results[point] for point in range(len(roads))]

    def _straight_collections(self, lon: npt.NDArray[np.float64],
                              lat: npt.NDArray[np.float64], options: NearestOptions,
                              states: npt.NDArray[np.int8]) -> list[bytes]:
        """A FeatureCollection by great-circle distance for each point (WGS84)."""
        found = self._nearest_rows_batch(lon, lat, options)
        beyond = self._beyond_reach_batch(lon, lat, found, options, states)
        results = []
        for point, (rows, metres) in enumerate(zip(found.index.tolist(),
                                                   found.distance_m.tolist(), strict=True)):
            kept = [r for r in rows if r >= 0]
            features = self._nearest_features(float(lon[point]), float(lat[point]),
                                              kept, metres[:len(kept)], options.crs, states)
            results.append(feature_collection(features, _STRAIGHT + beyond.get(point, b"")))
        return results

    @cached_property
    def compact_ids(self) -> CompactIds:
        """Station ids as fixed-width JSON for compact answers, made on first use.

        Encoded with the standard library: each small ``orjson.dumps`` result keeps a buffer
        of some 4 KB, which for 150,000 ids was 600 MB."""
        return CompactIds([json.dumps(station_id, ensure_ascii=False).encode()
                           for station_id in self.ids])

    def _beyond_reach_batch(self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64],
                            found: Neighbours, options: NearestOptions,
                            states: npt.NDArray[np.int8]) -> dict[int, bytes]:
        """``nearestBeyondReach`` members for the points that ``radius_m`` left with nothing."""
        empty = np.flatnonzero(found.index[:, 0] < 0)
        if options.radius_m is None or not empty.size:
            return {}
        nearest = self._nearest_rows_batch(lon[empty], lat[empty], _beyond_reach(options))
        members = {}
        for point, row, metres in zip(empty.tolist(), nearest.index[:, 0].tolist(),
                                      nearest.distance_m[:, 0].tolist(), strict=True):
            if row >= 0:
                members[point] = _beyond_member(self._nearest_features(
                    float(lon[point]), float(lat[point]), [row], [metres], options.crs, states))
        return members

    def _query_point(self, lon: float, lat: float, crs: CoordinateSystem) -> tuple[float, float]:
        if crs is CoordinateSystem.WGS84:
            return lon, lat
        wgs_lon, wgs_lat = to_wgs84(lon, lat, crs)
        return float(wgs_lon), float(wgs_lat)

    def station(self, station_id: str, crs: CoordinateSystem = CoordinateSystem.WGS84,
                extra: bytes = b"", at: dt.datetime | None = None) -> bytes:
        """One station as a GeoJSON Feature, open state at ``at`` (default: now by the clock);
        ``extra`` adds members such as OGC links."""
        row = self.position_of.get(station_id)
        if row is None:
            raise StationNotFound(f"no station has id {station_id!r}")
        (x,), (y,) = self._output_coordinates([row], crs)
        state = self.hours.states(at or self.clock())[row]
        return self._plain_feature(row, x, y, state, extra)

    def page(self, offset: int, limit: int, bbox: tuple[float, float, float, float] | None = None,
             filters: Mapping[str, str] | None = None, amenities: Sequence[str] = (),
             crs: CoordinateSystem = CoordinateSystem.WGS84, open_state: Sequence[str] = (),
             at: dt.datetime | None = None) -> Page:
        """Stations in id order, optionally inside a WGS84 bbox and matching exact filters and
        open states at ``at`` (default: now by the clock)."""
        unknown = [name for name in (filters or {}) if name not in FILTERABLE_FIELDS]
        if unknown:
            raise InvalidInput(unknown[0], "is not a filterable property; allowed: "
                               + ", ".join(FILTERABLE_FIELDS), "enum", unknown[0])
        minute = china_minute(at or self.clock())
        states = NearestOptions(open_state=tuple(open_state)).wanted_states()
        mask = self._mask(tuple(amenities), dict(filters or {}), states, minute)
        if bbox is not None:
            inside = self._bbox_mask(bbox)
            mask = inside if mask is None else mask & inside
        order = self.id_order
        if mask is None and order is None:
            matched = self.count
            rows = list(range(min(offset, matched), min(offset + limit, matched)))
        else:
            if order is None:
                selected = np.flatnonzero(mask)
            else:
                selected = order if mask is None else order[mask[order]]
            matched = int(selected.size)
            rows = selected[offset:offset + limit].tolist()
        out_lon, out_lat = self._output_coordinates(rows, crs) if rows else ([], [])
        now = self.hours.states(minute)
        return Page([self._plain_feature(r, x, y, now[r])
                     for r, x, y in zip(rows, out_lon, out_lat, strict=True)], matched)

    def _bbox_mask(self, bbox: tuple[float, float, float, float]) -> npt.NDArray[np.bool_]:
        """Inside a bbox; a west edge greater than the east edge crosses the antimeridian."""
        west, south, east, north = bbox
        in_lat = (self.lat >= south) & (self.lat <= north)
        if west <= east:
            return in_lat & (self.lon >= west) & (self.lon <= east)
        return in_lat & ((self.lon >= west) | (self.lon <= east))

    @cached_property
    def id_order(self) -> npt.NDArray[np.intp] | None:
        """Rows in id order, or None when they already are (a loaded file or snapshot is).

        A refresh appends added stations at the end; pages still follow the ids, so replicas
        with the same data version serve the same pages whatever edits they saw."""
        if all(a < b for a, b in zip(self.ids, self.ids[1:], strict=False)):
            return None
        return np.argsort(np.array(self.ids, dtype=object), kind="stable").astype(np.intp)

    @cached_property
    def extent(self) -> list[float]:
        """WGS84 bounding box of all stations (the whole world when there are none)."""
        if not self.count:
            return [-180.0, -90.0, 180.0, 90.0]
        return [float(self.lon.min()), float(self.lat.min()),
                float(self.lon.max()), float(self.lat.max())]


# Distances in these answers are great-circle; a road router says "road" (docs/api.md).
_STRAIGHT = b',"distance_basis":"straight"'
_BY_ROAD = b',"distance_basis":"road"'


def _beyond_reach(options: NearestOptions) -> NearestOptions:
    """The same question without the radius, for the one nearest station."""
    return replace(options, k=1, radius_m=None)


def _beyond_member(features: Sequence[bytes]) -> bytes:
    return b',"nearestBeyondReach":' + features[0] if features else b""


class _ContentVersion:
    """``data_version`` worked out from the stations as read, as a build or a store does it
    (:mod:`stations.store.records`), while the chunks pass by."""

    def __init__(self) -> None:
        self.bits = 0

    def digesting(self, path: str | os.PathLike[str], chunks: Iterable[StationChunk]
                  ) -> Iterator[StationChunk]:
        """The chunks, checked (before any index is built on them) and digested."""
        from .store.records import content_digest  # the store imports this module

        try:
            for chunk in chunks:
                check_stations(path, chunk.text["id"], chunk.lon, chunk.lat)
                columns = [chunk.text[name] for name in TEXT_FIELDS]
                for *texts, bits, lon, lat in zip(*columns, chunk.amenity_bits,
                                                  chunk.lon.tolist(), chunk.lat.tolist(),
                                                  strict=True):
                    self.bits ^= int(content_digest(texts, bits, lon, lat)[:16], 16)
                yield chunk
        finally:  # the reader closes its SQLite connection now, in this thread
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def version(self) -> str:
        from .store.records import version_of

        return version_of(self.bits)


def _route_json(route: Sequence[tuple[float, float]], crs: CoordinateSystem) -> bytes:
    """``,"route":{LineString}`` in the answer's coordinate system."""
    lon, lat = (np.array(c) for c in zip(*route, strict=True))
    if crs is not CoordinateSystem.WGS84:
        lon, lat = from_wgs84(lon, lat, crs)
    return b',"route":' + orjson.dumps({"type": "LineString", "coordinates": np.column_stack(
        [np.round(lon, 7), np.round(lat, 7)]).tolist()})


def feature_collection(features: Sequence[bytes], extra: bytes = b"") -> bytes:
    """Join ready-made features into a FeatureCollection with ``numberReturned``."""
    return (b'{"type":"FeatureCollection","features":[' + b",".join(features)
            + b'],"numberReturned":%d' % len(features) + extra + b"}")


def amenity_vocabulary() -> bytes:
    """``{"amenities": [...]}``: the vocabulary with Chinese and English labels."""
    return orjson.dumps({"amenities": [
        {"code": a.code, "label_zh": a.label_zh, "label_en": a.label_en, "icon": a.icon}
        for a in AMENITIES
    ]})
