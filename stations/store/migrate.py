"""Move a deployment between stores: GeoPackage to PostGIS and back, history and keys included.

Stations keep their versions and history entries their numbers, so an office's ``If-Match``
and a console's history view stay valid across the move, and ``data_version`` (content only)
is the same on both sides.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .base import StationStore, StoredStation
from .records import digest_bits

ALL_HISTORY = 2**31


def copy_store(source: StationStore, target: StationStore) -> int:
    """Copy everything from ``source`` into an empty ``target``; the number of stations."""
    snapshot = source.snapshot()
    history = source.history(limit=ALL_HISTORY)
    bits = 0
    for station in snapshot.stations:
        bits ^= digest_bits(station.digest)
    target.load(snapshot.stations, history, source.office_keys(), bits)
    return len(snapshot.stations)


def write_geopackage(stations: Sequence[StoredStation], path: str | os.PathLike[str]) -> None:
    """Write station records as a new station GeoPackage (the file a build would write)."""
    from ..geodata import station_frame, write_stations  # GDAL only for this direction
    from ..model import AMENITIES, TEXT_FIELDS

    records = [s.record for s in stations]
    columns: dict[str, object] = {f: [r[f] for r in records] for f in TEXT_FIELDS}
    for amenity in AMENITIES:
        columns[amenity.column] = [amenity.code in r["amenities"] for r in records]  # type: ignore[operator]
    write_stations(station_frame(columns, [r["lon"] for r in records],
                                 [r["lat"] for r in records]), path)
