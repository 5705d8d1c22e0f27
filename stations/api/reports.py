"""``POST /stations/{id}/reports``: a rider reports a problem with a station.

Any web page can make its visitors' browsers send a POST, so the endpoint takes only
``Content-Type: application/json`` (415 otherwise: a form or ``text/plain`` body needs no CORS
preflight) and refuses a browser's ``Origin`` from another site (403); the rider page on the
same origin, origins listed in ``report_origins`` and clients that send no ``Origin`` (apps,
curl) are accepted.  The body is read with a size cap before it is parsed, and the report is
checked, deduplicated and budgeted by the deployment's :class:`~stations.reports.ReportStore`
(a SQLite file beside the GeoPackage, or the PostGIS database every replica shares) on a small
thread pool of its own: the store waits for another writer's lock there, never on the event
loop, and gives up after the busy timeout with 503 and ``Retry-After``.

Answers: 201 with the stored report, 200 with the open report that already says the same,
403, 404 for an unknown station, 413, 415, 422 naming the bad field, 429 with
``retry_after_s`` when a budget is spent, 503 when the file is busy or full.  Clients are told
apart by ``request.client``: behind a proxy, run uvicorn with ``--proxy-headers`` so that it is
the rider's address and not the proxy's.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import CrossSiteRequest, StationNotFound, UnsupportedMediaType
from ..reports import (
    MAX_NOTE_CHARS,
    MAX_STATION_ID_CHARS,
    REPORT_KIND_CODES,
    Added,
    ReportStore,
    open_report_store,
)
from .errors import problem_responses
from .http import JSON, read_capped_body
from .nearest import live_stations

MAX_BODY_BYTES = 4096
# Threads that may wait for the report file at once; the rest queue without blocking anything.
REPORT_WRITERS = 4
DEFAULT_PORTS = {"http": 80, "https": 443}

# Literal of the codes (not an Enum): its schema is inline, with no $ref the OpenAPI document
# would have to resolve.
ReportKindCode = Literal[REPORT_KIND_CODES]  # type: ignore[valid-type]


class ReportIn(BaseModel):
    """What the page sends: a kind and an optional short note."""

    model_config = ConfigDict(extra="forbid")
    kind: ReportKindCode
    note: str = Field("", max_length=MAX_NOTE_CHARS)


router = APIRouter(tags=["problem reports"])


@router.post(
    "/stations/{station_id}/reports",
    status_code=201,
    summary="Report a problem with a station",
    response_class=JSONResponse,
    responses={200: {"description": "An open report already says this; it is returned"},
               **problem_responses(404, 413, 415, 422, 429, 503),
               403: {"description": "Sent from another site's page (its Origin header)"}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": ReportIn.model_json_schema()}}}},
)
async def create_report(
    station_id: Annotated[str, Path(max_length=MAX_STATION_ID_CHARS)], request: Request
) -> JSONResponse:
    """Store a problem report about a station; it never changes the station itself."""
    check_same_site(request, request.app.state.settings.report_origins)
    check_json(request)
    if station_id not in live_stations(request).current.position_of:
        raise StationNotFound(f"no station has id {station_id!r}")
    body = await read_capped_body(request, MAX_BODY_BYTES)
    try:
        report_in = ReportIn.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors(include_url=False)]
        ) from None
    client = request.client.host if request.client else "unknown"
    added = await _write(request, station_id, report_in.kind, report_in.note, client)
    return JSONResponse(added.report.as_dict(), status_code=201 if added.new else 200)


def check_json(request: Request) -> None:
    """Refuse bodies that are not declared JSON (415)."""
    declared = request.headers.get("content-type", "")
    if declared.partition(";")[0].strip().lower() != JSON:
        raise UnsupportedMediaType(
            f"Content-Type: send the report as {JSON}, not {declared[:80]!r}")


def check_same_site(request: Request, allowed: list[str]) -> None:
    """Refuse (403) a browser request from a page of another origin.

    Browsers send ``Origin`` with every cross-origin POST; it must be the API's own origin
    (scheme, host and port as the client reached it, after the proxy headers) or listed.
    """
    origin = request.headers.get("origin")
    if origin is None or origin in allowed:
        return
    sender = _origin_key(origin)
    if sender is None or sender != _origin_key(
            f"{request.url.scheme}://{request.headers.get('host', '')}"):
        raise CrossSiteRequest(
            f"Origin: pages of {origin[:100]!r} may not send problem reports to this server")


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """Scheme, lower-case host and port (the scheme's default if none); None if malformed."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname, port


async def _write(request: Request, station_id: str, kind: str, note: str, client: str) -> Added:
    """Add the report on the report threads: the event loop never waits for SQLite."""
    state = request.app.state
    if getattr(state, "report_pool", None) is None:
        state.report_pool = ThreadPoolExecutor(REPORT_WRITERS, thread_name_prefix="reports")
    pool: ThreadPoolExecutor = state.report_pool
    loop = asyncio.get_running_loop()
    store = await loop.run_in_executor(pool, report_store, request)
    return await loop.run_in_executor(
        pool, partial(store.add, station_id, kind, note, client=client))


def report_store(request: Request) -> ReportStore:
    """The app's report store, opened on first use: the station database's report tables with
    ``--database``, otherwise the SQLite file of settings ``reports`` or the one beside the data.

    Opening a file writes its schema, so call it off the event loop (a thread, or a ``def``
    route).
    """
    state = request.app.state
    store: ReportStore | None = getattr(state, "report_store", None)
    if store is None:
        settings = state.settings
        store = open_report_store(state.store, settings.reports,
                                  limits=settings.report_limits())
        state.report_store = store
    return store
