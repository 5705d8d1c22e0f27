"""``GET /nearest`` and ``POST /nearest/batch``: the stations nearest to riders.

``GET /nearest`` is the request riders' phones send most, so besides the ordinary route there is
:class:`NearestFastPath`, a bare ASGI application the app hands it to before any framework layer
(routing, middleware, dependencies and responses cost more than the query itself).  Both run
:func:`nearest_reply`, so the answers are the same byte for byte; the fast path adds the gzip and
CORS headers that middleware adds on the ordinary route.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from isal import isal_zlib
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send
from threadpoolctl import threadpool_limits

from ..crs import CoordinateSystem, to_wgs84
from ..errors import InvalidInput, StationsError
from ..hours import OPEN_STATES
from ..live import LiveStations
from ..model import AMENITY_CODES
from ..planning.search_counts import SearchCounter
from ..service import (
    MAX_K,
    MAX_RADIUS_M,
    PROFILE_NAMES,
    BatchFormat,
    DistanceBasis,
    StationService,
)
from .errors import error_body, problem_responses, status_for
from .http import (
    GEOJSON,
    JSON,
    REVALIDATE,
    accepts,
    accepts_gzip,
    data_etag,
    etag_matches,
    json_object,
    read_capped_body,
)
from .params import (
    NEAREST_OPTION_NAMES,
    nearest_parameters,
    options_from,
    parse_nearest_query,
    query_pairs,
    reject_unknown,
    string_list,
)
from .settings import ApiSettings

router = APIRouter(tags=["nearest stations"])

FEATURE_COLLECTION_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": {"type": "object"}},
        "numberReturned": {"type": "integer"},
        "crs": {"type": "string"},
        "distance_basis": {"type": "string", "enum": ["straight", "road"],
                           "description": "how distance_m and the minutes were measured"},
        "nearestBeyondReach": {"type": "object", "description": "when radius_m leaves no "
                               "station: the nearest one beyond it that passes the other "
                               "filters"},
    },
}


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]


def nearest_reply(service: StationService, raw_query: bytes, if_none_match: str | None,
                  searches: SearchCounter | None = None) -> Reply:
    """The whole answer to GET /nearest: parse, check the ETag, query, serialise.

    With ``searches`` (opt-in), each answered search adds one to its cell's count.
    """
    try:
        lon, lat, options = parse_nearest_query(query_pairs(raw_query))
        etag = data_etag(service.answer_version(options.by),
                         None if options.at else service.clock())
        headers = [(b"etag", etag.encode()), (b"cache-control", REVALIDATE.encode())]
        if etag_matches(if_none_match, etag):
            reply = Reply(304, b"", headers)
        else:
            reply = Reply(200, service.find_nearest(lon, lat, options),
                          [(b"content-type", GEOJSON.encode()), *headers])
    except StationsError as error:
        return Reply(status_for(error), error_body(error, "query"),
                     [(b"content-type", JSON.encode())])
    if searches is not None:
        if options.crs is not CoordinateSystem.WGS84:
            lon, lat = (float(v) for v in to_wgs84(lon, lat, options.crs))
        searches.record(lon, lat)
    return reply


def document_without_roads(app: FastAPI) -> None:
    """Offer only ``by=straight`` in the OpenAPI document of a server without a road network,
    so that what the document calls valid is what the server answers."""
    build = app.openapi
    document: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not document:  # a copy: the parameter schemas are shared with every other app
            document.update(copy.deepcopy(build()))
            paths = document["paths"]
            by = next(p for p in paths["/nearest"]["get"]["parameters"] if p["name"] == "by")
            body = paths["/nearest/batch"]["post"]["requestBody"]["content"][JSON]["schema"]
            for schema in (by["schema"], body["properties"]["by"]):
                schema["enum"] = [DistanceBasis.STRAIGHT.value]
            by["description"] += " (this server has no road network: straight only)"
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def live_stations(request: Request) -> LiveStations:
    return request.app.state.live  # type: ignore[no-any-return]


@router.get(
    "/nearest",
    summary="Nearest stations to a point",
    description="The k nearest stations as a GeoJSON FeatureCollection, nearest first, with "
    "great-circle `distance_m`, `bearing_deg`, straight-line `walk_min` (4.5 km/h) and "
    "`ebike_min` (15 km/h), `open_state` (open, closed or unknown) with `open_now`, and the "
    "hours in words (`hours_zh`, `hours_en`). With `radius_m`, an empty answer carries "
    "`nearestBeyondReach`. With `by=road` the stations are ranked by the route on the road "
    "network: `road_distance_m`, and the times come from it; `distance_basis` says which.",
    response_class=Response,
    responses={200: {"description": "GeoJSON FeatureCollection, nearest first",
                     "content": {GEOJSON: {"schema": FEATURE_COLLECTION_SCHEMA}}},
               **problem_responses(304, 422)},
    openapi_extra={"parameters": nearest_parameters()},
)
async def nearest(request: Request) -> Response:
    reply = nearest_reply(live_stations(request).current, request.scope["query_string"],
                          request.headers.get("if-none-match"), request.app.state.searches)
    return Response(reply.body, reply.status,
                    headers={k.decode(): v.decode() for k, v in reply.headers})


NDJSON = "application/x-ndjson"
# Media types of NDJSON an Accept header may name to choose the ndjson format.
NDJSON_TYPES = (NDJSON, "application/ndjson")
BATCH_BODY_SCHEMA = {
    "type": "object",
    "required": ["points"],
    "additionalProperties": False,
    "properties": {
        "points": {"type": "array", "minItems": 1,
                   "maxItems": ApiSettings.model_fields["max_batch_points"].default,
                   "description": "[lon, lat] pairs in `crs`; at most STATIONS_MAX_BATCH_POINTS "
                   "(10,000 by default)",
                   "items": {"type": "array", "minItems": 2, "maxItems": 2,
                             "prefixItems": [
                                 {"type": "number", "minimum": -180, "maximum": 180},
                                 {"type": "number", "minimum": -90, "maximum": 90}]}},
        "k": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5},
        "radius_m": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_M},
        "amenity": {"type": "array", "items": {"type": "string", "enum": list(AMENITY_CODES)}},
        "open_now": {"type": "boolean", "default": False},
        "open_state": {"type": "array", "items": {"type": "string", "enum": list(OPEN_STATES)}},
        "at": {"type": "string", "format": "date-time"},
        "city": {"type": "string"},
        "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
        "by": {"type": "string", "enum": ["straight", "road"], "default": "straight"},
        "profile": {"type": "string", "enum": list(PROFILE_NAMES)},
        "geometry": {"type": "string", "enum": ["route"]},
        "format": {"type": "string", "enum": list(BatchFormat), "default": "geojson",
                   "description": "`geojson`: a FeatureCollection per point; `compact`: per "
                   "point only `ids` and straight-line `distance_m`, k long, null where fewer "
                   "qualified; `ndjson`: the compact results as NDJSON, one line per point "
                   f"(`{NDJSON}`). Without `format`, `Accept: {NDJSON}` chooses `ndjson`"},
    },
}
COMPACT_RESULT_SCHEMA = {"type": "object", "properties": {
    "ids": {"type": "array", "items": {"type": ["string", "null"]}},
    "distance_m": {"type": "array", "items": {"type": ["number", "null"]}}}}
COMPACT_SCHEMA = {"type": "object", "properties": {
    "format": {"type": "string", "enum": ["compact"]},
    "results": {"type": "array", "items": COMPACT_RESULT_SCHEMA},
    "numberOfPoints": {"type": "integer"}, "k": {"type": "integer"}, "crs": {"type": "string"}}}


def parse_points(value: object, limit: int, k: int, max_answers: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The ``points`` member as lon and lat arrays, refusing empty, oversized or ragged lists,
    and batches asking for more than ``max_answers`` answers (points × k)."""
    if not isinstance(value, list) or not value:
        raise InvalidInput("points", "must be a non-empty list of [lon, lat] pairs",
                           "too_short", None)
    if len(value) > limit:
        raise InvalidInput("points", f"at most {limit} points per batch, got {len(value)}",
                           "too_long", len(value))
    if len(value) * k > max_answers:
        raise InvalidInput("points", f"{len(value)} points × k={k} is {len(value) * k} answers, "
                           f"over the {max_answers} one batch may ask for "
                           "(STATIONS_MAX_BATCH_ANSWERS); send fewer points or a smaller k",
                           "too_long", len(value))
    array = np.empty(0)
    # Flattened with fromiter: ten times faster than asarray on 10,000 small lists.
    if all(type(point) is list and len(point) == 2 for point in value):
        with contextlib.suppress(TypeError, ValueError):
            array = np.fromiter(chain.from_iterable(value), dtype=np.float64,
                                count=2 * len(value)).reshape(-1, 2)
    if not array.size or not np.all(np.isfinite(array)):
        raise InvalidInput("points", "every point must be a [lon, lat] pair of finite numbers",
                           "list_type", None)
    return array[:, 0], array[:, 1]


@router.post(
    "/nearest/batch",
    summary="Nearest stations to many points",
    description="One answer per point, in the order sent, inside `results`: a FeatureCollection "
    "(`format: geojson`, the default) or only station ids and metres (`format: compact`, for "
    "dispatch platforms); `format: ndjson` (or `Accept: application/x-ndjson` without a "
    "`format`) sends the compact results as NDJSON, one line per point, in order. Options are "
    "those of GET /nearest and apply to every point. At most STATIONS_MAX_BATCH_ANSWERS "
    "(100,000 by default) points × k; the answer is sent in parts.",
    response_class=Response,
    responses={200: {"description": "`{\"results\": [...], \"numberOfPoints\": n, ...}`",
                     "content": {JSON: {"schema": {"anyOf": [
                         {"type": "object", "properties": {
                             "results": {"type": "array", "items": FEATURE_COLLECTION_SCHEMA},
                             "numberOfPoints": {"type": "integer"}, "k": {"type": "integer"},
                             "crs": {"type": "string"}}},
                         COMPACT_SCHEMA]}},
                                 NDJSON: {"schema": {
                                     "description": "one compact result per line",
                                     **COMPACT_RESULT_SCHEMA}}}},
               **problem_responses(413, 422)},
    openapi_extra={"requestBody": {
        "required": True,
        "description": "At most STATIONS_MAX_BODY_BYTES (1,000,000 by default); larger is 413",
        "content": {JSON: {"schema": BATCH_BODY_SCHEMA}}}},
)
async def nearest_batch(request: Request) -> Response:
    settings: ApiSettings = request.app.state.settings
    body = json_object(await read_capped_body(request, settings.max_body_bytes))
    reject_unknown(body, ("points", "format", *NEAREST_OPTION_NAMES))
    answer_format = batch_format(body.get("format"), request.headers.get("accept", ""))
    options = options_from(body, string_list("amenity", body.get("amenity"), "amenity codes"),
                           string_list("open_state", body.get("open_state"), "open states"))
    if answer_format is not BatchFormat.GEOJSON and options.by is not DistanceBasis.STRAIGHT:
        raise InvalidInput("format", f"{answer_format} answers give straight-line metres; ask "
                           "by=road in the geojson format", "value_error", answer_format.value)
    lon, lat = parse_points(body.get("points"), settings.max_batch_points, options.k,
                            settings.max_batch_answers)
    service = live_stations(request).current
    parts = one_openmp_thread(service.nearest_batch_parts(lon, lat, options, answer_format))
    # The first part is made before answering, so that a refusal (say by=road without a road
    # network) is still a 422; the rest is made as the client takes it.
    parts = chain([await run_in_threadpool(next, parts)], parts)
    headers = {"Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        parts = gzipped(parts, settings.batch_gzip_level)
        headers["Content-Encoding"] = "gzip"
    # Each part is made (and compressed) in a worker thread as the client takes the previous.
    return StreamingResponse(parts, headers=headers,
                             media_type=NDJSON if answer_format is BatchFormat.NDJSON else JSON)


def batch_format(named: object, accept: str) -> BatchFormat:
    """The format the body names, else ``ndjson`` when Accept names an NDJSON media type,
    else GeoJSON."""
    if named is None:
        return BatchFormat.NDJSON if accepts(accept, NDJSON_TYPES) else BatchFormat.GEOJSON
    if named not in list(BatchFormat):
        raise InvalidInput("format", "must be one of " + ", ".join(BatchFormat), "enum", named)
    return BatchFormat(named)


def gzipped(parts: Iterator[bytes], level: int) -> Iterator[bytes]:
    """One gzip stream over the parts, compressed part by part with ISA-L (``level`` 0-3)."""
    compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
    for part in parts:
        yield compressor.compress(part)
    yield compressor.flush()


_WORKER = threading.local()


def one_openmp_thread(parts: Iterator[bytes]) -> Iterator[bytes]:
    """The parts, each made with a one-thread OpenMP team in whichever worker thread makes it.

    A saturated server answers several batches at once, one per core; an OpenMP team per
    batch on top would put twice as many threads on the cores, which costs a fifth more CPU
    time per batch.  The limit is per thread and stays set, so each worker thread sets it once.
    """
    while True:
        if not getattr(_WORKER, "one_thread", False):
            threadpool_limits(1, user_api="openmp")
            _WORKER.one_thread = True
        part = next(parts, None)
        if part is None:
            return
        yield part



class NearestFastPath:
    """Answers ``GET /nearest`` as a bare ASGI application, with gzip and CORS headers."""

    def __init__(self, live: LiveStations, settings: ApiSettings,
                 searches: SearchCounter | None = None) -> None:
        self.live = live
        self.searches = searches
        self.gzip_min_bytes = settings.gzip_min_bytes
        self.any_origin = "*" in settings.cors_origins
        self.origins = {o.encode() for o in settings.cors_origins}

    @staticmethod
    def handles(scope: Scope) -> bool:
        return scope["type"] == "http" and scope["path"] == "/nearest" \
            and scope["method"] == "GET"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_headers = dict(scope["headers"])
        if_none_match = request_headers.get(b"if-none-match")
        reply = nearest_reply(self.live.current, scope["query_string"],
                              if_none_match.decode("latin-1") if if_none_match else None,
                              self.searches)
        body = reply.body
        headers = [*reply.headers]
        if len(body) >= self.gzip_min_bytes and b"gzip" in request_headers.get(
                b"accept-encoding", b""):
            body = gzip.compress(body, compresslevel=5)
            headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
        origin = request_headers.get(b"origin")
        if origin is not None and (self.any_origin or origin in self.origins):
            headers += [(b"access-control-allow-origin", b"*" if self.any_origin else origin),
                        (b"access-control-expose-headers", b"ETag")]
            if not self.any_origin:
                headers.append((b"vary", b"Origin"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
