"""The console's sheet upload: upload, review on a map and in a table, then apply or cancel.

Every step is a form with the session's CSRF token.  The review page embeds the very page
``stations import --dry-run`` writes (:mod:`stations.ingest.review`), served in a sandboxed
frame whose only scripts are its own, allowed by their hashes.  Applying writes the reviewed
change set through the store in one transaction, naming the account in the history; a station
a colleague changed after the review is a conflict shown with both versions, never
overwritten.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from ..api.http import read_capped_body
from ..api.office import after_write, now, station_store
from ..crs import CoordinateSystem
from ..errors import (
    InvalidInput,
    OutOfScope,
    PayloadTooLarge,
    SourceError,
    StationsError,
    VersionConflict,
)
from .accounts import Staff
from .pages import COOKIE, _current, _forged, _page, _who, _writer, accounts
from .sheets import MAX_LISTED, PendingReviews, SheetReview, decisions, review_again, review_sheet

router = APIRouter(prefix="/console/upload", include_in_schema=False)
_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields beside the sheet


def _pending(request: Request) -> PendingReviews:
    return PendingReviews(accounts(request).db)


def _token(request: Request) -> str:
    return request.cookies.get(COOKIE, "")


def _upload_page(request: Request, staff: Staff, status: int = 200, **values: Any
                 ) -> Response:
    settings = request.app.state.settings
    return _page(request, "upload.html", status, staff=staff, title=("上传表格", "Upload a sheet"),
                 systems=list(CoordinateSystem), chosen=values.pop("crs", None)
                 or settings.console_sheet_crs.value,
                 max_mb=settings.console_sheet_max_bytes / 1e6,
                 pending=_pending(request).get(_token(request), now(request)) is not None,
                 **values)


def _review_page(request: Request, staff: Staff, review: SheetReview, status: int = 200,
                 **values: Any) -> Response:
    return _page(request, "sheet_review.html", status, staff=staff,
                 title=("导入审阅", "Sheet review"), review=review, changes=review.changes,
                 problems=review.problems[:MAX_LISTED],
                 **values)


@router.get("")
def upload_form(request: Request) -> Response:
    staff = _current(request)
    if staff is None:
        return RedirectResponse("/console/login", status_code=303)
    return _upload_page(request, staff, applied=request.query_params.get("applied"),
                        cancelled="cancelled" in request.query_params)


async def _multipart(request: Request) -> dict[str, Any]:
    """The upload form's fields (the sheet as an UploadFile), its size capped before parsing."""
    limit = request.app.state.settings.console_sheet_max_bytes + _FORM_OVERHEAD
    body = await read_capped_body(request, limit)

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=10)
    except HTTPException as exc:
        raise InvalidInput("sheet", f"the form could not be read: {exc.detail}",
                           "value_error", None) from None
    return dict(form.items())


@router.post("")
async def upload(request: Request) -> Response:
    staff = _current(request)
    if staff is None:
        return RedirectResponse("/console/login", status_code=303)
    try:
        form = await _multipart(request)
    except PayloadTooLarge:
        limit = request.app.state.settings.console_sheet_max_bytes
        return _upload_page(request, staff, 413, error=(f"sheet: 表格超过 {limit} 字节",
                                                         f"sheet: larger than {limit} bytes"))
    except InvalidInput as exc:
        return _upload_page(request, staff, 400, error=str(exc))
    refusal = _forged(request, staff, form)
    if refusal is not None:
        return refusal
    sheet, crs = form.get("sheet"), str(form.get("crs", ""))
    if not isinstance(sheet, UploadFile) or not sheet.filename:
        return _upload_page(request, staff, 422, crs=crs,
                            error=("sheet: 请选择表格文件", "sheet: choose the sheet file"))
    content = await sheet.read()
    try:
        review = await run_in_threadpool(review_sheet, station_store(request), staff.scope,
                                         content, sheet.filename, crs)
        _pending(request).keep(_token(request), review, now(request))
    except (InvalidInput, SourceError) as exc:
        return _upload_page(request, staff, 422, crs=crs, error=str(exc))
    return RedirectResponse("/console/upload/review", status_code=303)


def _reviewer(request: Request) -> tuple[Staff, SheetReview] | Response:
    staff = _current(request)
    if staff is None:
        return RedirectResponse("/console/login", status_code=303)
    review = _pending(request).get(_token(request), now(request))
    if review is None:
        return RedirectResponse("/console/upload", status_code=303)
    return staff, review


@router.get("/review")
def review_page(request: Request) -> Response:
    found = _reviewer(request)
    if isinstance(found, Response):
        return found
    return _review_page(request, *found)


@router.get("/review/map")
def review_map(request: Request) -> Response:
    """The dry run's own review page, for the frame: its scripts run, nothing else does."""
    found = _reviewer(request)
    if isinstance(found, Response):
        return found
    _, review = found
    from ..ingest.review import review_html

    html = review_html(review.changes, f"导入审阅 import review: {review.file}")
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _SCRIPT.findall(html))
    return HTMLResponse(html, headers={
        "Content-Security-Policy": f"default-src 'none'; script-src {hashes}; "
        "style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; "
        "form-action 'none'; sandbox allow-scripts",
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


Step = Callable[[Request, Staff, dict[str, str], SheetReview], Awaitable[Response]]


async def _review_step(request: Request, step: Step) -> Response:
    """Check the writer and the form's CSRF token, then take ``step`` on the pending review."""
    checked = await _writer(request)
    if isinstance(checked, Response):
        return checked
    staff, form = checked
    review = _pending(request).get(_token(request), now(request))
    if review is None:
        return _page(request, "message.html", 409, staff=staff,
                     title=("审阅已结束", "Review gone"),
                     message=("此审阅已应用、取消或过期，请重新上传", "This review was applied, "
                              "cancelled or has expired; upload the sheet again."))
    return await step(request, staff, form, review)


async def _apply(request: Request, staff: Staff, form: dict[str, str], review: SheetReview
                 ) -> Response:
    from ..ingest.changes import MissingUndecided, ReviewOutdated, apply_changes

    changes = review.changes
    try:
        entry = await run_in_threadpool(
            lambda: apply_changes(station_store(request), changes,
                                  missing=decisions(form, changes), who=_who(staff),
                                  at=now(request), confirm=form.get("key", ""),
                                  scope=staff.scope))
    except (MissingUndecided, ReviewOutdated, OutOfScope, InvalidInput) as exc:
        return _review_page(request, staff, review, 422, error=str(exc))
    except VersionConflict as exc:
        yours = changes.records.get(exc.station_id) or next(
            (r for r in changes.missing if r["id"] == exc.station_id), {})
        return _page(request, "sheet_conflict.html", 409, staff=staff, title=("冲突", "Conflict"),
                     station_id=exc.station_id, reviewed=changes.versions.get(exc.station_id),
                     yours=yours, current=exc.current or {})
    _pending(request).drop(_token(request))
    after_write(request)
    return RedirectResponse(f"/console/upload?applied={entry.id if entry else 0}",
                            status_code=303)


async def _again(request: Request, staff: Staff, _form: dict[str, str], review: SheetReview
                 ) -> Response:
    """Compare the same sheet with the stations as they are now (after a conflict)."""
    try:
        fresh = await run_in_threadpool(review_again, station_store(request), staff.scope,
                                        review)
        _pending(request).keep(_token(request), fresh, now(request))
    except StationsError as exc:
        return _review_page(request, staff, review, 409, error=str(exc))
    return RedirectResponse("/console/upload/review", status_code=303)


@router.post("/apply")
async def apply(request: Request) -> Response:
    return await _review_step(request, _apply)


@router.post("/again")
async def again(request: Request) -> Response:
    return await _review_step(request, _again)


@router.post("/cancel")
async def cancel(request: Request) -> Response:
    checked = await _writer(request)
    if isinstance(checked, Response):
        return checked
    _pending(request).drop(_token(request))
    return RedirectResponse("/console/upload?cancelled", status_code=303)

