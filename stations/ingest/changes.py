"""Re-imports as a reviewed change set: what a new sheet would change, and applying it.

Next month the office sends its updated sheet.  Comparing it with the current stations gives a
:class:`ChangeSet`: new stations, changed fields (before -> after), stations moved more than
:data:`MOVED_M` metres, and stations missing from the sheet.  Stations are matched by id, and,
where the sheet has no ids (so they were made from name and position), by name and position.
Missing stations are only those of the cities the sheet covers, and they are never deleted: the
operator keeps them or marks them closed.  :func:`apply_changes` writes everything through the
station store in one transaction, refused if a station changed since the review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from operator import itemgetter

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..errors import StationsError
from ..index import chord_for_distance, haversine_m, unit_vectors
from ..model import AMENITIES, TEXT_FIELDS, Status, normalise_label
from ..store import Change, HistoryEntry, Scope, Snapshot, StationStore

MOVED_M = 50.0
REPICKED_M = 0.05  # below this the stored and the sheet's position are the same point
MATCH_RADIUS_M = 500.0  # a made-id station found again by its name within this distance
SAME_PLACE_M = 5.0  # ... or by any name this close: renamed where it stands
COMPARED_FIELDS = tuple(f for f in TEXT_FIELDS if f != "id")
Record = dict[str, object]


class ReviewOutdated(StationsError):
    """The stations changed after the change set was reviewed; nothing was written."""


class MissingUndecided(StationsError):
    """Stations are missing from the sheet and the operator has not said what to do."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: object
    after: object


@dataclass(frozen=True, slots=True)
class Moved:
    station_id: str
    metres: float
    before: tuple[float, float]
    after: tuple[float, float]


@dataclass(slots=True)
class ChangeSet:
    """What applying a sheet would do, against the stations at ``base_version``.

    ``records`` holds the new state of each added or changed station; ``versions`` the version
    of each existing station as reviewed (a write is refused if it has moved on).
    """

    base_version: str
    added: list[Record] = field(default_factory=list)
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)
    moved: list[Moved] = field(default_factory=list)
    missing: list[Record] = field(default_factory=list)
    unchanged: int = 0
    records: dict[str, Record] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.missing)

    @property
    def key(self) -> str:
        """A short hash of the base and the changes: the review the operator confirms."""
        text = repr((self.base_version, sorted(self.records.items(), key=lambda kv: kv[0]),
                     sorted(str(r["id"]) for r in self.missing)))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def summary(self) -> str:
        return (f"新增 {len(self.added)} added, 修改 {len(self.changed)} changed "
                f"(其中移动超过 {MOVED_M:g} 米 {len(self.moved)} moved > {MOVED_M:g} m), "
                f"缺失 {len(self.missing)} missing, 不变 {self.unchanged} unchanged")

    def lines(self) -> list[str]:
        """The change set as text, one station per line, fields indented under it."""
        out = [f"+ {r['id']} {r['name']}: 新增 new" for r in self.added]
        moved = {m.station_id: m for m in self.moved}
        for station_id, fields in self.changed.items():
            how = f", 移动 moved {moved[station_id].metres:.0f} m" if station_id in moved else ""
            out.append(f"~ {station_id} {self.names.get(station_id, '')}: 修改 changed{how}")
            out += [f"    {c.field}: {c.before!r} -> {c.after!r}" for c in fields]
        out += [f"- {r['id']} {r['name']}: 新表中没有 missing from the sheet" for r in self.missing]
        return out

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready data, so that a review can be kept between two requests."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ChangeSet:
        """The change set :meth:`as_dict` gave (positions come back as tuples)."""
        values = dict(data)
        values["changed"] = {station_id: [FieldChange(**c) for c in fields]
                             for station_id, fields in data["changed"].items()}  # type: ignore[attr-defined]
        values["moved"] = [Moved(m["station_id"], m["metres"], tuple(m["before"]),
                                 tuple(m["after"])) for m in data["moved"]]  # type: ignore[attr-defined]
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class _Columns:
    """Stations as columns (text fields, amenity bits, WGS84 position): a 100,000-station
    sheet is compared with the store by column operations, and records are made only for
    the stations that change."""

    text: dict[str, np.ndarray]
    bits: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    def record(self, i: int, station_id: str | None = None) -> Record:
        """Row ``i`` as a store record, under ``station_id`` if given."""
        record: Record = {name: values[i] for name, values in self.text.items()}
        if station_id is not None:
            record["id"] = station_id
        record["amenities"] = _codes(int(self.bits[i]))
        record["lon"], record["lat"] = float(self.lon[i]), float(self.lat[i])
        return record


_BITS = {a.code: 1 << k for k, a in enumerate(AMENITIES)}


def _codes(bits: int) -> list[str]:
    return [a.code for k, a in enumerate(AMENITIES) if bits >> k & 1]


def _sheet_columns(stations: gpd.GeoDataFrame) -> _Columns:
    flags = stations[[a.column for a in AMENITIES]].to_numpy(dtype=np.int64)
    return _Columns({name: stations[name].to_numpy(dtype=object) for name in TEXT_FIELDS},
                    flags @ (1 << np.arange(len(AMENITIES), dtype=np.int64)),
                    stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy())


def _stored_columns(records: list[Record]) -> _Columns:
    sets = [tuple(r["amenities"]) for r in records]  # type: ignore[call-overload]
    bits = {key: sum(_BITS.get(code, 0) for code in key) for key in set(sets)}
    table = np.empty((len(records), len(TEXT_FIELDS)), dtype=object)
    if records:
        table[:] = list(map(itemgetter(*TEXT_FIELDS), records))
    return _Columns({name: table[:, k] for k, name in enumerate(TEXT_FIELDS)},
                    np.array([bits[key] for key in sets], dtype=np.int64),
                    np.array([r["lon"] for r in records], dtype=np.float64),
                    np.array([r["lat"] for r in records], dtype=np.float64))


def _labels(values: np.ndarray) -> np.ndarray:
    """:func:`normalise_label` of every value, worked out once per distinct value."""
    return _per_distinct(values, lambda value: normalise_label(str(value)))


def _per_distinct(values: np.ndarray, work: Callable[[object], str]) -> np.ndarray:
    codes, uniques = pd.factorize(values)
    return np.array([work(u) for u in uniques], dtype=object)[codes]


def _city_keys(columns: _Columns) -> np.ndarray:
    """The city of each station by name (stations stored before division codes existed have
    none), else the first four digits of its division code."""
    cities = _labels(columns.text["city"])
    prefixes = _per_distinct(columns.text["division_code"], lambda code: str(code)[:4])
    return np.where(cities != "", cities, prefixes)


def diff(stations: gpd.GeoDataFrame, snapshot: Snapshot, made_ids: set[str]) -> ChangeSet:
    """Compare the sheet's validated stations with the store's; nothing is written."""
    stored = snapshot.stations
    old = _stored_columns([s.record for s in stored])
    new = _sheet_columns(stations)
    changes = ChangeSet(base_version=snapshot.data_version)
    at = pd.Index(old.text["id"], dtype=object).get_indexer(new.text["id"])  # stored row or -1
    taken = np.zeros(len(stored), dtype=bool)
    taken[at[at >= 0]] = True
    # Only stations of the cities the sheet covers can be missing from it, or found again.
    in_scope = pd.Index(_city_keys(old), dtype=object).isin(pd.unique(_city_keys(new)))
    left = np.flatnonzero(~taken & in_scope)
    made = np.flatnonzero((at < 0) & pd.Index(new.text["id"], dtype=object).isin(made_ids))
    found = _match_made(new, made, old, left)
    at[made] = found
    taken[found[found >= 0]] = True
    for i in np.flatnonzero(at < 0).tolist():
        record = new.record(i)
        changes.added.append(record)
        changes.records[str(record["id"])] = record
    _compare(new, old, np.flatnonzero(at >= 0), at, changes)
    gone = left[~taken[left]]
    changes.missing = sorted((stored[j].record for j in gone.tolist()),
                             key=lambda r: str(r["id"]))
    version = dict(zip(old.text["id"].tolist(), [s.version for s in stored], strict=True))
    changes.versions = {k: version[k] for k in
                        (*changes.changed, *(str(r["id"]) for r in changes.missing))}
    return changes


def _match_made(new: _Columns, rows: np.ndarray, old: _Columns, left: np.ndarray
                ) -> np.ndarray:
    """For each sheet row in ``rows`` (made ids not in the store), the stored station of
    ``left`` it is found again as, or -1: the same name within :data:`MATCH_RADIUS_M`, or any
    name within :data:`SAME_PLACE_M`, the nearest first; each station is found at most once,
    in sheet order."""
    found = np.full(len(rows), -1, dtype=np.intp)
    if len(rows) == 0 or len(left) == 0:
        return found
    tree = cKDTree(unit_vectors(old.lon[left], old.lat[left]))
    near = tree.query_ball_point(unit_vectors(new.lon[rows], new.lat[rows]),
                                 chord_for_distance(MATCH_RADIUS_M))
    new_names, old_names = _labels(new.text["name"][rows]), _labels(old.text["name"][left])
    free = np.ones(len(left), dtype=bool)
    for k, (i, candidates) in enumerate(zip(rows.tolist(), near, strict=True)):
        pool = np.array(candidates, dtype=np.intp)
        pool = pool[free[pool]]
        metres = haversine_m(new.lon[i], new.lat[i], old.lon[left[pool]], old.lat[left[pool]])
        fits = (metres <= SAME_PLACE_M) | (old_names[pool] == new_names[k])
        if fits.any():
            best = pool[fits][np.argmin(metres[fits])]
            free[best] = False
            found[k] = left[best]
    return found


def _compare(new: _Columns, old: _Columns, rows: np.ndarray, at: np.ndarray,
             changes: ChangeSet) -> None:
    """Field changes and moves of the sheet rows ``rows``, each paired with stored row
    ``at[row]``; compared column by column."""
    pair = at[rows]
    differs = {name: new.text[name][rows] != old.text[name][pair] for name in COMPARED_FIELDS}
    amenities = new.bits[rows] != old.bits[pair]
    metres = haversine_m(new.lon[rows], new.lat[rows], old.lon[pair], old.lat[pair])
    repicked = metres > REPICKED_M  # a re-picked point is a change too, a move only beyond
    changed = np.logical_or.reduce([*differs.values(), amenities, repicked])
    changes.unchanged += int((~changed).sum())
    for k in np.flatnonzero(changed).tolist():
        i, j = int(rows[k]), int(pair[k])
        station_id = str(old.text["id"][j])
        fields = [FieldChange(name, old.text[name][j], new.text[name][i])
                  for name in COMPARED_FIELDS if differs[name][k]]
        if amenities[k]:
            fields.append(FieldChange("amenities", _codes(int(old.bits[j])),
                                      _codes(int(new.bits[i]))))
        before, after = (float(old.lon[j]), float(old.lat[j])), (float(new.lon[i]),
                                                                  float(new.lat[i]))
        if metres[k] > MOVED_M:
            changes.moved.append(Moved(station_id, float(metres[k]), before, after))
        if repicked[k]:
            fields.append(FieldChange("position", before, after))
        changes.changed[station_id] = fields
        changes.names[station_id] = str(new.text["name"][i])
        changes.records[station_id] = new.record(i, station_id)


def apply_changes(store: StationStore, changes: ChangeSet, *,
                  missing: str | Mapping[str, str] | None, who: str, at: dt.datetime,
                  confirm: str | None = None, scope: Scope | None = None
                  ) -> HistoryEntry | None:
    """Write the change set in one transaction through the store.

    ``missing`` is "keep" or "close" for every missing station, or that choice per station id
    (required when stations are missing); ``confirm`` is the key of the reviewed change set:
    if given and the change set differs, nothing is written.  The store refuses the whole set
    if any station changed since the review, or (``scope`` given) lies outside the office's.
    """
    if confirm is not None and confirm != changes.key:
        raise ReviewOutdated(
            f"the change set is {changes.key}, not the reviewed {confirm}: the data or the sheet "
            "changed since the review (数据或表格在审阅后有变化); review again")
    decide = missing.get if isinstance(missing, Mapping) else lambda _station_id: missing
    undecided = [str(r["id"]) for r in changes.missing if decide(str(r["id"])) not in
                 ("keep", "close")]
    if undecided:
        raise MissingUndecided(
            f"{len(undecided)} stations are missing from the sheet (新表中缺少 "
            f"{len(undecided)} 个驿站: {', '.join(undecided[:5])}); choose keep or close for each, "
            "or say --missing keep or --missing close: nothing is deleted without a decision")
    batch = [Change(station_id, record, changes.versions.get(station_id, 0))
             for station_id, record in changes.records.items()]
    batch += [Change(str(r["id"]), {**r, "status": Status.CLOSED.value},
                     changes.versions[str(r["id"])])
              for r in changes.missing
              if decide(str(r["id"])) == "close" and r.get("status") != Status.CLOSED.value]
    if not batch:
        return None
    return store.apply(batch, who=who, action="import", at=at, scope=scope,
                       note=f"import {changes.key}: {changes.summary()}")
