"""Problem reports that riders send about a station ("closed at night", "microwave broken", ...).

Riders send them over the API; offices list them and resolve or dismiss them with a note (the
office API, the console, ``stations reports``).  ``ReportStore`` (:mod:`.base`) is implemented
by a SQLite file beside the GeoPackage (:mod:`.sqlite`, embedded) and by the PostGIS station
database (:mod:`.postgis`, every replica sharing reports and budgets); the rules both apply
(bounds, budgets, dedupe) are in :mod:`.model`.  Nothing a rider sends changes station data.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from ..store import StationStore
from .base import ReportStore
from .model import (
    DAY_S,
    DEFAULT_LIMITS,
    HOUR_S,
    MAX_NOTE_CHARS,
    MAX_RESOLUTION_NOTE_CHARS,
    MAX_STATION_ID_CHARS,
    REPORT_KIND_CODES,
    REPORT_KINDS,
    Added,
    Budget,
    Outcome,
    Report,
    ReportDump,
    ReportKind,
    ReportLimits,
    StoredReport,
    clean_note,
    client_groups,
)
from .sqlite import REPORTS_FILE_NAME, SQLiteReportStore, default_reports_path, open_report_counts

__all__ = [
    "DAY_S", "HOUR_S", "MAX_NOTE_CHARS", "MAX_RESOLUTION_NOTE_CHARS", "MAX_STATION_ID_CHARS",
    "REPORTS_FILE_NAME", "REPORT_KINDS", "REPORT_KIND_CODES", "Added", "Budget", "Outcome",
    "Report", "ReportDump", "ReportKind", "ReportLimits", "ReportStore", "SQLiteReportStore",
    "StoredReport", "clean_note", "client_groups", "default_reports_path", "open_report_counts",
    "open_report_store",
]


def open_report_store(station_store: StationStore,
                      sqlite_path: str | os.PathLike[str] | None = None, *,
                      limits: ReportLimits = DEFAULT_LIMITS,
                      clock: Callable[[], float] = time.time) -> ReportStore:
    """The reports that go with a station store: tables of the same database when it is
    PostGIS; beside a GeoPackage, the SQLite file ``sqlite_path`` (default reports.sqlite in
    the GeoPackage's folder)."""
    from ..store.gpkg import GeoPackageStore

    if isinstance(station_store, GeoPackageStore):
        return SQLiteReportStore(sqlite_path or default_reports_path(station_store.path),
                                 limits=limits, clock=clock)
    from .postgis import PostGISReportStore  # psycopg loads only for database deployments

    return PostGISReportStore(station_store.pool, limits=limits, clock=clock)  # type: ignore[attr-defined]
