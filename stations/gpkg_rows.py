"""Stream the station layer out of a GeoPackage with the standard library's sqlite3.

The API server reads the GeoPackage at start-up and on every rebuild.  A GeoPackage is an
SQLite database with a documented geometry encoding, so the server reads it with ``sqlite3``
instead of GDAL: loading GDAL alone costs about 150 MB of resident memory, which would take
half of the server's budget for 200,000 stations.  The checks match
:func:`stations.geodata.read_stations`: the station schema must be present and the number of
rows must equal the ``station_count`` that the build recorded, so a half-written file is
refused.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson

from .errors import DataFileError
from .model import AMENITY_COLUMNS, BUILD_INFO_TABLE, STATIONS_LAYER, TEXT_FIELDS

CHUNK_ROWS = 8192
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_WKB_POINT_TYPES = {1, 1001, 2001, 3001}
# "GP", version, flags, srs id (8 bytes), then WKB: byte order, type, x, y (21 bytes).
_PLAIN_POINT_BYTES = 29



@dataclass(frozen=True, slots=True)
class StationChunk:
    """A run of stations, column by column.

    ``text`` holds the text columns asked for; ``properties_json`` is each station's text
    fields (all of :data:`TEXT_FIELDS`) as one UTF-8 JSON object and ``id_json`` its id as a
    JSON string, both encoded by SQLite itself, which is faster than building them in Python.
    """

    text: dict[str, tuple[str, ...]]
    id_json: tuple[bytes, ...]
    properties_json: tuple[bytes, ...]
    amenity_bits: tuple[int, ...]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]


def point_from_gpkg_blob(blob: bytes) -> tuple[float, float]:
    """(x, y) of a GeoPackage point geometry blob (header, optional envelope, WKB point)."""
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry")
    flags = blob[3]
    if flags & 0b10000:
        raise ValueError("empty geometry")
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise ValueError("invalid envelope code")
    start = 8 + envelope
    order = "<" if blob[start] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", blob, start + 1)
    if kind not in _WKB_POINT_TYPES:
        raise ValueError(f"geometry type {kind} is not a point")
    x, y = struct.unpack_from(order + "dd", blob, start + 5)
    return x, y


def require_geopackage(path: str | os.PathLike[str]) -> Path:
    """``path`` when it names a file; DataFileError saying whether it is missing or a folder."""
    found = Path(path)
    if found.is_dir():
        raise DataFileError(f"{path}: is a folder, not a GeoPackage file (这是文件夹，不是文件); "
                            "name the .gpkg file itself")
    if not found.is_file():
        raise DataFileError(f"{path}: no such GeoPackage (找不到该文件)")
    return found


def _connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    require_geopackage(path)
    try:
        connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise DataFileError(f"{path}: not a GeoPackage: {exc}") from exc
    return connection


def read_station_chunks(path: str | os.PathLike[str], text_columns: Sequence[str] = ("id",)
                        ) -> tuple[dict[str, str], Iterator[StationChunk]]:
    """The ``build_info`` table and an iterator over the stations, in chunks, in id order.

    Problems found while iterating (a truncated file, a bad geometry, fewer rows than
    ``build_info`` promises) raise :class:`DataFileError` from the iterator.
    """
    connection = _connect(path)
    try:
        info = dict(connection.execute(
            f'SELECT "key", "value" FROM "{BUILD_INFO_TABLE}"').fetchall())
        geometry = connection.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
            (STATIONS_LAYER,)).fetchone()
        columns = {row[1] for row in connection.execute(f'PRAGMA table_info("{STATIONS_LAYER}")')}
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise DataFileError(f"{path}: not a station GeoPackage: {exc}") from exc
    missing = [c for c in (*TEXT_FIELDS, *AMENITY_COLUMNS) if c not in columns]
    if geometry is None or missing:
        connection.close()
        raise DataFileError(f"{path}: layer {STATIONS_LAYER!r} lacks columns "
                            f"{missing or ['geometry']}")
    chunks = _chunks(connection, path, geometry[0], info, tuple(text_columns))
    return {str(k): str(v) for k, v in info.items()}, chunks


def check_stations(path: str | os.PathLike[str], ids: Sequence[str],
                   lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> None:
    """What a build guarantees, checked again on a file about to be served (it may have been
    edited since): every station has an id, ids are unique, positions are finite degrees on
    the globe.  Raises :class:`DataFileError` naming the first station at fault."""
    bad = np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180)
                           & (np.abs(lat) <= 90)))
    if bad.size:
        row = int(bad[0])
        raise DataFileError(f"{path}: station {ids[row]!r} has no valid position "
                            f"(lon {lon[row]}, lat {lat[row]}; WGS84 degrees expected)")
    if not all(ids):
        raise DataFileError(f"{path}: a station has no id (row {list(ids).index('') + 1})")
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        repeated = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise DataFileError(f"{path}: station id {repeated!r} is used more than once")


def points_from_gpkg_blobs(blobs: Sequence[bytes]) -> tuple[npt.NDArray[np.float64],
                                                           npt.NDArray[np.float64]]:
    """Decode many point blobs; the common layout (no envelope, little-endian 2D point) is
    decoded with one numpy view, anything else blob by blob."""
    if blobs and all(len(b) == _PLAIN_POINT_BYTES for b in blobs):
        raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(-1, _PLAIN_POINT_BYTES)
        plain = ((raw[:, 0] == ord("G")) & (raw[:, 1] == ord("P")) & (raw[:, 3] == 1)
                 & (raw[:, 8] == 1) & (raw[:, 9] == 1) & (raw[:, 10:13] == 0).all(axis=1))
        if plain.all():
            xy = raw[:, 13:].copy().view("<f8")
            return xy[:, 0].astype(np.float64), xy[:, 1].astype(np.float64)
    points = np.array([point_from_gpkg_blob(b) for b in blobs], dtype=np.float64).reshape(-1, 2)
    return points[:, 0].copy(), points[:, 1].copy()


def _chunks(connection: sqlite3.Connection, path: str | os.PathLike[str], geometry: str,
            info: dict[str, str], text_columns: tuple[str, ...]) -> Iterator[StationChunk]:
    """Stations in runs of :data:`CHUNK_ROWS`, each run fetched as ONE row of aggregates.

    sqlite3 lets go of the GIL for every row it steps to.  On a busy server the event loop
    then takes the GIL and keeps it for up to the switch interval (5 ms), so reading 20,000
    stations row by row took minutes while the server was saturated.  SQLite folds each run
    into a few long values instead (JSON arrays, a hex string of the geometries, properties
    separated by a record separator, which JSON text never holds unescaped): one step per run.
    """
    def text(field: str) -> str:
        return f'coalesce(CAST("{field}" AS TEXT), \'\')'

    properties = ", ".join(f"'{f}', {text(f)}" for f in TEXT_FIELDS)
    # Amenity booleans folded into one integer of bits by SQLite itself.
    # (SQLite gives << and | the same precedence, hence the brackets round each term.)
    bits = " | ".join(f'((coalesce("{c}", 0) != 0) << {i})'
                      for i, c in enumerate(AMENITY_COLUMNS))
    # Table order (rowid): the build writes stations sorted by id.
    inner = (f'SELECT rowid AS r, json_quote({text("id")}) AS i, json_object({properties}) AS p, '
             f'{bits} AS b, "{geometry}" AS g'
             + "".join(f", {text(c)} AS t{n}" for n, c in enumerate(text_columns))
             + f' FROM "{STATIONS_LAYER}" WHERE rowid > ? ORDER BY rowid LIMIT {CHUNK_ROWS}')
    query = ("SELECT count(*), json_group_array(r), group_concat(i, char(30)), "
             "group_concat(p, char(30)), json_group_array(b), group_concat(hex(g), ''), "
             "json_group_array(length(g))"
             + "".join(f", json_group_array(t{n})" for n in range(len(text_columns)))
             + f" FROM ({inner})")
    count = 0
    last_rowid = -(2**63)
    try:
        while True:
            rows, rowids, ids, props, amenity_bits, geometry_hex, sizes, *columns = \
                connection.execute(query, (last_rowid,)).fetchone()
            if not rows:
                break
            order = orjson.loads(rowids)
            if order != sorted(order):
                raise DataFileError(f"{path}: SQLite returned the stations out of order")
            last_rowid = order[-1]
            lon, lat = _points(path, bytes.fromhex(geometry_hex or ""), orjson.loads(sizes))
            yield StationChunk({c: tuple(orjson.loads(v)) for c, v in zip(
                text_columns, columns, strict=True)},
                tuple(ids.encode().split(b"\x1e")), tuple(props.encode().split(b"\x1e")),
                tuple(orjson.loads(amenity_bits)), lon, lat)
            count += rows
    except sqlite3.DatabaseError as exc:
        raise DataFileError(f"{path}: cannot read layer {STATIONS_LAYER!r}: {exc}") from exc
    finally:
        connection.close()
    if str(info.get("station_count")) != str(count):
        raise DataFileError(f"{path}: holds {count} stations but its build_info says "
                            f"{info.get('station_count')}; the file is incomplete")


def _points(path: str | os.PathLike[str], blobs: bytes, sizes: list[int | None]
            ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Coordinates from the run's geometry blobs, laid end to end."""
    if None in sizes:
        raise DataFileError(f"{path}: a station has no geometry")
    ends = np.cumsum(sizes)
    try:
        lon, lat = points_from_gpkg_blobs([blobs[end - size:end]
                                           for end, size in zip(ends.tolist(), sizes, strict=True)])
    except (ValueError, TypeError, IndexError, struct.error) as exc:
        raise DataFileError(f"{path}: a station has no valid point: {exc}") from None
    return lon, lat
