"""``GET /stations/{id}``, ``GET /amenities`` and ``GET /health``."""

from __future__ import annotations

import hashlib
from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from ..service import amenity_vocabulary
from .errors import problem_responses
from .http import GEOJSON, cached_bytes, open_state_etag
from .nearest import live_stations
from .params import parse_crs

router = APIRouter(tags=["stations"])


@router.get(
    "/stations/{station_id}",
    summary="One station",
    description="One station as a GeoJSON Feature with all its fields and amenities, and "
    "`open_now` / `open_state` now.",
    response_class=Response,
    responses={200: {"description": "GeoJSON Feature", "content": {GEOJSON: {}}},
               **problem_responses(304, 404, 422)},
)
def get_station(
    request: Request,
    station_id: Annotated[str, Path(description="Station id, e.g. NN-001", max_length=200)],
    crs: Annotated[str, Query(description="Coordinate system of the returned point: wgs84, "
                              "gcj02 or bd09",
                              json_schema_extra={"enum": ["wgs84", "gcj02", "bd09"]})] = "wgs84",
) -> Response:
    service = live_stations(request).current
    body = service.station(station_id, parse_crs(crs))
    return cached_bytes(request, body, open_state_etag(service), GEOJSON)


_VOCABULARY = amenity_vocabulary()
_VOCABULARY_ETAG = f'W/"{hashlib.sha256(_VOCABULARY).hexdigest()[:16]}"'


@router.get(
    "/amenities",
    summary="Amenity vocabulary",
    description="Every amenity code with its Chinese and English label and icon.",
    response_class=Response,
    responses={200: {"description": '`{"amenities": [{code, label_zh, label_en, icon}]}`',
                     "content": {"application/json": {}}}},
)
def amenities(request: Request) -> Response:
    return cached_bytes(request, _VOCABULARY, _VOCABULARY_ETAG)


@router.get(
    "/health",
    summary="Service health",
    description="Data version and station count of the data being served; with a road "
    "network, its file and the stations too far from any road to be reached by road.",
    response_class=Response,
    responses={200: {"description": "`{status, data_version, station_count, reloads}`",
                     "content": {"application/json": {}}}},
)
def health(request: Request) -> Response:
    live = live_stations(request)
    service = live.current
    return Response(orjson.dumps({
        "status": "stale" if getattr(live, "stale_since", None) else "ok",
        "data_version": service.data_version,
        "station_count": service.count,
        "reloads": live.reloads,
        "stale_since": getattr(live, "stale_since", None),
        "sequence": getattr(live, "sequence", None),
        "data_file": str(live.path),
        "roads": service.road_report(),
    }), media_type="application/json", headers={"Cache-Control": "no-store"})
