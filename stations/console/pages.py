"""The console's pages: sign-in, the office's stations, editing, history and reports.

Server-rendered HTML (Jinja2, autoescaped: every text from data is shown as text) that works
without script on any phone browser; one script of this site's own (``console.js``) adds the
maps, and with it the pin that writes into the position fields.  Every form that changes something
carries the session's CSRF token and is refused without it, or from another site's page
(``Origin``).  Writes go through the station store exactly as the office API's do.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from ..api.errors import status_for
from ..api.office import STATUS_WORDS, after_write, now, station_store
from ..api.reports import report_store
from ..api.web import static_assets
from ..crs import CoordinateSystem, to_wgs84
from ..errors import (
    InvalidInput,
    NotAuthenticated,
    OutOfScope,
    StationNotFound,
    StationsError,
    VersionConflict,
)
from ..ingest.hours_zh import normalise_hours
from ..model import AMENITIES, Status
from ..reports import MAX_RESOLUTION_NOTE_CHARS, REPORT_KINDS, Outcome
from ..store import Change, StoredStation
from ..store.history import revert
from . import language
from .accounts import Accounts, SignInLocked, SignInRefused, Staff
from .inbox import group_reports, kind_counts
from .mapping import EDITOR_ZOOM, content_security_policy, in_tile_systems, tile_options

COOKIE = "stations_console"
_SIGN_IN = ("登录", "Sign in")
MAX_FORM_BYTES = 64 * 1024
router = APIRouter(prefix="/console", include_in_schema=False)
_CSP = content_security_policy()
# Templates are read and compiled once, on first use, not on every request.
_env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=True,
                   trim_blocks=True, lstrip_blocks=True)
language.install(_env)
_env.globals.update(AMENITIES=AMENITIES, KINDS={kind.code: kind for kind in REPORT_KINDS},
                    static_url=lambda name: f"/static/{name}?v={static_assets()[name].version}")


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts  # type: ignore[no-any-return]


def _page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A template inside the frame, in the language the member of staff chose."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    values.update(lang=language.language(request),
                  here=here if request.method == "GET" else language.HOME)
    body = _env.get_template(name).render(**values)
    html = _env.get_template("base.html").render(body=Markup(body), **values)
    return HTMLResponse(html, status_code=status, headers={
        "Content-Security-Policy": _CSP, "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def _current(request: Request) -> Staff | None:
    return accounts(request).session(request.cookies.get(COOKIE), now(request))


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("form", f"larger than {MAX_FORM_BYTES} bytes", "too_long", None)
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def _writer(request: Request) -> tuple[Staff, dict[str, str]] | Response:
    """The signed-in staff member and the form, or the refusal page."""
    staff = _current(request)
    if staff is None:
        return RedirectResponse("/console/login", status_code=303)
    form = await _form(request)
    return _forged(request, staff, form) or (staff, form)


def _forged(request: Request, staff: Staff, form: Mapping[str, object]) -> Response | None:
    """The refusal page for a form without the session's CSRF token or from another site."""
    token = form.get("csrf")
    if _same_origin(request) and isinstance(token, str) and hmac.compare_digest(
            token.encode(), staff.csrf.encode()):
        return None
    return _page(request, "message.html", 403, staff=staff, title=("拒绝", "Refused"),
                 message=("表单已过期或来自其他网站，请重新打开页面",
                          "The form is stale or came from another site; open the page again."))


def _who(staff: Staff) -> str:
    return f"{staff.office} / {staff.username}"


@router.get("/login")
def login_page(request: Request) -> Response:
    return _page(request, "login.html", staff=None, title=_SIGN_IN, error="")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    if not _same_origin(request):
        return _page(request, "login.html", 403, staff=None, title=_SIGN_IN,
                     error=("请从本站页面登录", "Sign in from this site's page"))
    try:
        token, _staff = accounts(request).sign_in(form.get("username", ""),
                                                  form.get("password", ""), now(request))
    except SignInLocked as exc:
        page = _page(request, "login.html", 429, staff=None, title=_SIGN_IN, error=str(exc))
        page.headers["Retry-After"] = str(int(exc.retry_after_s) + 1)
        return page
    except SignInRefused as exc:
        return _page(request, "login.html", 401, staff=None, title=_SIGN_IN, error=str(exc))
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=request.url.scheme == "https")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    checked = await _writer(request)
    if isinstance(checked, Response):
        return checked
    accounts(request).sign_out(request.cookies.get(COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.post("/language")
async def switch_language(request: Request) -> Response:
    """Remember the language in a cookie and return to the page the switch was pressed on."""
    form = await _form(request)
    chosen = form.get("lang", "")
    if not _same_origin(request) or chosen not in language.LANGUAGES:
        return _page(request, "message.html", 400, staff=_current(request),
                     title=("语言", "Language"), message=("无法切换语言", "Unknown language"))
    response = RedirectResponse(language.back_path(form.get("back", "")), status_code=303)
    response.set_cookie(language.LANG_COOKIE, chosen, max_age=language.LANG_COOKIE_MAX_AGE_S,
                        httponly=True, samesite="lax", path=language.HOME,
                        secure=request.url.scheme == "https")
    return response


_LIMITS = {"lon": 180.0, "lat": 90.0}


def _coordinate(name: str, text: str, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(name, "must be a number (degrees)", "float_parsing", text) from None
    if not -limit <= value <= limit:
        raise InvalidInput(name, f"must be between -{limit:g} and {limit:g}", "value_error", text)
    return value


@router.get("/position")
def position(request: Request, lon: str = "", lat: str = "", crs: str = "wgs84") -> Response:
    """A position given in ``crs`` (a pin dragged on Amap tiles: ``gcj02``) in each system the
    tiles use, so that the page saves WGS84 and draws on either base map.  Bad input is a 422
    naming the field, through the API's error table."""
    if _current(request) is None:
        raise NotAuthenticated("sign in to the console first / 请先登录")
    x, y = _coordinate("lon", lon, _LIMITS["lon"]), _coordinate("lat", lat, _LIMITS["lat"])
    wgs84 = to_wgs84(x, y, CoordinateSystem.parse(crs))
    return JSONResponse(in_tile_systems(*wgs84)[0], headers={"Cache-Control": "no-store"})


def _matches(station: StoredStation, query: dict[str, str], reports: dict[str, int]) -> bool:
    record = station.record
    text = query.get("q", "").strip()
    if text and text not in f"{station.id} {record.get('name', '')} {record.get('address', '')}":
        return False
    if query.get("status") and record.get("status") != query["status"]:
        return False
    if query.get("amenity") and query["amenity"] not in record.get("amenities", ()):
        return False
    if query.get("hours") == "unknown" and record.get("opening_hours"):
        return False
    return not (query.get("reports") == "open" and not reports.get(station.id))


@router.get("")
def stations_page(request: Request) -> Response:
    staff = _current(request)
    if staff is None:
        return RedirectResponse("/console/login", status_code=303)
    query = dict(request.query_params)
    reports = report_store(request).open_counts()
    mine = station_store(request).stations_in(staff.scope)
    shown = [s for s in mine if _matches(s, query, reports)]
    positions = in_tile_systems([s.record["lon"] for s in shown], [s.record["lat"] for s in shown])
    return _page(request, "stations.html", staff=staff, title=("驿站", "Stations"), stations=shown,
                 total=len(mine), query=query, reports=reports, statuses=list(Status),
                 positions=positions, tiles=tile_options())


def _own_station(request: Request, staff: Staff, station_id: str) -> StoredStation | None:
    try:
        station = station_store(request).get(station_id)
    except StationNotFound:
        return None
    return station if staff.scope.covers(station.record) else None


def _not_yours(request: Request, staff: Staff) -> Response:
    return _page(request, "message.html", 404, staff=staff, title=("没有此驿站", "Not found"),
                 message=("没有此驿站，或不属于本单位", "No such station in your office's area."))


def _station_page(request: Request, staff: Staff, station: StoredStation, status: int = 200,
                  **extra: Any) -> Response:
    history = station_store(request).history(station.id, limit=20)
    reports = report_store(request).reports(station_id=station.id)
    position = in_tile_systems(station.record["lon"], station.record["lat"])[0]
    return _page(request, "station.html", status, staff=staff, title=str(station.record["name"]),
                 station=station, record=station.record, history=history,
                 reports=reports[::-1], statuses=list(Status), position=position,
                 tiles=tile_options(), zoom=EDITOR_ZOOM, **extra)


@router.get("/stations/{station_id}")
def station_page(request: Request, station_id: str) -> Response:
    staff = _current(request)
    if staff is None:
        return RedirectResponse("/console/login", status_code=303)
    station = _own_station(request, staff, station_id)
    if station is None:
        return _not_yours(request, staff)
    return _station_page(request, staff, station, saved=request.query_params.get("saved"))


def _edited(record: dict[str, Any], form: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The record after the form's edits, and a note on how the hours were read."""
    after = dict(record)
    for name in ("name", "name_en", "address", "phone"):
        if name in form:
            after[name] = form[name].strip()
    after["amenities"] = [a.code for a in AMENITIES if form.get(f"amenity_{a.code}")]
    note = ""
    hours = form.get("opening_hours", "").strip()
    parsed = normalise_hours(hours)
    if hours and parsed.osm is None:
        raise InvalidInput("opening_hours", f"{parsed.note_zh} / {parsed.note_en}",
                           "value_error", hours)
    after["opening_hours"] = parsed.osm or ""
    if hours and parsed.osm != hours:
        note = f"{hours} → {parsed.osm}"
    for axis, limit in _LIMITS.items():
        after[axis] = _coordinate(axis, form.get(axis, ""), limit)
    return after, note


def _version(form: dict[str, str]) -> int:
    text = form.get("version", "")
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise InvalidInput("version", "missing; open the station again", "missing", text)
    return int(text)


def _apply(request: Request, staff: Staff, station: StoredStation, after: dict[str, Any],
           expected: int, action: str, note: str = "") -> Response:
    try:
        station_store(request).apply([Change(station.id, after, expected)], who=_who(staff),
                                     action=action, at=now(request), note=note,
                                     scope=staff.scope)
    except VersionConflict as exc:
        return _page(request, "conflict.html", 409, staff=staff, title=("冲突", "Conflict"),
                     station=station, yours=after, current=exc.current or {})
    except (InvalidInput, OutOfScope) as exc:
        return _station_page(request, staff, station, 422, error=str(exc))
    after_write(request)
    return RedirectResponse(f"/console/stations/{quote(station.id)}?saved=1", status_code=303)


async def _station_edit(request: Request, station_id: str, action: str,
                        edit: Callable[[StoredStation, dict[str, str]],
                                       tuple[dict[str, Any], str]]) -> Response:
    """Check the writer and the station, apply ``edit`` to the form, save through the store."""
    checked = await _writer(request)
    if isinstance(checked, Response):
        return checked
    staff, form = checked
    station = _own_station(request, staff, station_id)
    if station is None:
        return _not_yours(request, staff)
    try:
        after, note = edit(station, form)
        expected = _version(form)
    except InvalidInput as exc:
        return _station_page(request, staff, station, 422, error=str(exc))
    return _apply(request, staff, station, after, expected, action, note)


def _status_edit(station: StoredStation, form: dict[str, str]) -> tuple[dict[str, Any], str]:
    word = form.get("status", "")
    if word not in STATUS_WORDS:
        raise InvalidInput("status", "unknown / 状态无效", "enum", word)
    return {**station.record, "status": STATUS_WORDS[word].value}, form.get("note", "")


@router.post("/stations/{station_id}")
async def save_station(request: Request, station_id: str) -> Response:
    return await _station_edit(request, station_id, "update",
                               lambda station, form: _edited(station.record, form))


@router.post("/stations/{station_id}/status")
async def change_status(request: Request, station_id: str) -> Response:
    return await _station_edit(request, station_id, "status", _status_edit)


@router.post("/history/{entry_id}/revert")
async def revert_change(request: Request, entry_id: int) -> Response:
    checked = await _writer(request)
    if isinstance(checked, Response):
        return checked
    staff, form = checked
    back = form.get("station", "")
    try:
        revert(station_store(request), entry_id, who=_who(staff), at=now(request),
               scope=staff.scope, note="console")
    except StationsError as exc:
        return _page(request, "message.html", 409, staff=staff,
                     title=("未能撤销", "Not reverted"), message=str(exc), back=back)
    after_write(request)
    return RedirectResponse(f"/console/stations/{quote(back)}?saved=1", status_code=303)


@router.get("/reports")
def reports_page(request: Request) -> Response:
    """The inbox: stations with open reports; ``?station=ID`` one station's every report."""
    staff = _current(request)
    if staff is None:
        return RedirectResponse("/console/login", status_code=303)
    mine = {s.id: s for s in station_store(request).stations_in(staff.scope)}
    only = request.query_params.get("station")
    if only is not None:
        if only not in mine:
            return _not_yours(request, staff)
        mine = {only: mine[only]}
    every = report_store(request).reports(include_resolved=True, station_ids=list(mine))
    groups = group_reports(every, mine, station_store(request), whole=only is not None)
    positions = in_tile_systems([g.station.record["lon"] for g in groups],
                                [g.station.record["lat"] for g in groups])
    return _page(request, "reports.html", staff=staff, title=("骑手反馈", "Riders' reports"),
                 groups=groups, kinds=kind_counts(groups), only=only, positions=positions,
                 tiles=tile_options(), saved=request.query_params.get("saved"),
                 note_limit=MAX_RESOLUTION_NOTE_CHARS)


@router.post("/reports/{report_id}/resolve")
async def resolve(request: Request, report_id: int) -> Response:
    """Close a report as resolved or dismissed, with a note; then show its station's reports."""
    checked = await _writer(request)
    if isinstance(checked, Response):
        return checked
    staff, form = checked
    store = report_store(request)
    try:
        report = store.get(report_id)
    except StationsError:
        return _not_yours(request, staff)
    if _own_station(request, staff, report.station_id) is None:
        return _not_yours(request, staff)
    try:
        await run_in_threadpool(store.resolve, report_id, who=_who(staff),
                                note=form.get("note", ""),
                                outcome=form.get("outcome", Outcome.RESOLVED))
    except StationsError as exc:  # closed meanwhile by a colleague (409), a bad note (422)
        return _page(request, "message.html", status_for(exc), staff=staff,
                     title=("未能处理", "Not closed"), message=str(exc))
    return RedirectResponse(f"/console/reports?station={quote(report.station_id)}&saved=1"
                            f"#r-{report_id}", status_code=303)
