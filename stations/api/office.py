"""Offices keep their stations over HTTP: create, edit, close and reopen, history, revert,
and the riders' reports about their own stations.

Every request here carries an office key (``Authorization: Bearer <key>``, made with
``stations keys create``); the key's scope decides which stations it may read and change.
Every write names the version it changes (``If-Match``, the station's ETag) and is applied
by the store as one recorded change set, so a concurrent edit is refused with 412 and the
current station, never overwritten.  Refusals change nothing: 401 without a valid key, 403
outside the key's scope, 404 unknown station, 409 id taken, 412 stale version, 422 bad field,
428 no ``If-Match``.  Reports are resolved or dismissed with a note; who and when are kept, and
a report closed before is answered 409 with it as it stands.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from ..errors import InvalidInput, PreconditionRequired, StationNotFound, StoreUnavailable
from ..hours import CHINA
from ..model import Status
from ..reports import MAX_RESOLUTION_NOTE_CHARS, Outcome
from ..store import Change, OfficeKey, StationStore, StoredStation
from ..store.history import revert
from ..store.keys import authenticate
from .errors import problem_responses
from .reports import report_store

log = logging.getLogger(__name__)
router = APIRouter(tags=["offices"])

Authorization = Annotated[str | None, Header(
    description="`Bearer <office key>` from `stations keys create`")]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", description="the station's ETag (its version) this write is based on")]
StationId = Annotated[str, Path(description="Station id, e.g. NN-001", max_length=200)]
_WRITE_ERRORS = problem_responses(401, 403, 404, 412, 422, 428)
# Status changes an office makes; "reopened" is the word on the console's button.
STATUS_WORDS = {"open": Status.OPEN, "reopened": Status.OPEN,
                "temporarily_closed": Status.TEMPORARILY_CLOSED, "closed": Status.CLOSED}


def station_store(request: Request) -> StationStore:
    return request.app.state.store  # type: ignore[no-any-return]


def _office(request: Request, authorization: str | None) -> OfficeKey:
    scheme, _, secret = (authorization or "").partition(" ")
    return authenticate(station_store(request),
                        secret.strip() if scheme.lower() == "bearer" else None)


def _who(key: OfficeKey) -> str:
    return f"{key.office} ({key.key_id})"


def now(request: Request) -> dt.datetime:
    """The moment of a write: the app's injected clock (naive means Shanghai time), or now."""
    clock = getattr(request.app.state, "clock", None)
    if clock is None:
        return dt.datetime.now(dt.UTC)
    moment = clock()
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def station_etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int:
    """The version an ``If-Match`` names (``"3"``, ``W/"3"`` or ``3``); 428 when absent."""
    if value is None or not value.strip():
        raise PreconditionRequired("If-Match is required: send the station's ETag (its "
                                   "version) / 修改需附带版本号 If-Match")
    text = value.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise InvalidInput("If-Match", "must be a station version such as \"3\"",
                           "int_parsing", value)
    return int(text)


def _station_response(station: StoredStation, status_code: int = 200) -> JSONResponse:
    return JSONResponse(station.as_dict(), status_code=status_code,
                        headers={"ETag": station_etag(station.version),
                                 "Cache-Control": "no-store"})


def after_write(request: Request, entry: int | None = None) -> None:
    """Serve the change at once from this process (other replicas follow by notification);
    ``entry``, the history number written, lets a replica wait for its follower's next refresh
    instead of refreshing once per write."""
    live = request.app.state.live
    try:
        if entry is None:
            live.check_now()
        else:
            live.serve_entry(entry)
    except StoreUnavailable:
        log.warning("change saved, but this replica could not fetch it yet; it will on the "
                    "next notification")


def _write(request: Request, key: OfficeKey, change: Change, action: str, note: str = ""
           ) -> JSONResponse:
    """Apply one change; the answer carries the station now and, in ``X-History-Id``, the
    history entry (replicas serve the change once their ``/health`` sequence reaches it)."""
    store = station_store(request)
    entry = store.apply([change], who=_who(key), action=action, at=now(request), note=note,
                        scope=key.scope)
    after_write(request, entry.id)
    response = _station_response(store.get(change.station_id),
                                 201 if action == "create" else 200)
    response.headers["X-History-Id"] = str(entry.id)
    return response


def _body_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The station fields of a body; a ``version`` echoed back from a GET is ignored."""
    return {name: value for name, value in body.items() if name != "version"}


@router.get("/office", summary="The office this key belongs to",
            responses=problem_responses(401))
def office(request: Request, authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    return JSONResponse({"key_id": key.key_id, "office": key.office,
                         "scope": key.scope.as_dict()}, headers={"Cache-Control": "no-store"})


@router.get("/office/stations", summary="The office's stations, with versions",
            responses=problem_responses(401))
def office_stations(request: Request, authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    stations = station_store(request).stations_in(key.scope)
    return JSONResponse({"stations": [s.as_dict() for s in stations]},
                        headers={"Cache-Control": "no-store"})


@router.get("/office/stations/{station_id}", summary="One of the office's stations",
            responses=problem_responses(401, 403, 404))
def office_station(request: Request, station_id: StationId,
                   authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    station = station_store(request).get(station_id)
    key.scope.check(station.record)
    return _station_response(station)


@router.post("/stations", status_code=201, summary="Add a station",
             responses={**problem_responses(401, 403, 422),
                        409: {"description": "A station with this id exists; body has it"}})
def create_station(request: Request, body: Annotated[dict[str, Any], Body()],
                   authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    fields = _body_fields(body)
    station_id = fields.get("id")
    if not isinstance(station_id, str) or not station_id.strip():
        raise InvalidInput("id", "is required and must be text", "missing", station_id)
    response = _write(request, key, Change(station_id.strip(), fields, expected_version=0),
                      "create")
    response.headers["Location"] = f"/stations/{station_id.strip()}"
    return response


@router.patch("/stations/{station_id}", summary="Change some fields of a station",
              responses=_WRITE_ERRORS)
def patch_station(request: Request, station_id: StationId,
                  body: Annotated[dict[str, Any], Body()], if_match: IfMatch = None,
                  authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    expected = parse_if_match(if_match)
    current = station_store(request).get(station_id)
    after = {**current.record, **_body_fields(body)}
    return _write(request, key, Change(station_id, after, expected), "update")


@router.post("/stations/{station_id}/status", summary="Close, temporarily close or reopen",
             responses=_WRITE_ERRORS)
def set_status(request: Request, station_id: StationId,
               status: Annotated[str, Body(embed=True, description="open, reopened, "
                                           "temporarily_closed or closed")],
               note: Annotated[str, Body(embed=True, max_length=500)] = "",
               if_match: IfMatch = None, authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    expected = parse_if_match(if_match)
    if status not in STATUS_WORDS:
        raise InvalidInput("status", "must be one of " + ", ".join(STATUS_WORDS), "enum",
                           status)
    current = station_store(request).get(station_id)
    after = {**current.record, "status": STATUS_WORDS[status].value}
    return _write(request, key, Change(station_id, after, expected), "status", note)


@router.get("/stations/{station_id}/history", summary="A station's change history",
            responses=problem_responses(401, 403, 404))
def station_history(request: Request, station_id: StationId,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    before: Annotated[int | None, Query(ge=1)] = None,
                    authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    store = station_store(request)
    entries = store.history(station_id, limit, before)
    try:
        key.scope.check(store.get(station_id).record)
    except StationNotFound:
        if not entries:
            raise
        key.scope.check(entries[0].changes[0].before)
    return JSONResponse({"entries": [e.as_dict() for e in entries]},
                        headers={"Cache-Control": "no-store"})


@router.post("/history/{entry_id}/revert", summary="Undo a change set",
             responses={**problem_responses(401, 403, 404, 412)})
def revert_entry(request: Request, entry_id: Annotated[int, Path(ge=1)],
                 note: Annotated[str, Body(embed=True, max_length=500)] = "",
                 authorization: Authorization = None) -> JSONResponse:
    key = _office(request, authorization)
    entry = revert(station_store(request), entry_id, who=_who(key), at=now(request),
                   scope=key.scope, note=note)
    after_write(request, entry.id)
    return JSONResponse(entry.as_dict(), headers={"Cache-Control": "no-store"})


@router.get("/office/reports", summary="Riders' reports about the office's stations",
            responses=problem_responses(401, 403, 404))
def office_reports(request: Request, authorization: Authorization = None,
                   include_resolved: bool = False,
                   station: Annotated[str | None, Query(
                       max_length=200, description="only reports about this station")] = None
                   ) -> JSONResponse:
    """Newest first; open ones only unless ``include_resolved``."""
    key = _office(request, authorization)
    if station is None:
        mine = [s.id for s in station_store(request).stations_in(key.scope)]
    else:
        key.scope.check(station_store(request).get(station).record)
        mine = [station]
    reports = report_store(request).reports(include_resolved=include_resolved, station_ids=mine)
    return JSONResponse({"reports": [r.as_dict() for r in reversed(reports)]},
                        headers={"Cache-Control": "no-store"})


ResolutionNote = Annotated[str, Body(
    embed=True, max_length=MAX_RESOLUTION_NOTE_CHARS,
    description="what the office did, or why the report is dismissed / 处理说明")]
_CLOSE_ERRORS = {**problem_responses(401, 403, 404, 422),
                 409: {"description": "Already resolved or dismissed; `report` is it as it is"}}


# The last path segment: what the office decided.
CLOSE_ACTIONS = {"resolve": Outcome.RESOLVED, "dismiss": Outcome.DISMISSED}


@router.post("/office/reports/{report_id}/{action}",
             summary="Resolve (dealt with) or dismiss (not a real problem) a report, with a note",
             responses=_CLOSE_ERRORS)
def close_report(request: Request, report_id: Annotated[int, Path(ge=1)],
                 action: Annotated[Literal["resolve", "dismiss"], Path(
                     description="resolve: the problem was dealt with; dismiss: it was not "
                     "a real problem")],
                 note: ResolutionNote = "", authorization: Authorization = None
                 ) -> JSONResponse:
    """Who (the key's office) and when are recorded with the note."""
    return _close_report(request, authorization, report_id, CLOSE_ACTIONS[action], note)


def _close_report(request: Request, authorization: str | None, report_id: int,
                  outcome: Outcome, note: str) -> JSONResponse:
    """Close a report on one of the office's stations (403 for another office's)."""
    key = _office(request, authorization)
    reports = report_store(request)
    report = reports.get(report_id)
    key.scope.check(station_store(request).get(report.station_id).record)
    closed = reports.resolve(report_id, who=_who(key), note=note, outcome=outcome)
    return JSONResponse(closed.as_dict(), headers={"Cache-Control": "no-store"})
