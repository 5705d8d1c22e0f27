"""The requests the fuzzers found failing, kept as plain regression tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.crs import to_wgs84


@pytest.fixture
def client(sample_gpkg: Path):
    with TestClient(create_app(ApiSettings(data=sample_gpkg, reload_interval_s=0))) as client:
        yield client


def test_ogc_items_filter_by_status(client):
    response = client.get("/collections/stations/items", params={"status": "open"})
    assert response.status_code == 200
    statuses = [f["properties"]["status"] for f in response.json()["features"]]
    assert statuses == ["open"] * 5  # NN-004 is temporarily closed
    closed = client.get("/collections/stations/items", params={"status": "temporarily_closed"})
    assert [f["id"] for f in closed.json()["features"]] == ["NN-004"]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-10:00"])
def test_open_now_at_the_ends_of_the_calendar(client, at):
    response = client.get("/nearest", params={"lon": 108.3, "lat": 22.8, "at": at,
                                              "open_now": "true"})
    assert response.status_code == 200


def test_unknown_parameter_named_with_a_non_ascii_digit(client):
    response = client.get("/collections", params={"²": "x"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "²"]


def test_batch_accepts_whole_number_k_and_names_bad_latitudes(client):
    ok = client.post("/nearest/batch", json={"points": [[108.3, 22.8]], "k": 2.0})
    assert ok.status_code == 200 and ok.json()["results"][0]["numberReturned"] == 2
    assert client.post("/nearest/batch", json={"points": [[108.3, 22.8]], "k": 2.5}
                       ).status_code == 422
    bad = client.post("/nearest/batch", json={"points": [[108.3, 91.0]]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][:2] == ["body", "points"]
    schema = client.get("/openapi.json").json()["paths"]["/nearest/batch"]["post"][
        "requestBody"]["content"]["application/json"]["schema"]["properties"]["points"]
    assert schema["items"]["prefixItems"][1] == {"type": "number", "minimum": -90,
                                                 "maximum": 90}


def test_inverse_transforms_at_the_poles_are_quiet_and_unchanged():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for crs in ("gcj02", "bd09"):
            lon, lat = to_wgs84([-124.1, 10.0], [90.0, -90.0], crs)
            assert lon.tolist() == [-124.1, 10.0] and lat.tolist() == [90.0, -90.0]


def test_unknown_parameter_named_with_a_huge_number(client):
    response = client.get("/conformance", params={"20000000000000000000": "false"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["query", "20000000000000000000"]


@pytest.mark.parametrize("k", ["-9223372036854775809", "99999999999999999999999"])
def test_k_beyond_64_bits_is_named_not_a_crash(client, k):
    response = client.get("/nearest", params={"lon": 108.3, "lat": 22.8, "k": k})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["query", "k"] and detail["input"] == k


@pytest.mark.parametrize(("method", "path"), [("PATCH", "/stations/NN-001"),
                                              ("POST", "/nearest/batch")])
def test_json_body_that_is_not_utf8_is_a_422_naming_the_body(client, method, path):
    response = client.request(method, path, content=b"\xdb\x80\xff\xfe[",
                              headers={"Content-Type": "application/json",
                                       "Authorization": "Bearer x.y", "If-Match": '"1"'})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_other_http_errors_keep_their_status(client):
    assert client.get("/no-such-page").status_code == 404
