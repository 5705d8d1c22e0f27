"""Small HTTP pieces the routers share: ETags tied to the data version, capped bodies."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import orjson
from fastapi import Request, Response

from ..errors import InvalidInput, PayloadTooLarge
from ..hours import china_local
from ..service import StationService

GEOJSON = "application/geo+json"
JSON = "application/json"
REVALIDATE = "no-cache"


@lru_cache(maxsize=16)
def data_etag(data_version: str, moment: dt.datetime | None = None) -> str:
    """A weak ETag for data that changes only with the GeoPackage (or, when the answer says
    whether stations are open now, also with the minute).  Cached: the same few are asked
    for on every request."""
    if moment is None:
        return f'W/"{data_version}"'
    return f'W/"{data_version}-{china_local(moment):%Y%m%d%H%M}"'


def open_state_etag(service: StationService) -> str:
    """ETag of answers that say which stations are open: the data version and the minute."""
    return data_etag(service.data_version, service.clock())


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison of an ``If-None-Match`` header against our ETag."""
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == wanted
               for tag in if_none_match.split(","))


def cached_bytes(request: Request, body: bytes, etag: str, media_type: str = JSON) -> Response:
    """``body`` with its ETag, or an empty 304 when the client already has it."""
    headers = {"ETag": etag, "Cache-Control": REVALIDATE}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(raw: bytes) -> dict[str, object]:
    """A request body that must be a JSON object in UTF-8; 422 naming the problem otherwise."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("", f"body is not UTF-8 (byte {exc.start}); send JSON in UTF-8",
                           "json_invalid", None) from None
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("", f"body is not valid JSON: {exc}", "json_invalid", None) from None
    if not isinstance(body, dict):
        raise InvalidInput("", "body must be a JSON object", "model_attributes_type", None)
    return body


def accepts(header: str, names: tuple[str, ...]) -> bool:
    """Whether an Accept or Accept-Encoding header names one of ``names`` (lower case) without
    ``q=0``."""
    for item in header.split(","):
        name, _, parameters = item.partition(";")
        if name.strip().lower() in names:
            quality = parameters.strip().lower().removeprefix("q=")
            try:
                return not parameters.strip() or float(quality) > 0
            except ValueError:
                return False
    return False


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip`` or ``*``, not with ``q=0``)."""
    return accepts(accept_encoding, ("gzip", "x-gzip", "*"))
    return False
