"""The embedded store: the station GeoPackage itself, edited with SQLite transactions.

Edits change rows of the ``stations`` layer in place, inside one ``BEGIN IMMEDIATE``
transaction that also updates ``build_info`` (``data_version``, ``station_count``) and appends
the history, so a reader (the server's reload, QGIS, ``stations export``) sees the file before
or after a change set, never between.  The tables the store adds live in the same file:

``station_versions``   id, version, digest (one row per station)
``station_history``    one row per change set: at, who, action, note, changes (JSON)
``station_history_stations``  which stations each entry touched (history per station)
``office_keys``        office API keys, hashed

``station_history`` is registered as a GeoPackage attribute table, so QGIS lists it beside the
layer.  A file fresh from ``stations build`` has none of these yet: reads work without them
(every station at version 1, no history) and the first write creates them, so serving or
exporting never modifies the file.  The R-tree that QGIS uses is kept current by GDAL's
triggers, whose ``ST_*`` functions are provided here for plain SQLite.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import struct
from collections.abc import Iterator, Sequence

import orjson

from ..errors import DataFileError, HistoryNotFound, NotAuthenticated, StationNotFound
from ..gpkg_rows import point_from_gpkg_blob, require_geopackage
from ..model import AMENITIES, BUILD_INFO_TABLE, STATIONS_LAYER, TEXT_FIELDS
from .base import (
    Change,
    Changes,
    HistoryEntry,
    OfficeKey,
    Scope,
    Snapshot,
    StationChange,
    StoredStation,
    iso,
)
from .changeset import plan_changes
from .keys import hash_secret, new_key_secret
from .records import Record, data_version, digest, digest_bits, version_of

BUSY_TIMEOUT_S = 30.0
_SRS_WGS84 = 4326
_SCHEMA = """
CREATE TABLE IF NOT EXISTS station_versions (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS station_history (
    fid INTEGER PRIMARY KEY, at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '', revert_of INTEGER, changes TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS station_history_stations (
    history_id INTEGER NOT NULL, station_id TEXT NOT NULL,
    PRIMARY KEY (station_id, history_id));
CREATE TABLE IF NOT EXISTS office_keys (
    key_id TEXT PRIMARY KEY, office TEXT NOT NULL, division TEXT NOT NULL,
    province TEXT NOT NULL, city TEXT NOT NULL, district TEXT NOT NULL,
    created_at TEXT NOT NULL, revoked_at TEXT NOT NULL DEFAULT '', secret_hash TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS stations_id_unique ON stations (id);
INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description,
    last_change) VALUES ('station_history', 'attributes', 'station_history',
    'every change set applied to the stations: who, when, before and after',
    '2000-01-01T00:00:00Z');
"""
_AMENITY_COLUMNS = tuple(a.column for a in AMENITIES)
_COLUMNS = (*TEXT_FIELDS, *_AMENITY_COLUMNS)
_SELECT = "SELECT geom, " + ", ".join(f'"{c}"' for c in _COLUMNS) + f' FROM "{STATIONS_LAYER}"'


def point_blob(lon: float, lat: float) -> bytes:
    """A GeoPackage point geometry: header without envelope, then a little-endian WKB point."""
    return b"GP\x00\x01" + struct.pack("<i", _SRS_WGS84) + struct.pack("<BIdd", 1, 1, lon, lat)


def _point_function(axis: int):  # type: ignore[no-untyped-def]
    def coordinate(blob: bytes | None) -> float | None:
        return None if blob is None else point_from_gpkg_blob(blob)[axis]
    return coordinate


def _is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(len(blob) > 3 and bool(blob[3] & 0b10000))


class GeoPackageStore:
    """:class:`~stations.store.base.StationStore` over one station GeoPackage file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = require_geopackage(path)

    # ----- connections ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection per operation: it follows the path, so a rebuilt file is picked up."""
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise DataFileError(f"{self.path}: cannot open: {exc}") from exc
        try:
            for name, function in (("ST_MinX", _point_function(0)), ("ST_MaxX", _point_function(0)),
                                   ("ST_MinY", _point_function(1)), ("ST_MaxY", _point_function(1)),
                                   ("ST_IsEmpty", _is_empty)):
                db.create_function(name, 1, function, deterministic=True)
            yield db
        except sqlite3.DatabaseError as exc:
            raise DataFileError(f"{self.path}: {exc}") from exc
        finally:
            db.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("ROLLBACK")

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                self._adopt_unversioned(db)
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _has_store_tables(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'station_versions'"
                          ).fetchone() is not None

    def _adopt_unversioned(self, db: sqlite3.Connection) -> None:
        """Give stations written by a build (no version row yet) version 1."""
        rows = db.execute(_SELECT + ' WHERE id NOT IN (SELECT id FROM station_versions)'
                          ).fetchall()
        db.executemany("INSERT INTO station_versions VALUES (?, 1, ?)",
                       [(r["id"], digest(r)) for r in map(_record, rows)])
        gone = db.execute("DELETE FROM station_versions WHERE id NOT IN "
                          f'(SELECT id FROM "{STATIONS_LAYER}")').rowcount
        if rows or gone:
            # Written by a build: from now on the version moves by XOR, from this full count.
            version = data_version(r[0] for r in db.execute("SELECT digest FROM station_versions"))
            db.execute(f'UPDATE "{BUILD_INFO_TABLE}" SET value = ? WHERE key = ?',
                       (version, "data_version"))

    # ----- reading -------------------------------------------------------------------------

    def _stations(self, db: sqlite3.Connection, ids: Sequence[str] | None = None,
                  scope: Scope | None = None) -> list[StoredStation]:
        versioned = self._has_store_tables(db)
        query = ("SELECT s.*, v.version, v.digest FROM (" + _SELECT + ") AS s LEFT JOIN "
                 "station_versions AS v USING (id)") if versioned else \
            "SELECT s.*, NULL, NULL FROM (" + _SELECT + ") AS s"
        params: list[object] = []
        if ids is not None:
            query += " WHERE s.id IN (SELECT value FROM json_each(?))"
            params.append(orjson.dumps(list(ids)).decode())
        elif scope is not None:
            conditions, params = scope.where(lambda name: f's."{name}"', "?")
            query += f" WHERE {conditions}"
        rows = db.execute(query + " ORDER BY s.id", params).fetchall()
        stations = []
        for row in rows:
            record = _record(row[:-2])
            stations.append(StoredStation(record, row[-2] or 1, row[-1] or digest(record)))
        return stations

    @staticmethod
    def _sequence(db: sqlite3.Connection) -> int:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'station_history'").fetchone():
            return int(db.execute("SELECT coalesce(max(fid), 0) FROM station_history"
                                  ).fetchone()[0])
        return 0

    def snapshot(self) -> Snapshot:
        with self._read() as db:
            stations = self._stations(db)
            sequence = self._sequence(db)
        return Snapshot(stations, data_version(s.digest for s in stations), sequence)

    def get(self, station_id: str) -> StoredStation:
        with self._read() as db:
            found = self._stations(db, [station_id])
        if not found:
            raise StationNotFound(f"no station has id {station_id!r}")
        return found[0]

    def stations_in(self, scope: Scope) -> list[StoredStation]:
        with self._read() as db:
            return self._stations(db, scope=scope)

    def changes_since(self, sequence: int) -> Changes:
        with self._read() as db:
            now = self._sequence(db)
            ids: list[str] = [] if now <= sequence else [r[0] for r in db.execute(
                "SELECT DISTINCT station_id FROM station_history_stations WHERE history_id > ?",
                (sequence,))]
            upserted = self._stations(db, ids) if ids else []
            version = self._info(db).get("data_version", "")
        present = {s.id for s in upserted}
        return Changes(upserted, [i for i in ids if i not in present], version, now)

    @staticmethod
    def _info(db: sqlite3.Connection) -> dict[str, str]:
        return dict(db.execute(f'SELECT "key", "value" FROM "{BUILD_INFO_TABLE}"').fetchall())

    # ----- writing -------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], *, who: str, action: str, at: dt.datetime,
              note: str = "", scope: Scope | None = None, revert_of: int | None = None
              ) -> HistoryEntry:
        with self._write() as db:
            current = {s.id: s for s in self._stations(db, [c.station_id for c in changes])}
            plan = plan_changes(changes, current, scope)
            if not plan.changes:
                return HistoryEntry(0, iso(at), who, action, note, [], revert_of)
            for station in plan.written:
                self._write_row(db, station, exists=station.id in current)
            for station_id in plan.deleted:
                db.execute(f'DELETE FROM "{STATIONS_LAYER}" WHERE id = ?', (station_id,))
                db.execute("DELETE FROM station_versions WHERE id = ?", (station_id,))
            info = self._info(db)
            version = version_of(digest_bits(info["data_version"]) ^ plan.version_xor)
            count = int(info.get("station_count", "0")) + plan.count_delta
            db.executemany(f'UPDATE "{BUILD_INFO_TABLE}" SET value = ? WHERE key = ?',
                           [(version, "data_version"), (str(count), "station_count")])
            cursor = db.execute(
                "INSERT INTO station_history (at, who, action, note, revert_of, changes) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (iso(at), who, action, note, revert_of,
                 orjson.dumps([c.as_dict() for c in plan.changes]).decode()))
            entry_id = int(cursor.lastrowid or 0)
            db.executemany("INSERT INTO station_history_stations VALUES (?, ?)",
                           [(entry_id, c.station_id) for c in plan.changes])
        return HistoryEntry(entry_id, iso(at), who, action, note, plan.changes, revert_of)

    @staticmethod
    def _write_row(db: sqlite3.Connection, station: StoredStation, exists: bool) -> None:
        record = station.record
        values = [point_blob(record["lon"], record["lat"])]  # type: ignore[arg-type]
        values += [record[f] for f in TEXT_FIELDS]
        chosen = set(record["amenities"])  # type: ignore[call-overload]
        values += [int(a.code in chosen) for a in AMENITIES]
        columns = ("geom", *_COLUMNS)
        if exists:
            assignments = ", ".join(f'"{c}" = ?' for c in columns)
            db.execute(f'UPDATE "{STATIONS_LAYER}" SET {assignments} WHERE id = ?',
                       (*values, station.id))
        else:
            names = ", ".join(f'"{c}"' for c in columns)
            db.execute(f'INSERT INTO "{STATIONS_LAYER}" ({names}) VALUES '
                       f'({", ".join("?" * len(columns))})', values)
        db.execute("INSERT OR REPLACE INTO station_versions VALUES (?, ?, ?)",
                   (station.id, station.version, station.digest))

    def load(self, stations: Sequence[StoredStation], history: Sequence[HistoryEntry],
             keys: Sequence[OfficeKey], version_bits: int) -> None:
        """Give a freshly written file the versions, history and keys of another store."""
        del version_bits  # the build wrote the same data_version into build_info
        with self._write() as db:
            db.executemany("INSERT OR REPLACE INTO station_versions VALUES (?, ?, ?)",
                           [(s.id, s.version, s.digest) for s in stations])
            db.executemany(
                "INSERT INTO station_history (fid, at, who, action, note, revert_of, changes) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(e.id, e.at, e.who, e.action, e.note, e.revert_of,
                  orjson.dumps([c.as_dict() for c in e.changes]).decode()) for e in history])
            db.executemany("INSERT INTO station_history_stations VALUES (?, ?)",
                           [(e.id, c.station_id) for e in history for c in e.changes])
            db.executemany("INSERT INTO office_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(k.key_id, k.office, k.scope.division, k.scope.province,
                             k.scope.city, k.scope.district, k.created_at, k.revoked_at,
                             k.secret_hash) for k in keys])

    # ----- history -------------------------------------------------------------------------

    def history(self, station_id: str | None = None, limit: int = 50,
                before: int | None = None) -> list[HistoryEntry]:
        with self._read() as db:
            if not self._has_store_tables(db):
                return []
            where, params = ["fid < ?"], [before if before is not None else 2**62]
            if station_id is not None:
                where.append("fid IN (SELECT history_id FROM station_history_stations "
                             "WHERE station_id = ?)")
                params.append(station_id)  # type: ignore[arg-type]
            rows = db.execute("SELECT fid, at, who, action, note, changes, revert_of "
                              f"FROM station_history WHERE {' AND '.join(where)} "
                              "ORDER BY fid DESC LIMIT ?", (*params, limit)).fetchall()
        return [history_entry_from_row(*row) for row in rows]

    def history_entry(self, entry_id: int) -> HistoryEntry:
        with self._read() as db:
            row = db.execute("SELECT fid, at, who, action, note, changes, revert_of "
                             "FROM station_history WHERE fid = ?", (entry_id,)).fetchone() \
                if self._has_store_tables(db) else None
        if row is None:
            raise HistoryNotFound(f"no history entry #{entry_id}")
        return history_entry_from_row(*row)

    # ----- office keys ---------------------------------------------------------------------

    def create_key(self, office: str, scope: Scope, at: dt.datetime) -> tuple[OfficeKey, str]:
        key_id, secret = new_key_secret()
        key = OfficeKey(key_id, office, scope, iso(at), "", hash_secret(secret))
        with self._write() as db:
            db.execute("INSERT INTO office_keys VALUES (?, ?, ?, ?, ?, ?, ?, '', ?)",
                       (key_id, office, scope.division, scope.province, scope.city,
                        scope.district, key.created_at, key.secret_hash))
        return key, secret

    def office_keys(self) -> list[OfficeKey]:
        with self._read() as db:
            if not self._has_store_tables(db):
                return []
            return [key_from_row(*r) for r in db.execute(
                "SELECT * FROM office_keys ORDER BY created_at, key_id")]

    def find_key(self, key_id: str) -> OfficeKey | None:
        with self._read() as db:
            row = db.execute("SELECT * FROM office_keys WHERE key_id = ?", (key_id,)
                             ).fetchone() if self._has_store_tables(db) else None
        return None if row is None else key_from_row(*row)

    def revoke_key(self, key_id: str, at: dt.datetime) -> OfficeKey:
        with self._write() as db:
            db.execute("UPDATE office_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at = ''",
                       (iso(at), key_id))
            row = db.execute("SELECT * FROM office_keys WHERE key_id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotAuthenticated(f"no office key {key_id!r}")
        return key_from_row(*row)

    def close(self) -> None:
        """Nothing to release: each operation opens and closes its own connection."""


def _record(row: Sequence[object]) -> Record:
    """A stations-layer row (geometry, text fields, amenity flags) as a record."""
    lon, lat = point_from_gpkg_blob(row[0])  # type: ignore[arg-type]
    text = row[1:1 + len(TEXT_FIELDS)]
    flags = row[1 + len(TEXT_FIELDS):]
    record: Record = {f: "" if v is None else str(v) for f, v in zip(TEXT_FIELDS, text,
                                                                      strict=True)}
    record["amenities"] = [a.code for a, flag in zip(AMENITIES, flags, strict=True) if flag]
    record["lon"], record["lat"] = lon, lat
    return record


def history_entry_from_row(entry_id: int, at: str, who: str, action: str, note: str,
                           changes: str | bytes | list[dict[str, object]],
                           revert_of: int | None) -> HistoryEntry:
    """A history entry from a stored row (``changes`` as JSON text or already decoded)."""
    lines = orjson.loads(changes) if isinstance(changes, str | bytes) else changes
    return HistoryEntry(int(entry_id), str(at), who, action, note,
                        [StationChange(c["station_id"], c["before"], c["after"], c["version"])
                         for c in lines], revert_of)


def key_from_row(key_id: str, office: str, division: str, province: str, city: str,
                 district: str, created_at: str, revoked_at: str, secret_hash: str) -> OfficeKey:
    return OfficeKey(key_id, office, Scope(division, province, city, district), str(created_at),
                     str(revoked_at or ""), secret_hash)
