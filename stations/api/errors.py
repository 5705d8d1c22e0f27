"""One table from the package's own errors to HTTP status codes, and the JSON they send.

Parameter errors use FastAPI's validation shape, ``{"detail": [{"type", "loc", "msg",
"input"}]}``, so clients handle ours and FastAPI's the same way.  OGC API endpoints answer a bad
parameter with 400, as that standard requires, and add its ``code``/``description`` members.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    CrossSiteRequest,
    DataFileError,
    HistoryNotFound,
    InvalidInput,
    NotAuthenticated,
    OutOfScope,
    PayloadTooLarge,
    PreconditionRequired,
    ReportAlreadyResolved,
    ReportNotFound,
    ReportRateLimited,
    ReportRejected,
    ReportStoreBusy,
    ReportStoreFull,
    RetryLater,
    StationExists,
    StationNotFound,
    StationsError,
    StoreUnavailable,
    UnknownCoordinateSystem,
    UnsupportedMediaType,
    VersionConflict,
)


class OgcInvalidParameter(InvalidInput):
    """A bad or unknown query parameter on an OGC API - Features endpoint."""


STATUS_BY_ERROR: dict[type[Exception], int] = {
    OgcInvalidParameter: 400,
    InvalidInput: 422,
    UnknownCoordinateSystem: 422,
    ReportRejected: 422,
    CrossSiteRequest: 403,
    StationNotFound: 404,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    ReportRateLimited: 429,
    DataFileError: 503,
    ReportStoreBusy: 503,
    ReportStoreFull: 503,
    NotAuthenticated: 401,
    OutOfScope: 403,
    HistoryNotFound: 404,
    ReportNotFound: 404,
    ReportAlreadyResolved: 409,
    StationExists: 409,
    VersionConflict: 412,
    PreconditionRequired: 428,
    StoreUnavailable: 503,
}


def status_for(error: Exception) -> int:
    """The status of the most specific entry of :data:`STATUS_BY_ERROR` the error matches."""
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500


def _loc(location: str, field: str) -> list[str | int]:
    """``points.3.lat`` as ``[location, "points", 3, "lat"]``; other text, such as an unknown
    parameter called ``²`` or ``20000000000000000000``, stays text."""
    parts = field.split(".") if field else []
    return [location, *(int(p) if _is_position(p) else p for p in parts)]


def _is_position(part: str) -> bool:
    return part.isascii() and part.isdigit() and len(part) <= 9


_JSON_INTEGERS = range(-(2**63), 2**64)


def echoable(value: object) -> object:
    """Any value as JSON can carry it, so that an error answer can always be rendered: bytes
    that are not UTF-8 (a report body in GB18030 or garbage), lone surrogates, integers such as
    ``k=-9223372036854775809`` that no 64-bit JSON number holds, and objects become text."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if value in _JSON_INTEGERS else str(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [echoable(item) for item in value]
    if isinstance(value, dict):
        return {str(echoable(key)): echoable(item) for key, item in value.items()}
    return echoable(str(value))


def error_body(error: Exception, location: str = "query") -> bytes:
    """The JSON body for an error raised on purpose; ``location`` is ``query`` or ``body``."""
    if isinstance(error, InvalidInput):
        detail = [{"type": error.kind, "loc": _loc(location, error.field), "msg": error.message,
                   "input": echoable(error.value)}]
        if isinstance(error, OgcInvalidParameter):
            return orjson.dumps({"code": "InvalidParameterValue",
                                 "description": str(error), "detail": detail})
        return orjson.dumps({"detail": detail})
    if isinstance(error, UnknownCoordinateSystem):
        return orjson.dumps({"detail": [{"type": "enum", "loc": [location, "crs"],
                                         "msg": str(error), "input": None}]})
    if isinstance(error, RetryLater):
        return orjson.dumps({"detail": str(error), "retry_after_s": error.retry_after_s})
    if isinstance(error, ReportAlreadyResolved):
        return orjson.dumps({"detail": str(error), "report": error.report})
    if isinstance(error, VersionConflict):
        return orjson.dumps({"detail": str(error), "station_id": error.station_id,
                             "current": error.current})
    return orjson.dumps({"detail": str(error)})


def error_response(error: Exception, location: str = "query") -> Response:
    """The error as JSON with its status; a :class:`RetryLater` also says when (Retry-After)."""
    headers = None
    if isinstance(error, RetryLater):
        headers = {"Retry-After": str(error.retry_after_s)}
    elif isinstance(error, NotAuthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    return Response(error_body(error, location), status_code=status_for(error),
                    media_type="application/json", headers=headers)


async def _handle(request: Request, error: Exception) -> Response:
    return error_response(error, "query" if request.method in ("GET", "HEAD") else "body")


async def _handle_validation(_: Request, error: Exception) -> Response:
    """FastAPI's own validation errors in the same shape; FastAPI's handler fails (500) on an
    input that is not UTF-8, this one renders any bytes."""
    problems = error.errors() if isinstance(error, RequestValidationError) else []
    detail = [{"type": echoable(problem.get("type", "value_error")),
               "loc": echoable(list(problem.get("loc", ()))),
               "msg": echoable(problem.get("msg", "")),
               "input": echoable(problem.get("input"))} for problem in problems]
    return Response(orjson.dumps({"detail": detail}), status_code=422,
                    media_type="application/json")


# FastAPI answers 400 with this detail when a JSON body is not UTF-8 text; the OpenAPI document
# promises 422 for every bad body, so it is answered as one.
_UNPARSABLE_BODY = "There was an error parsing the body"


async def _handle_http(request: Request, error: Exception) -> Response:
    if isinstance(error, StarletteHTTPException) and error.status_code == 400 \
            and error.detail == _UNPARSABLE_BODY:
        detail = [{"type": "json_invalid", "loc": ["body"], "input": None,
                   "msg": "请求体不是 UTF-8 编码的 JSON / the body is not JSON in UTF-8"}]
        return Response(orjson.dumps({"detail": detail}), status_code=422,
                        media_type="application/json")
    return await http_exception_handler(request, error)  # type: ignore[arg-type]


def install_error_handlers(app: FastAPI) -> None:
    """Send every :class:`StationsError` and every validation error as JSON."""
    app.add_exception_handler(StationsError, _handle)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries for the error statuses an operation can return."""
    descriptions = {
        304: "Not modified: the If-None-Match ETag is current",
        401: "No valid office key (Authorization: Bearer <key>)",
        403: "The station is outside the area of this office's key",
        409: "A station with this id exists; `current` is that station",
        412: "The station changed since the version in If-Match; `current` is it now",
        428: "If-Match with the station's version is required",
        400: "Bad or unknown query parameter (OGC API); the body names it",
        404: "No station has this id",
        413: "Request body larger than the configured limit",
        415: "Content-Type is not application/json",
        422: "Invalid parameter; `detail[].loc` names it and `msg` gives the allowed values",
        429: "Too many reports lately from this address, network or everyone; see Retry-After",
        503: "Unavailable for now (station data, a busy or full report file); Retry-After if known",
    }
    return {status: {"description": descriptions[status]} for status in statuses}
