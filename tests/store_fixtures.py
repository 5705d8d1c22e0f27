"""Stores for the contract tests: stations in a GeoPackage, reports in SQLite and, when
``STATIONS_TEST_DATABASE`` names a PostgreSQL server (``.ci/run`` starts one), in PostGIS."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from conftest import make_sample_frame

from stations.geodata import write_stations
from stations.reports import ReportLimits, ReportStore, SQLiteReportStore
from stations.store import StationStore
from stations.store.gpkg import GeoPackageStore

AT = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
TEST_DATABASE = os.environ.get("STATIONS_TEST_DATABASE", "")
needs_database = pytest.mark.skipif(not TEST_DATABASE,
                                    reason="STATIONS_TEST_DATABASE is not set (.ci/run sets it)")
STORE_KINDS = ["gpkg", pytest.param("postgis", marks=[pytest.mark.postgis, needs_database])]


def fresh_database() -> str:
    """A new, empty database on the test server; its URL."""
    import psycopg

    name = "stations_test_" + uuid.uuid4().hex[:12]
    with psycopg.connect(TEST_DATABASE, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, query = TEST_DATABASE.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def sample_store(kind: str, tmp_path: Path) -> Iterator[StationStore]:
    """The six sample stations in a store of the given kind."""
    gpkg = tmp_path / "stations.gpkg"
    write_stations(make_sample_frame(), gpkg)
    if kind == "gpkg":
        store: StationStore = GeoPackageStore(gpkg)
    else:
        from stations.store.migrate import copy_store
        from stations.store.postgis import PostGISStore

        store = PostGISStore(fresh_database())
        copy_store(GeoPackageStore(gpkg), store)
    try:
        yield store
    finally:
        store.close()



@cache
def report_database() -> str:
    """One migrated database for the report contract tests; each test empties its reports."""
    from stations.store.postgis import migrate_schema

    url = fresh_database()
    migrate_schema(url)
    return url


@contextmanager
def empty_report_store(kind: str, tmp_path: Path, limits: ReportLimits,
                       clock: Callable[[], float]) -> Iterator[ReportStore]:
    """A report store of the given kind with no reports, on ``clock``."""
    if kind == "gpkg":
        yield SQLiteReportStore(tmp_path / "reports.sqlite", limits=limits, clock=clock)
        return
    from stations.reports.postgis import PostGISReportStore
    from stations.store.postgis import PostGISStore

    database = PostGISStore(report_database(), pool_size=12, migrate=False)
    try:
        with database.pool.connection() as conn:
            conn.execute("TRUNCATE reports RESTART IDENTITY")
        yield PostGISReportStore(database.pool, limits=limits, clock=clock)
    finally:
        database.close()
