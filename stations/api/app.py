"""The web API: ``create_app(settings)`` builds the FastAPI application.

Routers live one per module and are listed once in :data:`ROUTERS`; adding one is a one-line
edit.  The station data is loaded when the app is created (a missing or corrupt GeoPackage
fails right there) and watched for rebuilds while the app runs.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from starlette.types import Receive, Scope, Send
from threadpoolctl import threadpool_limits

from ..console import pages as console
from ..console import upload as console_upload
from ..console.accounts import CONSOLE_FILE_NAME, open_accounts
from ..errors import StationsError
from ..hours import Clock, china_minute, fixed_clock
from ..live import LiveStations
from ..planning.search_counts import SearchCounter
from ..store import open_store
from . import feeds, nearest, office, ogc, reports, stations, web
from .errors import install_error_handlers
from .settings import ApiSettings

ROUTERS = (
    nearest.router,
    stations.router,
    ogc.router,
    feeds.router,
    reports.router,
    office.router,
    web.router,
    console.router,
    console_upload.router,
)

DESCRIPTION = """
Find the nearest trade-union rest station (工会驿站 / 户外劳动者服务站点): drinking water,
microwave, phone and e-bike charging, toilet, air conditioning, legal aid.

* `GET /nearest`: the k nearest stations with distance, bearing, travel time and open now.
  Coordinates in and out in `wgs84`, `gcj02` (Amap/高德) or `bd09` (Baidu).
* `POST /nearest/batch`: the same for many points at once.
* OGC API - Features at `/collections/stations` for QGIS, OWSLib and other GIS clients.
"""


class StationsApi(FastAPI):
    """FastAPI, except that ``fast_path`` answers the requests it handles before any layer."""

    fast_path: nearest.NearestFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is not None and self.fast_path.handles(scope):
            await self.fast_path(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def search_counter(settings: ApiSettings, clock: Clock) -> SearchCounter | None:
    """The opt-in counter of searches per cell and day (None unless turned on)."""
    if not settings.search_counts:
        return None
    path = settings.search_counts_file or settings.data.with_name("searches.sqlite")
    return SearchCounter(path, lambda: clock().date(), flush_s=settings.search_counts_flush_s)


def create_app(settings: ApiSettings | None = None, clock: Clock | None = None) -> StationsApi:
    """The application serving ``settings.data``; raises DataFileError if it cannot be read.

    ``clock`` says what "now" is for queries without ``at`` (default: the wall clock, or
    ``settings.clock_at`` when set), so tests choose the moment instead of the hour they run at.
    """
    settings = settings or ApiSettings()
    # Edits, history and sign-in lockouts need seconds: they follow the wall clock unless the
    # caller chose the moment.
    write_clock = clock
    if clock is None:
        clock = china_minute if settings.clock_at is None else fixed_clock(settings.clock_at)
    roads = None
    if settings.roads is not None:
        if settings.database:
            raise StationsError("a road network (--roads) is served with a GeoPackage "
                                "(--data) only, not with --database")
        from ..roads import RoadNetwork  # numba and osmium load only when roads are served

        roads = RoadNetwork.load(settings.roads)
    if settings.database:
        from ..store.replica import StoreStations  # psycopg loads only for a database

        store = open_store(settings.database)
        live: LiveStations | StoreStations = StoreStations(store, clock)  # type: ignore[arg-type]
    else:
        live = LiveStations(settings.data, settings.reload_interval_s, clock, roads)
        store = open_store(settings.data)
    searches = search_counter(settings, clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The event loop's thread answers one point per request; handing that to an OpenMP
        # thread team only adds latency (batches run on other threads and keep their team).
        threadpool_limits(1, user_api="openmp")
        live.start()
        if searches is not None:
            searches.start()
        # A batch body parses into ten thousand small lists, which live long enough to reach
        # the oldest generation and set off a full collection every request or two; with the
        # modules and data loaded so far frozen, such a collection walks only those lists.
        gc.freeze()
        try:
            yield
        finally:
            live.stop()
            store.close()
            if searches is not None:
                searches.stop()

    app = StationsApi(
        title="工会驿站 Worker rest stations API",
        version=version("stations"),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.live = live
    app.state.searches = searches
    app.state.store = store
    app.state.clock = write_clock
    app.state.accounts = open_accounts(store, settings.console_accounts
                                       or settings.data.with_name(CONSOLE_FILE_NAME))
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes)
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                       allow_methods=["GET", "POST", "PATCH", "OPTIONS"], allow_headers=["*"],
                       expose_headers=["ETag", "Location"])
    if roads is None:
        nearest.document_without_roads(app)
    if settings.fast_path:
        app.fast_path = nearest.NearestFastPath(live, settings, searches)
    return app
