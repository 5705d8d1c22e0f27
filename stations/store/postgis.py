"""The national store: PostgreSQL with PostGIS, for many offices and many API replicas.

Connections come from a pool (psycopg 3, LGPL-3.0, used unmodified as a library).  The schema
is created and upgraded by the program itself with versioned migrations (yoyo-migrations,
``stations/store/migrations/``), each applied once under yoyo's lock.

A change set is one short transaction: lock the rows of the stations it touches (``SELECT …
FOR UPDATE``, in id order, so two offices editing different stations never wait for each
other), check versions and scope, write, then, as the very last statement, take the next
history number from the one-row ``store_state`` table, which also carries the XOR of all
digest bits (the ``data_version``).  Taking the number last keeps that row locked only for
the commit itself, and makes history numbers follow commit order, which is what lets a
replica ask "what changed after number N" without missing a slow transaction.  The same
transaction sends ``NOTIFY stations_changed`` with the new number; PostgreSQL delivers it at
commit, and replicas fetch just the stations that changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import orjson
import psycopg
import psycopg_pool

from ..errors import (
    HistoryNotFound,
    NotAuthenticated,
    StationExists,
    StationNotFound,
    StoreUnavailable,
)
from ..gpkg_rows import CHUNK_ROWS, StationChunk
from ..model import AMENITIES, TEXT_FIELDS
from ..service import CHUNK_TEXT_FIELDS
from .base import (
    Change,
    Changes,
    HistoryEntry,
    OfficeKey,
    Scope,
    Snapshot,
    StoredStation,
    iso,
)
from .changeset import plan_changes
from .gpkg import history_entry_from_row, key_from_row
from .keys import hash_secret, new_key_secret
from .records import Record, amenity_bits, properties_json, version_of

NOTIFY_CHANNEL = "stations_changed"
MIGRATIONS = Path(__file__).with_name("migrations")
# Requests wait this long for a free connection before the API answers 503; sized so that a
# burst of edits queues rather than fails (a write holds a connection for a few ms).
POOL_TIMEOUT_S = 60.0
_STATION_COLUMNS = "id, properties::text, amenity_bits, ST_X(geom), ST_Y(geom), version, digest"
_HISTORY_COLUMNS = "id, at, who, action, note, changes::text, revert_of"
_MASK64 = (1 << 64) - 1
# Byte order, as Python and SQLite sort, whatever the database's collation.
BY_ID = 'ORDER BY id COLLATE "C"'


def signed64(bits: int) -> int:
    """64 unsigned bits as PostgreSQL's signed bigint holds them."""
    bits &= _MASK64
    return bits - (1 << 64) if bits >= 1 << 63 else bits


@cache
def amenities_of(bits: int) -> list[str]:
    return [a.code for position, a in enumerate(AMENITIES) if bits >> position & 1]


def station_from_row(station_id: str, properties: str, bits: int, lon: float, lat: float,
                     version: int, station_digest: str) -> StoredStation:
    values = orjson.loads(properties)
    record: Record = {name: values.get(name, "") for name in TEXT_FIELDS}
    record["amenities"] = list(amenities_of(bits))
    record["lon"], record["lat"] = lon, lat
    return StoredStation(record, version, station_digest)


def station_row(station: StoredStation) -> tuple[object, ...]:
    """Values for the stations table, in :data:`INSERT_STATION` order."""
    record = station.record
    return (station.id, properties_json(record).decode(), list(record["amenities"]),  # type: ignore[call-overload]
            amenity_bits(record), record["lon"], record["lat"], station.version, station.digest)


INSERT_STATION = (
    "INSERT INTO stations (id, properties, amenities, amenity_bits, geom, version, digest) "
    "VALUES (%s, %s::json, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s) "
    "ON CONFLICT (id) DO UPDATE SET properties = EXCLUDED.properties, "
    "amenities = EXCLUDED.amenities, "
    "amenity_bits = EXCLUDED.amenity_bits, geom = EXCLUDED.geom, version = EXCLUDED.version, "
    "digest = EXCLUDED.digest")


def migrate_schema(url: str) -> list[str]:
    """Apply the migrations this database lacks; the ids applied."""
    from yoyo import get_backend, read_migrations

    backend = get_backend("postgresql+psycopg" + url[url.index("://"):])
    try:
        migrations = read_migrations(str(MIGRATIONS))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    return [m.id for m in pending]


class PostGISStore:
    """:class:`~stations.store.base.StationStore` in a PostgreSQL/PostGIS database."""

    def __init__(self, url: str, *, pool_size: int = 16, migrate: bool = True) -> None:
        """Open a pool on ``url``; ``migrate`` applies pending migrations first, otherwise a
        database that lacks one is refused with a message saying how to migrate it."""
        self.url = url
        try:
            if migrate:
                migrate_schema(url)
            self.pool = psycopg_pool.ConnectionPool(
                url, min_size=1, max_size=pool_size, timeout=POOL_TIMEOUT_S,
                kwargs={"autocommit": True}, open=True, name="stations")
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"cannot use the station database: {exc}") from exc
        if not migrate:
            self._check_schema()

    def _check_schema(self) -> None:
        wanted = {p.stem for p in MIGRATIONS.glob("*.sql") if not p.stem.endswith(".rollback")}
        try:
            with self._transaction(read_only=True) as conn:
                applied = {r[0] for r in conn.execute("SELECT migration_id FROM _yoyo_migration")}
        except psycopg.errors.UndefinedTable:
            applied = set()
        if wanted - applied:
            self.close()
            raise StoreUnavailable("the station database lacks migrations "
                                   f"{', '.join(sorted(wanted - applied))}: run "
                                   "stations migrate --to <its URL>")

    @contextlib.contextmanager
    def _transaction(self, read_only: bool = False) -> Iterator[psycopg.Connection]:
        try:
            with self.pool.connection() as conn, conn.transaction():
                if read_only:
                    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield conn
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"the station database is unavailable: {exc}") from exc

    # ----- reading -------------------------------------------------------------------------

    @staticmethod
    def _stations(conn: psycopg.Connection, ids: Sequence[str] | None = None,
                  lock: bool = False, scope: Scope | None = None) -> list[StoredStation]:
        query = f"SELECT {_STATION_COLUMNS} FROM stations"
        params: list[object] = []
        if ids is not None:
            query += " WHERE id = ANY(%s)"
            params.append(list(ids))
        elif scope is not None:
            conditions, params = scope.where(lambda name: f"(properties ->> '{name}')", "%s")
            query += f" WHERE {conditions}"
        query += f" {BY_ID}" + (" FOR UPDATE" if lock else "")
        rows = conn.execute(query, params).fetchall()
        return [station_from_row(*row) for row in rows]

    @staticmethod
    def _state(conn: psycopg.Connection) -> tuple[int, str]:
        sequence, bits = conn.execute("SELECT sequence, version_bits FROM store_state"
                                      ).fetchone()  # type: ignore[misc]
        return int(sequence), version_of(int(bits))

    def snapshot(self) -> Snapshot:
        with self._transaction(read_only=True) as conn:
            sequence, version = self._state(conn)
            stations = self._stations(conn)
        return Snapshot(stations, version, sequence)

    def service_chunks(self) -> tuple[list[StationChunk], str, int]:
        """All stations as index-ready column chunks, data_version and sequence, read in one
        transaction: the replica's full load.

        The properties JSON is sent as stored, and PostgreSQL parses it once per row
        (``json_to_record``: seven ``->>`` would parse it seven times, most of the load's
        cost) to hand over the filter columns.  Rows stream in binary, in chunks of
        :data:`CHUNK_ROWS` (libpq's chunked mode: no server cursor and no round trip per
        chunk), and each chunk is turned into columns at once, so Python decodes no JSON and
        keeps no row objects."""
        names = CHUNK_TEXT_FIELDS[1:]
        fields = ", ".join(f"{name} text" for name in names)
        texts = ", ".join(f"coalesce(p.{name}, '')" for name in names)
        chunks = []
        with self._transaction(read_only=True) as conn:
            sequence, version = self._state(conn)
            rows = conn.cursor(binary=True).stream(
                f"SELECT id, to_json(id)::text, properties::text, amenity_bits, ST_X(geom), "
                f"ST_Y(geom), {texts} FROM stations, json_to_record(properties) AS p({fields}) "
                f"{BY_ID}", size=CHUNK_ROWS)
            while part := list(itertools.islice(rows, CHUNK_ROWS)):
                ids, id_json, props, bits, lon, lat, *columns = zip(*part, strict=True)
                chunks.append(StationChunk(
                    dict(zip(CHUNK_TEXT_FIELDS, (ids, *columns), strict=True)),
                    tuple(i.encode() for i in id_json), tuple(p.encode() for p in props),
                    bits, np.array(lon, dtype=np.float64), np.array(lat, dtype=np.float64)))
        return chunks, version, sequence

    def get(self, station_id: str) -> StoredStation:
        with self._transaction(read_only=True) as conn:
            found = self._stations(conn, [station_id])
        if not found:
            raise StationNotFound(f"no station has id {station_id!r}")
        return found[0]

    def stations_in(self, scope: Scope) -> list[StoredStation]:
        with self._transaction(read_only=True) as conn:
            return self._stations(conn, scope=scope)

    def changes_since(self, sequence: int) -> Changes:
        """One statement (its own snapshot, so state and stations agree) and one round trip:
        replicas call this after every burst of commits, often while busy serving."""
        try:
            with self.pool.connection() as conn:
                rows = conn.execute(
                    f"WITH state AS (SELECT sequence, version_bits FROM store_state), "
                    f"changed AS (SELECT DISTINCT station_id FROM history_stations "
                    f"WHERE history_id > %s) "
                    f"SELECT state.sequence, state.version_bits, changed.station_id, "
                    f"{_STATION_COLUMNS} "
                    f"FROM state LEFT JOIN changed ON true "
                    f"LEFT JOIN stations ON stations.id = changed.station_id "
                    f"ORDER BY changed.station_id COLLATE \"C\"", (sequence,)).fetchall()
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise StoreUnavailable(f"the station database is unavailable: {exc}") from exc
        now, bits = int(rows[0][0]), int(rows[0][1])
        upserted = [station_from_row(*row[3:]) for row in rows if row[3] is not None]
        deleted = [row[2] for row in rows if row[2] is not None and row[3] is None]
        return Changes(upserted, deleted, version_of(bits), now)

    # ----- writing -------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change], *, who: str, action: str, at: dt.datetime,
              note: str = "", scope: Scope | None = None, revert_of: int | None = None
              ) -> HistoryEntry:
        try:
            with self._transaction() as conn:
                ids = sorted({c.station_id for c in changes})
                current = {s.id: s for s in self._stations(conn, ids, lock=True)}
                plan = plan_changes(changes, current, scope)
                if not plan.changes:
                    return HistoryEntry(0, iso(at), who, action, note, [], revert_of)
                with conn.cursor() as cursor:
                    cursor.executemany(INSERT_STATION, [station_row(s) for s in plan.written])
                if plan.deleted:
                    conn.execute("DELETE FROM stations WHERE id = ANY(%s)", (plan.deleted,))
                entry_id = self._record_history(conn, plan.version_xor, at, who, action, note,
                                                revert_of, [c.as_dict() for c in plan.changes])
        except psycopg.errors.UniqueViolation:
            # Two offices created the same new id at once; the other one won.
            station_id = next(c.station_id for c in changes if c.expected_version == 0)
            raise StationExists(f"station {station_id!r} already exists / 编号已被使用",
                                station_id, self.get(station_id).as_dict()) from None
        return HistoryEntry(entry_id, iso(at), who, action, note, plan.changes, revert_of)

    @staticmethod
    def _record_history(conn: psycopg.Connection, version_xor: int, at: dt.datetime, who: str,
                        action: str, note: str, revert_of: int | None,
                        lines: list[dict[str, object]]) -> int:
        """Number the change set (last, see the module docstring), record it and notify."""
        (entry_id,) = conn.execute(
            "UPDATE store_state SET sequence = sequence + 1, version_bits = version_bits # %s "
            "RETURNING sequence", (signed64(version_xor),)).fetchone()  # type: ignore[misc]
        conn.execute("INSERT INTO history (id, at, who, action, note, revert_of, changes) "
                     "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)",
                     (entry_id, at, who, action, note, revert_of,
                      orjson.dumps(lines).decode()))
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO history_stations VALUES (%s, %s)",
                               [(entry_id, line["station_id"]) for line in lines])
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, str(entry_id)))
        return int(entry_id)

    # ----- bulk copy (stations migrate) -----------------------------------------------------

    def load(self, stations: Sequence[StoredStation], history: Sequence[HistoryEntry],
             keys: Sequence[OfficeKey], version_bits: int) -> None:
        """Fill an empty database with stations, history and keys as they were elsewhere."""
        with self._transaction() as conn:
            (count,) = conn.execute("SELECT count(*) FROM stations").fetchone()  # type: ignore[misc]
            if count:
                raise StoreUnavailable(f"the target database already holds {count} stations; "
                                       "migrate into an empty database")
            with conn.cursor().copy(
                    "COPY stations (id, properties, amenities, amenity_bits, geom, version, "
                    "digest) FROM STDIN") as copy:
                for station in stations:
                    row = station_row(station)
                    copy.write_row((*row[:4], f"SRID=4326;POINT({row[4]!r} {row[5]!r})",
                                    *row[6:]))
            for entry in sorted(history, key=lambda e: e.id):
                conn.execute("INSERT INTO history (id, at, who, action, note, revert_of, changes)"
                             " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)",
                             (entry.id, entry.at, entry.who, entry.action, entry.note,
                              entry.revert_of,
                              orjson.dumps([c.as_dict() for c in entry.changes]).decode()))
                with conn.cursor() as cursor:
                    cursor.executemany("INSERT INTO history_stations VALUES (%s, %s)",
                                       [(entry.id, c.station_id) for c in entry.changes])
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO office_keys VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(k.key_id, k.office, k.scope.division, k.scope.province, k.scope.city,
                      k.scope.district, k.created_at, k.revoked_at, k.secret_hash)
                     for k in keys])
            conn.execute("UPDATE store_state SET sequence = %s, version_bits = %s",
                         (max((e.id for e in history), default=0), signed64(version_bits)))
            conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, "load"))

    # ----- history -------------------------------------------------------------------------

    def history(self, station_id: str | None = None, limit: int = 50,
                before: int | None = None) -> list[HistoryEntry]:
        query = f"SELECT {_HISTORY_COLUMNS} FROM history WHERE id < %s"
        params: list[object] = [before if before is not None else 2**62]
        if station_id is not None:
            query += " AND id IN (SELECT history_id FROM history_stations WHERE station_id = %s)"
            params.append(station_id)
        with self._transaction(read_only=True) as conn:
            rows = conn.execute(query + " ORDER BY id DESC LIMIT %s", (*params, limit)).fetchall()
        return [_entry(*row) for row in rows]

    def history_entry(self, entry_id: int) -> HistoryEntry:
        with self._transaction(read_only=True) as conn:
            row = conn.execute(f"SELECT {_HISTORY_COLUMNS} FROM history WHERE id = %s",
                               (entry_id,)).fetchone()
        if row is None:
            raise HistoryNotFound(f"no history entry #{entry_id}")
        return _entry(*row)

    # ----- office keys ---------------------------------------------------------------------

    def create_key(self, office: str, scope: Scope, at: dt.datetime) -> tuple[OfficeKey, str]:
        key_id, secret = new_key_secret()
        key = OfficeKey(key_id, office, scope, iso(at), "", hash_secret(secret))
        with self._transaction() as conn:
            conn.execute("INSERT INTO office_keys VALUES (%s, %s, %s, %s, %s, %s, %s, '', %s)",
                         (key_id, office, scope.division, scope.province, scope.city,
                          scope.district, key.created_at, key.secret_hash))
        return key, secret

    def office_keys(self) -> list[OfficeKey]:
        with self._transaction(read_only=True) as conn:
            rows = conn.execute("SELECT * FROM office_keys ORDER BY created_at, key_id"
                                ).fetchall()
        return [key_from_row(*row) for row in rows]

    def find_key(self, key_id: str) -> OfficeKey | None:
        with self._transaction(read_only=True) as conn:
            row = conn.execute("SELECT * FROM office_keys WHERE key_id = %s", (key_id,)
                               ).fetchone()
        return None if row is None else key_from_row(*row)

    def revoke_key(self, key_id: str, at: dt.datetime) -> OfficeKey:
        with self._transaction() as conn:
            conn.execute("UPDATE office_keys SET revoked_at = %s WHERE key_id = %s "
                         "AND revoked_at = ''", (iso(at), key_id))
            row = conn.execute("SELECT * FROM office_keys WHERE key_id = %s", (key_id,)
                               ).fetchone()
        if row is None:
            raise NotAuthenticated(f"no office key {key_id!r}")
        return key_from_row(*row)

    def listen(self) -> psycopg.Connection:
        """A connection of its own (not from the pool) listening for committed change sets."""
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return conn

    def close(self) -> None:
        self.pool.close()


def _entry(entry_id: int, at: dt.datetime, who: str, action: str, note: str, changes: str,
           revert_of: int | None) -> HistoryEntry:
    return history_entry_from_row(entry_id, iso(at), who, action, note, changes, revert_of)
