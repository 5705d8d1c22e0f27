"""Where stations live: one interface, two implementations, with history and office keys.

``StationStore`` (:mod:`.base`) is implemented by the station GeoPackage itself
(:mod:`.gpkg`, embedded, the default) and by PostgreSQL/PostGIS (:mod:`.postgis`, national,
many offices and API replicas).  :func:`open_store` picks one from a path or a database URL.
"""

from __future__ import annotations

import os

from .base import (
    Change,
    Changes,
    HistoryEntry,
    OfficeKey,
    Scope,
    Snapshot,
    StationChange,
    StationStore,
    StoredStation,
)

__all__ = [
    "Change", "Changes", "HistoryEntry", "OfficeKey", "Scope", "Snapshot", "StationChange",
    "StationStore", "StoredStation", "is_database_url", "open_store",
]


def is_database_url(target: str | os.PathLike[str]) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def open_store(target: str | os.PathLike[str], migrate: bool = False) -> StationStore:
    """The store at ``target``: a ``postgresql://`` URL or a GeoPackage path.

    A database is migrated first only when ``migrate`` is true (``stations migrate``);
    otherwise one whose schema is behind is refused with a message saying so.
    """
    if is_database_url(target):
        from .postgis import PostGISStore  # psycopg loads only for database deployments

        return PostGISStore(str(target), migrate=migrate)
    from .gpkg import GeoPackageStore

    return GeoPackageStore(target)
