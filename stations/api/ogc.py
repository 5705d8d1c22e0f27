"""OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0) over the station collection.

QGIS, OWSLib and other GIS clients read the stations through this standard interface without
custom code.  The places where clients trip are followed closely: the landing page links the
OpenAPI document as ``service-desc`` with the exact media type clients look for; every items
page links ``self``, ``alternate`` and ``next`` while more remain (QGIS follows ``next`` to load
everything); a ``limit`` above the maximum is clamped, not refused; JSON is the default; an
unknown query parameter is a 400.  The standard has no nearest query, hence ``/nearest``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Path, Request, Response

from ..errors import InvalidInput
from ..hours import OPEN_STATES
from ..model import AMENITY_CODES, FIELD_LABELS_ZH
from ..service import (
    FILTERABLE_FIELDS,
    amenity_codes,
    check_point,
    feature_collection,
    open_state_names,
)
from .errors import OgcInvalidParameter, problem_responses
from .http import GEOJSON, JSON, cached_bytes, data_etag, open_state_etag
from .nearest import live_stations
from .params import parse_crs, query_pairs, split_list
from .settings import ApiSettings
from .web import page_response, wants_html

router = APIRouter(tags=["OGC API - Features"])

COLLECTION_ID = "stations"
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
ITEMS_PARAMETERS = ("bbox", "limit", "offset", "datetime", "f", "amenity", "open_state", "crs",
                    *FILTERABLE_FIELDS)
PLAIN_PARAMETERS = ("f",)
FORMATS = ("json", "geojson")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _json(request: Request, document: object, etag: str | None = None,
          media_type: str = JSON) -> Response:
    body = orjson.dumps(document)
    if etag is None:
        return Response(body, media_type=media_type)
    return cached_bytes(request, body, etag, media_type)


def _check_plain(request: Request) -> None:
    """The metadata documents accept only ``f``."""
    pairs = query_pairs(request.scope["query_string"])
    _check_names(pairs, PLAIN_PARAMETERS)
    _check_format(pairs)


def _check_names(pairs: Sequence[tuple[str, str]], allowed: Sequence[str]) -> None:
    for name, _ in pairs:
        if name not in allowed:
            raise OgcInvalidParameter(name, "unknown query parameter; allowed: "
                                      + ", ".join(allowed), "extra_forbidden", name)


def _check_format(pairs: Sequence[tuple[str, str]]) -> None:
    for name, value in pairs:
        if name == "f" and value not in FORMATS:
            raise OgcInvalidParameter("f", "unsupported format; allowed: " + ", ".join(FORMATS),
                                      "enum", value)


def _plain_parameter(name: str, description: str, schema: dict[str, object],
                     **extra: object) -> dict[str, object]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}


F_PARAMETER = _plain_parameter("f", "Response format; JSON is the default",
                               {"type": "string", "enum": list(FORMATS)})


@router.get("/", summary="Landing page", response_class=Response,
            responses={200: {"description": "OGC API landing page", "content": {JSON: {}}},
                       **problem_responses(400)},
            openapi_extra={"parameters": [F_PARAMETER]})
def landing_page(request: Request) -> Response:
    if wants_html(request):
        response = page_response(request)
    else:
        _check_plain(request)
        base = _base(request)
        response = _json(request, {
            "title": "工会驿站 Worker rest stations",
            "description": "Trade-union rest stations (工会驿站 / 户外劳动者服务站点) for delivery "
            "riders, couriers and sanitation workers in China.",
            "links": [
                _link(f"{base}/", "self", JSON, "This document"),
                _link(f"{base}/openapi.json", "service-desc", OPENAPI_MEDIA_TYPE,
                      "The API definition (OpenAPI 3)"),
                _link(f"{base}/docs", "service-doc", "text/html", "The API documentation"),
                _link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
                _link(f"{base}/collections", "data", JSON, "The station collection"),
            ],
        })
    # One address, two representations (the rider page and the landing JSON): a shared cache
    # must keep them apart by the Accept header.
    vary = response.headers.get("vary")
    response.headers["vary"] = f"{vary}, Accept" if vary else "Accept"
    return response


@router.get("/conformance", summary="Conformance classes", response_class=Response,
            responses={200: {"description": "conformsTo", "content": {JSON: {}}},
                       **problem_responses(400)},
            openapi_extra={"parameters": [F_PARAMETER]})
def conformance(request: Request) -> Response:
    _check_plain(request)
    return _json(request, {"conformsTo": CONFORMANCE})


def _collection(request: Request) -> dict[str, object]:
    base = _base(request)
    service = live_stations(request).current
    url = f"{base}/collections/{COLLECTION_ID}"
    return {
        "id": COLLECTION_ID,
        "title": "工会驿站 Worker rest stations",
        "description": f"{service.count} stations; data version {service.data_version}. "
        "Filter with bbox, amenity, open_state and " + ", ".join(
            f"{f} ({FIELD_LABELS_ZH[f]})" for f in FILTERABLE_FIELDS) + ".",
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [service.extent], "crs": CRS84}},
        "links": [
            _link(url, "self", JSON, "This collection"),
            _link(f"{url}/items", "items", GEOJSON, "Stations"),
        ],
    }


@router.get("/collections", summary="Collections", response_class=Response,
            responses={200: {"description": "The collections", "content": {JSON: {}}},
                       **problem_responses(304, 400)},
            openapi_extra={"parameters": [F_PARAMETER]})
def collections(request: Request) -> Response:
    _check_plain(request)
    service = live_stations(request).current
    return _json(request, {
        "links": [_link(f"{_base(request)}/collections", "self", JSON, "Collections")],
        "collections": [_collection(request)],
    }, data_etag(service.data_version))


@router.get(f"/collections/{COLLECTION_ID}", summary="The station collection",
            response_class=Response,
            responses={200: {"description": "Collection metadata", "content": {JSON: {}}},
                       **problem_responses(304, 400)},
            openapi_extra={"parameters": [F_PARAMETER]})
def collection(request: Request) -> Response:
    _check_plain(request)
    service = live_stations(request).current
    return _json(request, _collection(request), data_etag(service.data_version))


_LON = {"type": "number", "minimum": -180, "maximum": 180}
_LAT = {"type": "number", "minimum": -90, "maximum": 90}
_Z = {"type": "number"}
# Four numbers or six, as the server takes them (OGC API - Features Part 1 says the same).
BBOX_SCHEMA = {"oneOf": [
    {"type": "array", "minItems": 4, "maxItems": 4, "prefixItems": [_LON, _LAT, _LON, _LAT],
     "items": False},
    {"type": "array", "minItems": 6, "maxItems": 6,
     "prefixItems": [_LON, _LAT, _Z, _LON, _LAT, _Z], "items": False},
]}


def items_parameters() -> list[dict[str, object]]:
    """OpenAPI parameter objects of the items endpoint (limits as set by default)."""
    defaults = ApiSettings.model_fields
    default = defaults["ogc_default_limit"].default
    maximum = defaults["ogc_max_limit"].default
    return [
        _plain_parameter("bbox", "minLon,minLat,maxLon,maxLat in WGS84 (CRS84), or the six "
                         "numbers minLon,minLat,minZ,maxLon,maxLat,maxZ; minLon > maxLon "
                         "crosses the antimeridian", BBOX_SCHEMA, style="form", explode=False),
        _plain_parameter("limit", f"Page size; larger values are clamped to the maximum "
                         f"(STATIONS_OGC_MAX_LIMIT, {maximum} by default)",
                         {"type": "integer", "minimum": 1, "default": default}),
        _plain_parameter("offset", "Stations to skip (the next link carries it)",
                         {"type": "integer", "minimum": 0, "default": 0}),
        _plain_parameter("datetime", "Accepted for compatibility; stations have no time extent",
                         {"type": "string"}),
        F_PARAMETER,
        _plain_parameter("amenity", "Required amenities (all of them), comma-separated",
                         {"type": "array", "items": {"type": "string",
                                                     "enum": list(AMENITY_CODES)}},
                         style="form", explode=False),
        _plain_parameter("open_state", "Only stations in these open states now, "
                         "comma-separated: open, closed, unknown (no recorded hours)",
                         {"type": "array", "items": {"type": "string",
                                                     "enum": list(OPEN_STATES)}},
                         style="form", explode=False),
        _plain_parameter("crs", "Coordinates of the returned points: wgs84 (default), gcj02, "
                         "bd09", {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]}),
        *(_plain_parameter(f, f"Only stations whose {f} ({FIELD_LABELS_ZH[f]}) is exactly this",
                           {"type": "string"}) for f in FILTERABLE_FIELDS),
    ]


def _parse_int(name: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise OgcInvalidParameter(name, "must be an integer", "int_parsing", value) from None
    if number < minimum:
        raise OgcInvalidParameter(name, f"must be at least {minimum}", "greater_than_equal",
                                  value)
    return number


def _parse_bbox(value: str) -> tuple[float, float, float, float]:
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:  # minLon,minLat,minZ,maxLon,maxLat,maxZ
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise OgcInvalidParameter("bbox", "must be 4 numbers minLon,minLat,maxLon,maxLat or 6 "
                                  "with heights", "value_error", value)
    west, south, east, north = numbers
    try:
        check_point(west, south, "bbox.")
        check_point(east, north, "bbox.")
    except InvalidInput as exc:
        raise OgcInvalidParameter("bbox", exc.message, exc.kind, value) from None
    if south > north:
        raise OgcInvalidParameter("bbox", "minLat must not exceed maxLat", "value_error", value)
    return west, south, east, north


@router.get(f"/collections/{COLLECTION_ID}/items", summary="Stations (paged)",
            response_class=Response,
            responses={200: {"description": "GeoJSON FeatureCollection with numberMatched, "
                             "numberReturned and paging links; plain JSON with f=json",
                             "content": {GEOJSON: {}, JSON: {}}},
                       **problem_responses(304, 400)},
            openapi_extra={"parameters": items_parameters()})
def items(request: Request) -> Response:
    settings: ApiSettings = request.app.state.settings
    pairs = query_pairs(request.scope["query_string"])
    _check_names(pairs, ITEMS_PARAMETERS)
    _check_format(pairs)
    values = dict(pairs)
    limit = min(_parse_int("limit", values.get("limit", str(settings.ogc_default_limit)), 1),
                settings.ogc_max_limit)
    offset = _parse_int("offset", values.get("offset", "0"), 0)
    bbox = _parse_bbox(values["bbox"]) if "bbox" in values else None
    try:
        amenities = amenity_codes(split_list(pairs, "amenity"))
        open_state = open_state_names(split_list(pairs, "open_state"))
        crs = parse_crs(values.get("crs", "wgs84"))
    except InvalidInput as exc:
        raise OgcInvalidParameter(exc.field, exc.message, exc.kind, exc.value) from None
    filters = {name: value for name, value in values.items() if name in FILTERABLE_FIELDS}
    service = live_stations(request).current
    page = service.page(offset, limit, bbox, filters, amenities, crs, open_state)
    url = f"{_base(request)}/collections/{COLLECTION_ID}/items"
    kept = [(name, value) for name, value in pairs if name not in ("limit", "offset", "f")]

    def page_url(at: int, fmt: str | None = None) -> str:
        query = [*kept, ("limit", str(limit)), ("offset", str(at))]
        return f"{url}?{urlencode(query + ([('f', fmt)] if fmt else []))}"

    links = [_link(page_url(offset), "self", GEOJSON, "This page"),
             _link(page_url(offset, "json"), "alternate", JSON, "This page as plain JSON"),
             _link(f"{_base(request)}/collections/{COLLECTION_ID}", "collection", JSON,
                   "The collection")]
    if offset + len(page.features) < page.number_matched:
        links.append(_link(page_url(offset + limit), "next", GEOJSON, "Next page"))
    if offset > 0:
        links.append(_link(page_url(max(0, offset - limit)), "prev", GEOJSON, "Previous page"))
    extra = b',"numberMatched":%d,"timeStamp":%s,"links":%s' % (
        page.number_matched,
        orjson.dumps(dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        orjson.dumps(links))
    media = JSON if values.get("f") == "json" else GEOJSON
    return cached_bytes(request, feature_collection(page.features, extra),
                        open_state_etag(service), media)


@router.get(f"/collections/{COLLECTION_ID}/items/{{feature_id}}", summary="One station",
            response_class=Response,
            responses={200: {"description": "GeoJSON Feature", "content": {GEOJSON: {}}},
                       **problem_responses(304, 400, 404)},
            openapi_extra={"parameters": [F_PARAMETER, _plain_parameter(
                "crs", "Coordinates of the returned point: wgs84 (default), gcj02, bd09",
                {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]})]})
def item(request: Request,
         feature_id: Annotated[str, Path(description="Station id", max_length=200)]
         ) -> Response:
    pairs = query_pairs(request.scope["query_string"])
    _check_names(pairs, ("f", "crs"))
    _check_format(pairs)
    try:
        crs = parse_crs(dict(pairs).get("crs", "wgs84"))
    except InvalidInput as exc:
        raise OgcInvalidParameter(exc.field, exc.message, exc.kind, exc.value) from None
    service = live_stations(request).current
    base = _base(request)
    url = f"{base}/collections/{COLLECTION_ID}/items/{quote(feature_id, safe='')}"
    links = [_link(url, "self", GEOJSON, "This station"),
             _link(f"{base}/collections/{COLLECTION_ID}", "collection", JSON, "The collection")]
    body = service.station(feature_id, crs, b',"links":' + orjson.dumps(links))
    return cached_bytes(request, body, open_state_etag(service), GEOJSON)
