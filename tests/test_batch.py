"""``POST /nearest/batch`` over a real uvicorn server: the compact format says what GeoJSON
says, large answers are sent in parts, and points × k is capped before any work."""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from conftest import make_sample_frame
from live_server import running_server

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.geodata import write_stations

MAX_ANSWERS = 3_000


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("batch") / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    settings = ApiSettings(data=path, reload_interval_s=0, max_batch_answers=MAX_ANSWERS)
    with running_server(create_app(settings)) as base:
        yield base


def points(n: int, seed: int = 1) -> list[list[float]]:
    rng = random.Random(seed)
    return [[rng.uniform(108.0, 109.0), rng.uniform(22.0, 31.5)] for _ in range(n)]


@pytest.mark.parametrize("options", [
    {"k": 3}, {"k": 8},  # six stations: two nulls at the end of each list
    {"k": 5, "radius_m": 60_000}, {"k": 4, "crs": "gcj02", "amenity": ["microwave"]},
])
@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_compact_says_what_geojson_says(url: str, options: dict[str, object], encoding: str):
    batch = points(200)
    headers = {"Accept-Encoding": encoding}
    geojson = httpx.post(f"{url}/nearest/batch", json={"points": batch, **options},
                         headers=headers, timeout=30)
    compact = httpx.post(f"{url}/nearest/batch", json={"points": batch, "format": "compact",
                                                        **options}, headers=headers, timeout=30)
    assert geojson.status_code == compact.status_code == 200
    assert compact.headers.get("content-encoding", "identity") == encoding
    answer = compact.json()
    assert answer["format"] == "compact" and answer["numberOfPoints"] == len(batch)
    assert answer["k"] == options["k"]
    for collection, short in zip(geojson.json()["results"], answer["results"], strict=True):
        k = int(options["k"])  # type: ignore[call-overload]
        assert len(short["ids"]) == len(short["distance_m"]) == k
        features = collection["features"]
        assert short["ids"] == [f["id"] for f in features] + [None] * (k - len(features))
        expected = [f["properties"]["distance_m"] for f in features]
        assert short["distance_m"][:len(features)] == pytest.approx(expected, abs=0.051)
        assert short["distance_m"][len(features):] == [None] * (k - len(features))


def test_points_times_k_is_capped_before_any_work(url: str):
    over = httpx.post(f"{url}/nearest/batch", json={"points": points(31), "k": 100}, timeout=30)
    assert over.status_code == 422
    (problem,) = over.json()["detail"]
    assert problem["loc"] == ["body", "points"]
    assert "31 points × k=100" in problem["msg"] and str(MAX_ANSWERS) in problem["msg"]
    assert httpx.post(f"{url}/nearest/batch", json={"points": points(30), "k": 100},
                      timeout=30).status_code == 200
    unknown = httpx.post(f"{url}/nearest/batch", json={"points": points(1), "format": "csv"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "format"]


def test_large_answers_are_sent_in_parts(url: str):
    """30 points × k=100 is 3,000 GeoJSON features, made and sent in parts of 2,000 answers:
    chunked, without a Content-Length, and one valid document in the end."""
    with httpx.stream("POST", f"{url}/nearest/batch", json={"points": points(30), "k": 100},
                      headers={"Accept-Encoding": "gzip"}, timeout=30) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        raw = b"".join(response.iter_raw())
    answer = orjson.loads(gzip.decompress(raw))
    assert answer["numberOfPoints"] == 30 and len(answer["results"]) == 30
    assert all(len(r["features"]) == 6 for r in answer["results"])


def test_the_service_answers_compact_without_http(sample_gpkg: Path):
    from stations.service import BatchFormat, NearestOptions, StationService

    service = StationService.load(sample_gpkg)
    raw = service.find_nearest_batch([108.37], [22.8], NearestOptions(k=2),
                                     answer_format=BatchFormat.COMPACT)
    assert b" " not in raw and b"\x00" not in raw  # no padding left
    answer = orjson.loads(raw)
    single = orjson.loads(service.find_nearest(108.37, 22.8, NearestOptions(k=2)))["features"]
    assert answer["results"] == [{"ids": ["NN-001", "NN-002"],
                                  "distance_m": [f["properties"]["distance_m"] for f in single]}]


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_ndjson_is_one_compact_result_per_line_streamed(url: str, encoding: str):
    batch = points(300, seed=2)
    options = {"k": 7, "radius_m": 80_000, "amenity": ["microwave"]}
    compact = httpx.post(f"{url}/nearest/batch", json={"points": batch, "format": "compact",
                                                        **options}, timeout=30).json()
    with httpx.stream("POST", f"{url}/nearest/batch", timeout=30,
                      json={"points": batch, "format": "ndjson", **options},
                      headers={"Accept-Encoding": encoding}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.headers.get("content-encoding", "identity") == encoding
        text = b"".join(response.iter_bytes())
    assert text.endswith(b"\n") and text.count(b"\n") == len(batch)
    lines = [orjson.loads(line) for line in text.splitlines()]
    assert lines == compact["results"]
    assert any(None in line["ids"] for line in lines)  # the radius left some short


@pytest.mark.parametrize(("accept", "body_format", "expected"), [
    ("application/x-ndjson", None, "application/x-ndjson"),
    ("application/json, application/ndjson;q=0.5", None, "application/x-ndjson"),
    ("application/x-ndjson;q=0", None, "application/json"),
    ("application/x-ndjson", "compact", "application/json"),  # the body's format wins
    ("*/*", None, "application/json"),
])
def test_accept_chooses_ndjson_when_the_body_names_no_format(
        url: str, accept: str, body_format: str | None, expected: str):
    body: dict[str, object] = {"points": points(3), "k": 2}
    if body_format:
        body["format"] = body_format
    response = httpx.post(f"{url}/nearest/batch", json=body, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == expected
    if expected == "application/x-ndjson":
        compact = httpx.post(f"{url}/nearest/batch", json={**body, "format": "compact"})
        assert [orjson.loads(line) for line in response.content.splitlines()] \
            == compact.json()["results"]
