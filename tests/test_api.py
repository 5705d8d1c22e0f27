"""The web API through FastAPI's TestClient on a real GeoPackage."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from urllib.parse import parse_qsl

import orjson
import pytest
from conftest import make_sample_frame
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from stations.api.app import create_app
from stations.api.params import parse_nearest_query, query_pairs
from stations.api.settings import ApiSettings
from stations.crs import wgs84_to_bd09, wgs84_to_gcj02
from stations.errors import DataFileError
from stations.geodata import write_stations
from stations.model import AMENITY_CODES

NANNING = {"lon": 108.37, "lat": 22.80}
# NN-003 keeps Mo-Fr 08:00-18:00: open at the first moment only (Asia/Shanghai).
WEEKDAY_NOON = dt.datetime(2024, 6, 12, 12, 0)
WEEKEND_NIGHT = dt.datetime(2024, 6, 15, 23, 0)


@pytest.fixture(scope="module")
def api_gpkg(tmp_path_factory) -> Path:
    """The sample stations, written once for this module (none of its tests changes them)."""
    path = tmp_path_factory.mktemp("api") / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    return path


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "framework-route"])
def client(request, api_gpkg) -> TestClient:
    """Both ways GET /nearest can be answered; every test must pass on both."""
    settings = ApiSettings(data=api_gpkg, reload_interval_s=0, fast_path=request.param,
                           max_batch_points=50, max_body_bytes=20_000, clock_at=WEEKEND_NIGHT)
    return TestClient(create_app(settings))


def assert_names_parameter(response, location: str, name: str, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    (problem,) = response.json()["detail"]
    assert problem["loc"] == [location, name]
    assert problem["msg"]
    return problem


def test_nearest_geojson(client):
    response = client.get("/nearest", params={**NANNING, "k": 3})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    answer = response.json()
    assert answer["type"] == "FeatureCollection"
    assert answer["numberReturned"] == 3 and answer["crs"] == "wgs84"
    first = answer["features"][0]
    assert first["id"] == "NN-001" and first["geometry"]["type"] == "Point"
    assert set(first["properties"]) >= {"name", "address", "amenities", "distance_m",
                                        "bearing_deg", "walk_min", "ebike_min", "open_now"}
    distances = [f["properties"]["distance_m"] for f in answer["features"]]
    assert distances == sorted(distances)


@pytest.mark.parametrize(
    ("query", "name", "fragment"),
    [
        ({"lon": 108, "lat": 91}, "lat", "between -90 and 90"),
        ({"lon": "abc", "lat": 22}, "lon", "valid number"),
        ({"lon": 108, "lat": 22, "k": 0}, "k", "between 1 and 100"),
        ({"lon": 108, "lat": 22, "k": 10**9}, "k", "between 1 and 100"),
        ({"lon": 108, "lat": 22, "amenity": "pizza"}, "amenity", "microwave"),
        ({"lon": 108, "lat": 22, "crs": "mercator"}, "crs", "wgs84, gcj02, bd09"),
        ({"lon": 108, "lat": 22, "open_now": "maybe"}, "open_now", "boolean"),
        ({"lon": 108, "lat": 22, "at": "noon"}, "at", "ISO 8601"),
        ({"lon": 108, "lat": 22, "radius_m": -5}, "radius_m", "greater than 0"),
        ({"lon": "nan", "lat": 22}, "lon", "finite"),
        ({"lat": 22}, "lon", "required"),
        ({"lon": 108, "lat": 22, "amenities": "microwave"}, "amenities", "amenity"),
    ],
)
def test_bad_nearest_input_is_422_naming_the_parameter(client, query, name, fragment):
    problem = assert_names_parameter(client.get("/nearest", params=query), "query", name)
    assert fragment.lower() in problem["msg"].lower()


def test_filters_and_open_now_at(client):
    response = client.get("/nearest", params=[
        ("lon", 108.37), ("lat", 22.80), ("amenity", "microwave"), ("amenity", "ebike_charging"),
    ])
    assert [f["id"] for f in response.json()["features"]] == ["NN-002"]
    saturday_evening = "2024-06-15T20:00:00+08:00"
    response = client.get("/nearest", params={**NANNING, "k": 10, "open_now": "true",
                                              "at": saturday_evening, "city": "南宁市"})
    assert [f["id"] for f in response.json()["features"]] == ["NN-001", "NN-002"]
    response = client.get("/nearest", params={**NANNING, "k": 10, "at": saturday_evening})
    states = {f["id"]: f["properties"]["open_now"] for f in response.json()["features"]}
    assert states == {"NN-001": True, "NN-002": True, "NN-003": False, "NN-004": False,
                      "YY-001": True, "YY-002": True}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "framework-route"])
@pytest.mark.parametrize(("moment", "nn003_open"), [(WEEKDAY_NOON, True), (WEEKEND_NIGHT, False)],
                         ids=["weekday-noon", "weekend-night"])
def test_now_is_the_clock_the_app_is_given(api_gpkg, monkeypatch, fast_path, moment, nn003_open):
    """Without ``at`` the answer, and its ETag, follow the injected clock, never the wall's:
    ``STATIONS_CLOCK_AT`` (as a subprocess server is given it) and ``create_app(clock=...)``."""
    monkeypatch.setenv("STATIONS_CLOCK_AT", moment.isoformat())
    from_env = create_app(ApiSettings(data=api_gpkg, reload_interval_s=0, fast_path=fast_path))
    monkeypatch.delenv("STATIONS_CLOCK_AT")
    given_clock = create_app(ApiSettings(data=api_gpkg, reload_interval_s=0, fast_path=fast_path),
                             clock=lambda: moment)
    for app in (from_env, given_clock):
        client = TestClient(app)
        response = client.get("/nearest", params={**NANNING, "k": 10})
        states = {f["id"]: f["properties"]["open_now"] for f in response.json()["features"]}
        assert states["NN-003"] is nn003_open
        assert response.headers["etag"].endswith(f'-{moment:%Y%m%d%H%M}"')
        open_ids = [f["id"] for f in client.get("/nearest", params={
            **NANNING, "k": 3, "open_now": "true"}).json()["features"]]
        assert ("NN-003" in open_ids) is nn003_open
        batch = client.post("/nearest/batch", json={
            "points": [[NANNING["lon"], NANNING["lat"]]], "k": 10}).json()
        batch_states = {f["id"]: f["properties"]["open_now"]
                        for f in batch["results"][0]["features"]}
        assert batch_states == states


@pytest.mark.parametrize(("crs", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_chinese_coordinates_round_trip(client, crs, forward):
    wgs = client.get("/stations/NN-004").json()["geometry"]["coordinates"]
    app_lon, app_lat = (float(v) for v in forward(*wgs))
    answer = client.get("/nearest", params={"lon": app_lon, "lat": app_lat, "k": 1,
                                            "crs": crs}).json()
    (feature,) = answer["features"]
    assert answer["crs"] == crs
    assert feature["id"] == "NN-004"
    assert feature["properties"]["distance_m"] < 0.05
    assert feature["geometry"]["coordinates"] == pytest.approx([app_lon, app_lat], abs=1e-7)
    station = client.get("/stations/NN-004", params={"crs": crs}).json()
    assert station["geometry"]["coordinates"] == pytest.approx([app_lon, app_lat], abs=1e-7)


def test_etag_and_304(client):
    query = {**NANNING, "at": "2024-06-10T12:00:00+08:00"}
    first = client.get("/nearest", params=query)
    etag = first.headers["etag"]
    assert etag.startswith('W/"') and client.get("/health").json()["data_version"] in etag
    again = client.get("/nearest", params=query, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/nearest", params=query, headers={"If-None-Match": 'W/"old"'})
    assert other.status_code == 200
    station = client.get("/stations/NN-001")
    assert client.get("/stations/NN-001", headers={"If-None-Match": station.headers["etag"]}
                      ).status_code == 304


def test_gzip_for_large_bodies_only(client):
    response = client.get("/nearest", params={**NANNING, "k": 6},
                          headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    raw = client.get("/nearest", params={**NANNING, "k": 6},
                     headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert response.json() == raw.json()
    assert len(gzip.compress(raw.content)) < len(raw.content)
    small = client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers


def test_cors(client):
    origin = {"Origin": "https://rider.example"}
    response = client.get("/nearest", params=NANNING, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "etag" in response.headers["access-control-expose-headers"].lower()
    preflight = client.options("/nearest/batch", headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


def test_batch(client):
    points = [[108.37, 22.80], [108.70, 30.93]]
    response = client.post("/nearest/batch", json={"points": points, "k": 2,
                                                    "amenity": ["microwave"]})
    assert response.status_code == 200
    answer = response.json()
    assert answer["numberOfPoints"] == 2
    assert [[f["id"] for f in r["features"]] for r in answer["results"]] == [
        ["NN-001", "NN-002"], ["YY-001", "NN-004"]]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"points": []}, "points"),
        ({"points": [[1, 2]] * 51}, "points"),
        ({"points": [[1, 2, 3]]}, "points"),
        ({"points": [["a", 2]]}, "points"),
        ({"points": [[1, 95]]}, "points"),
        ({"points": [[1, 2]], "k": 0}, "k"),
        ({"points": [[1, 2]], "crs": "utm"}, "crs"),
        ({"points": [[1, 2]], "amenity": ["pizza"]}, "amenity"),
        ({"points": [[1, 2]], "colour": "red"}, "colour"),
    ],
)
def test_bad_batch_is_422(client, body, name):
    response = client.post("/nearest/batch", json=body)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"][:2] == ["body", name]


def test_batch_body_limits(client):
    huge = orjson.dumps({"points": [[108.0, 22.0]] * 10**6})
    response = client.post("/nearest/batch", content=huge,
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert client.post("/nearest/batch", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422


def test_station_amenities_health(client):
    station = client.get("/stations/YY-002")
    assert station.status_code == 200
    assert station.json()["properties"]["name"] == "<img src=x onerror=alert(1)>"
    missing = client.get("/stations/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]
    vocabulary = client.get("/amenities").json()["amenities"]
    assert [a["code"] for a in vocabulary] == list(AMENITY_CODES)
    assert vocabulary[2] == {"code": "microwave", "label_zh": "微波炉",
                             "label_en": "Microwave", "icon": "🍲"}
    health = client.get("/health").json()
    assert health["station_count"] == 6 and health["status"] == "ok"


def test_openapi_describes_parameters_and_errors(client):
    document = client.get("/openapi.json").json()
    get_nearest = document["paths"]["/nearest"]["get"]
    names = {p["name"] for p in get_nearest["parameters"]}
    assert names == {"lon", "lat", "k", "radius_m", "amenity", "open_now", "open_state", "at",
                     "city", "crs", "by", "profile", "geometry"}
    assert {"200", "304", "422"} <= set(get_nearest["responses"])
    batch = document["paths"]["/nearest/batch"]["post"]
    assert {"413", "422"} <= set(batch["responses"])
    assert "points" in batch["requestBody"]["content"]["application/json"]["schema"][
        "properties"]
    items = document["paths"]["/collections/stations/items"]["get"]
    assert {"bbox", "limit", "offset"} <= {p["name"] for p in items["parameters"]}


def test_unreadable_data_fails_at_creation(tmp_path):
    bad = tmp_path / "bad.gpkg"
    bad.write_bytes(b"garbage")
    with pytest.raises(DataFileError):
        create_app(ApiSettings(data=bad))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abk=&%+;2E5南", max_size=30))
def test_query_string_split_matches_the_standard_parser(text):
    assert query_pairs(text.encode()) == parse_qsl(text, keep_blank_values=True)


def test_option_sets_are_parsed_once_but_long_ones_are_not_kept():
    short = [("lon", "108.3"), ("lat", "22.8"), ("k", "3"), ("amenity", "微波炉")]
    _, _, first = parse_nearest_query(short)
    _, _, again = parse_nearest_query([("lon", "100"), ("lat", "30"), *short[2:]])
    assert again is first and first.amenities == ("microwave",) and first.k == 3
    long_city = [*short, ("city", "南" * 5000)]
    _, _, one = parse_nearest_query(long_city)
    _, _, other = parse_nearest_query(long_city)
    assert one == other and one is not other and one.city == "南" * 5000
