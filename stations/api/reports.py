"""``POST /stations/{id}/reports``: a rider reports a problem with a station.

The request body is read with a size cap before it is parsed, the report is checked and
rate-limited by :class:`~stations.reports.ReportStore`, and the answer is JSON in every case:
201 with the stored report, 404 for an unknown station, 413 for an oversized body, 422 naming
the bad field, 429 with ``retry_after_s`` when the client sent too many, 503 when the store is
full.  Clients are told apart by ``request.client``: behind a proxy, run uvicorn with
``--proxy-headers`` so that it is the rider's address and not the proxy's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ReportRateLimited, ReportRejected, StationNotFound
from ..reports import (
    MAX_NOTE_CHARS,
    MAX_STATION_ID_CHARS,
    REPORT_KIND_CODES,
    ReportStore,
    default_reports_path,
)
from .errors import problem_responses
from .http import read_capped_body
from .nearest import live_stations

MAX_BODY_BYTES = 4096

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
    responses={**problem_responses(404, 413, 422),
               429: {"description": "Too many reports from this client; see retry_after_s"}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": ReportIn.model_json_schema()}}}},
)
async def create_report(
    station_id: Annotated[str, Path(max_length=MAX_STATION_ID_CHARS)], request: Request
) -> JSONResponse:
    """Store a problem report about a station; it never changes the station itself."""
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
    try:
        report = report_store(request).add(station_id, report_in.kind, report_in.note,
                                           client=client)
    except ReportRateLimited as exc:
        return JSONResponse({"detail": str(exc), "retry_after_s": exc.retry_after_s},
                            status_code=429, headers={"Retry-After": str(exc.retry_after_s)})
    except ReportRejected as exc:
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return JSONResponse(report.as_dict(), status_code=201)


def report_store(request: Request) -> ReportStore:
    """The app's report file, opened on first use (settings ``reports``, or beside the data)."""
    state = request.app.state
    if getattr(state, "report_store", None) is None:
        settings = state.settings
        state.report_store = ReportStore(settings.reports or default_reports_path(settings.data))
    return state.report_store  # type: ignore[no-any-return]
