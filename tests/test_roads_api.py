"""``by=road`` on GET /nearest and POST /nearest/batch, and ``stations serve --roads``."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from reliability.test_limits import stations_serve
from roads_data import (
    EBIKE_M,
    RIDER,
    STATION_XY,
    WALK_M,
    lonlat,
    write_river_city,
    write_river_stations,
)

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cli import EXIT_ERROR, main
from stations.crs import CoordinateSystem, from_wgs84

RIDER_QUERY = dict(zip(("lon", "lat"), lonlat(*RIDER), strict=True))


@pytest.fixture(scope="module")
def river_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("river-api")
    return (write_river_stations(folder / "stations.gpkg"),
            write_river_city(folder / "river.osm.pbf"))


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "framework-route"])
def client(request, river_files):
    gpkg, roads = river_files
    return TestClient(create_app(ApiSettings(data=gpkg, roads=roads, reload_interval_s=0,
                                             fast_path=request.param)))


@pytest.fixture(scope="module")
def client_without_roads(river_files):
    return TestClient(create_app(ApiSettings(data=river_files[0], reload_interval_s=0)))


def test_by_road_ranks_by_the_ride_not_the_crow(client):
    straight = client.get("/nearest", params={**RIDER_QUERY, "k": 2}).json()
    assert [f["id"] for f in straight["features"]] == ["NN-001", "NN-002"]
    assert straight["distance_basis"] == "straight"

    answer = client.get("/nearest", params={**RIDER_QUERY, "k": 5, "by": "road"}).json()
    assert answer["distance_basis"] == "road"
    b, a = answer["features"]  # NN-003 is far from every road: left out
    assert (b["id"], a["id"]) == ("NN-002", "NN-001")
    assert b["properties"]["distance_basis"] == "road"
    assert b["properties"]["road_distance_m"] == pytest.approx(EBIKE_M["B"], abs=1)
    a_props = a["properties"]
    assert a_props["road_distance_m"] == a_props["distance_m"]
    assert a_props["distance_m"] == pytest.approx(EBIKE_M["A"], abs=1)
    assert a_props["straight_distance_m"] == pytest.approx(349, abs=1)
    assert a_props["ebike_min"] == 5 and a_props["walk_min"] == 17  # 1220 m at 250 and 75 m/min


def test_nothing_within_reach_by_road_offers_the_nearest_beyond(client):
    answer = client.get("/nearest", params={**RIDER_QUERY, "by": "road",
                                            "radius_m": 500}).json()
    assert answer["features"] == []
    beyond = answer["nearestBeyondReach"]
    assert beyond["id"] == "NN-002"
    assert beyond["properties"]["road_distance_m"] == pytest.approx(EBIKE_M["B"], abs=1)


def test_walking_profile_and_filters(client):
    walk = client.get("/nearest", params={**RIDER_QUERY, "by": "road", "profile": "walk"})
    assert [f["properties"]["road_distance_m"] for f in walk.json()["features"]] == \
        pytest.approx([WALK_M["A"], WALK_M["B"]], abs=1)
    fridge = client.get("/nearest", params={**RIDER_QUERY, "by": "road", "amenity": "fridge"})
    assert [f["id"] for f in fridge.json()["features"]] == ["NN-001"]
    other_city = client.get("/nearest", params={**RIDER_QUERY, "by": "road", "city": "重庆市"})
    assert other_city.json()["features"] == []


def test_route_geometry_in_the_callers_coordinates(client):
    start = [float(v) for v in from_wgs84(*lonlat(*RIDER), CoordinateSystem.GCJ02)]
    answer = client.get("/nearest", params={"lon": start[0], "lat": start[1], "k": 1,
                                            "by": "road", "geometry": "route",
                                            "crs": "gcj02"}).json()
    (feature,) = answer["features"]
    route = feature["properties"]["route"]
    # rider, onto the street, the crossing at x = 1000, off the street, station
    assert route["type"] == "LineString" and len(route["coordinates"]) == 5
    end = from_wgs84(*lonlat(*STATION_XY["B"]), CoordinateSystem.GCJ02)
    assert route["coordinates"][0] == pytest.approx(start, abs=1e-5)  # GCJ-02 round trip
    assert route["coordinates"][-1] == pytest.approx([float(v) for v in end], abs=1e-6)
    assert feature["geometry"]["coordinates"] == route["coordinates"][-1]


def test_batch_by_road(client):
    far = lonlat(100, 3000)
    response = client.post("/nearest/batch", json={
        "points": [list(lonlat(*RIDER)), list(lonlat(1300, 20))], "k": 1, "by": "road"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {r["distance_basis"] for r in body["results"]} == {"road"}
    assert [r["features"][0]["id"] for r in body["results"]] == ["NN-002", "NN-002"]
    # A point away from every road (outside the extract) is answered by straight line.
    mixed = client.post("/nearest/batch", json={"points": [list(lonlat(*RIDER)), list(far)],
                                                "by": "road"}).json()
    assert [r["distance_basis"] for r in mixed["results"]] == ["road", "straight"]
    assert mixed["results"][1]["features"][0]["id"] == "NN-003"  # 2.1 km as the crow flies


@pytest.mark.parametrize(("params", "field"), [
    ({"by": "bus"}, "by"),
    ({"by": "road", "profile": "car"}, "profile"),
    ({"by": "road", "geometry": "polygon"}, "geometry"),
])
def test_bad_road_options_name_the_field(client, params, field):
    response = client.get("/nearest", params={**RIDER_QUERY, **params})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_rider_far_from_roads_gets_the_straight_line_answer(client):
    far = dict(zip(("lon", "lat"), lonlat(0, 3000), strict=True))
    answer = client.get("/nearest", params={**far, "by": "road"}).json()
    assert answer["distance_basis"] == "straight"
    assert [f["id"] for f in answer["features"]] == ["NN-003", "NN-001", "NN-002"]


def test_without_roads_by_road_is_a_clear_422(client_without_roads):
    response = client_without_roads.get("/nearest", params={**RIDER_QUERY, "by": "road"})
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["query", "by"] and "--roads" in problem["msg"]
    batch = client_without_roads.post("/nearest/batch", json={
        "points": [list(lonlat(*RIDER))], "by": "road"})
    assert batch.status_code == 422 and batch.json()["detail"][0]["loc"] == ["body", "by"]
    assert client_without_roads.get("/nearest", params=RIDER_QUERY).status_code == 200
    assert client_without_roads.get("/health").json()["roads"] is None
    document = client_without_roads.get("/openapi.json").json()
    (by,) = (p for p in document["paths"]["/nearest"]["get"]["parameters"] if p["name"] == "by")
    assert by["schema"]["enum"] == ["straight"]


def test_rider_page_asks_by_road_when_roads_are_served(client, client_without_roads):
    html = {"Accept": "text/html"}
    assert '"by_road": true' in client.get("/", headers=html).text
    assert '"by_road": false' in client_without_roads.get("/", headers=html).text


def test_health_lists_stations_off_the_road(client):
    roads = client.get("/health").json()["roads"]
    assert roads["file"].endswith("river.osm.pbf")
    assert [s["id"] for s in roads["stations_off_road"]["ebike"]] == ["NN-003"]


def test_real_server_started_with_roads(river_files):
    gpkg, roads = river_files
    with stations_serve(gpkg, "--roads", str(roads)) as (url, _):
        answer = httpx.get(f"{url}/nearest", params={**RIDER_QUERY, "by": "road"}).json()
        assert [f["id"] for f in answer["features"]] == ["NN-002", "NN-001"]
        health = httpx.get(f"{url}/health").json()
        assert health["roads"]["stations_off_road"]["walk"][0]["id"] == "NN-003"


# With workers, the parent checks that the extract exists; each worker reads it itself.
@pytest.mark.parametrize(("content", "workers"), [(None, "1"), (None, "2"),
                                                  (b"not a protocol buffer", "1")])
def test_bad_roads_file_is_a_clean_error(river_files, tmp_path, capsys, monkeypatch, content,
                                         workers):
    for name in ("STATIONS_DATA", "STATIONS_ROADS"):  # restored after the test
        monkeypatch.setenv(name, "")
    roads = tmp_path / "city.osm.pbf"
    if content is not None:
        roads.write_bytes(content)
    assert main(["serve", "--data", str(river_files[0]), "--roads", str(roads),
                 "--workers", workers]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("stations serve: error:") and str(roads) in err
    assert "Traceback" not in err


def test_road_answers_carry_the_network_in_their_etag(river_files, tmp_path):
    """A server restarted on another extract must not confirm a rider's cached road answer."""
    gpkg, roads = river_files
    fewer_bridges = write_river_city(tmp_path / "fewer-bridges.osm.pbf", bridges=(0, 2000))
    query = {**RIDER_QUERY, "at": "2025-03-01T12:00:00+08:00"}
    tags = {}
    for name, extract in (("all", roads), ("fewer", fewer_bridges)):
        client = TestClient(create_app(ApiSettings(data=gpkg, roads=extract, reload_interval_s=0)))
        tags[name] = {by: client.get("/nearest", params={**query, "by": by}).headers["etag"]
                      for by in ("straight", "road")}
        if name == "fewer":
            stale = client.get("/nearest", params={**query, "by": "road"},
                               headers={"If-None-Match": tags["all"]["road"]})
            assert stale.status_code == 200
            assert client.get("/health").json()["roads"]["version"] in tags[name]["road"]
    assert tags["all"]["straight"] == tags["fewer"]["straight"]
    assert tags["all"]["road"] != tags["fewer"]["road"]
