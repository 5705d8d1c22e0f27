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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import geopandas as gpd
import numpy as np

from ..errors import StationsError
from ..index import haversine_m
from ..model import AMENITIES, TEXT_FIELDS, Status, normalise_label
from ..store import Change, HistoryEntry, Scope, Snapshot, StationStore

MOVED_M = 50.0
REPICKED_M = 0.05  # below this the stored and the sheet's position are the same point
MATCH_RADIUS_M = 500.0  # a made-id station found again by its name within this distance
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


def records_from_frame(stations: gpd.GeoDataFrame) -> list[Record]:
    """Validated stations as store records (text fields, amenity codes, lon/lat)."""
    text = stations[list(TEXT_FIELDS)].astype(str).to_dict("records")
    flags = stations[[a.column for a in AMENITIES]].to_numpy(dtype=bool)
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    for i, record in enumerate(text):
        record["amenities"] = [a.code for a, has in zip(AMENITIES, flags[i], strict=True) if has]
        record["lon"], record["lat"] = float(lon[i]), float(lat[i])
    return text


def diff(incoming: list[Record], snapshot: Snapshot, made_ids: set[str]) -> ChangeSet:
    """Compare the sheet's stations with the store's; nothing is written."""
    current = {s.id: s for s in snapshot.stations}
    changes = ChangeSet(base_version=snapshot.data_version)
    pairs: list[tuple[Record, str]] = []  # a sheet record and the stored station it is
    unmatched = []
    for record in incoming:
        if record["id"] in current:
            pairs.append((record, str(record["id"])))
        else:
            unmatched.append(record)
    matched = {station_id for _, station_id in pairs}
    in_scope = _scope(incoming)
    left = {k: s.record for k, s in current.items()
            if k not in matched and _key_city(s.record) in in_scope}
    for record in unmatched:
        found = _match_made(record, left) if record["id"] in made_ids else None
        if found is None:
            changes.added.append(record)
            changes.records[str(record["id"])] = record
            continue
        del left[found]
        pairs.append(({**record, "id": found}, found))  # a station keeps the id it has
    olds = [current[station_id].record for _, station_id in pairs]
    metres = haversine_m(np.array([r["lon"] for r, _ in pairs], dtype=np.float64),
                         np.array([r["lat"] for r, _ in pairs], dtype=np.float64),
                         np.array([o["lon"] for o in olds], dtype=np.float64),
                         np.array([o["lat"] for o in olds], dtype=np.float64))
    for (record, _), old, distance in zip(pairs, olds, np.atleast_1d(metres).tolist(),
                                          strict=True):
        _compare(record, old, distance, changes)
    changes.missing = sorted(left.values(), key=lambda r: str(r["id"]))
    changes.versions = {k: current[k].version for k in
                        (*changes.changed, *(str(r["id"]) for r in changes.missing))}
    return changes


def _key_city(record: Mapping[str, object]) -> str:
    """The city by name (stations stored before division codes existed have none)."""
    city = normalise_label(str(record.get("city") or ""))
    return city or str(record.get("division_code") or "")[:4]


def _scope(records: list[Record]) -> set[str]:
    """The cities a sheet covers: only their stations can be missing from it."""
    return {_key_city(r) for r in records}


def _match_made(record: Record, left: dict[str, Record]) -> str | None:
    """A made-id station found again: the same name nearby, or any name at the same place."""
    if not left:
        return None
    ids = list(left)
    lon = np.array([left[k]["lon"] for k in ids], dtype=np.float64)
    lat = np.array([left[k]["lat"] for k in ids], dtype=np.float64)
    metres = haversine_m(record["lon"], record["lat"], lon, lat)
    near = np.flatnonzero(metres <= MATCH_RADIUS_M)
    name = normalise_label(str(record["name"]))
    fits = [i for i in near.tolist()
            if metres[i] <= 5.0 or normalise_label(str(left[ids[i]]["name"])) == name]
    return ids[min(fits, key=lambda i: metres[i])] if fits else None


def _compare(record: Record, old: Mapping[str, object], metres: float,
             changes: ChangeSet) -> None:
    fields = [FieldChange(f, old.get(f, ""), record.get(f, "")) for f in
              (*COMPARED_FIELDS, "amenities") if old.get(f, "") != record.get(f, "")]
    station_id = str(record["id"])
    if metres > MOVED_M:
        changes.moved.append(Moved(station_id, metres, (float(old["lon"]), float(old["lat"])),
                                   (float(record["lon"]), float(record["lat"]))))
    if metres > REPICKED_M:  # a re-picked point is a change too, a move only beyond MOVED_M
        fields.append(FieldChange("position", (old["lon"], old["lat"]),
                                  (record["lon"], record["lat"])))
    if not fields:
        changes.unchanged += 1
        return
    changes.changed[station_id] = fields
    changes.names[station_id] = str(record["name"])
    changes.records[station_id] = record


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
