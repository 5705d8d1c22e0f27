"""What the API tells riders' apps: open states and their filter, reach, the page's reach."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import make_unknown_hours_frame
from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cli import EXIT_ERROR, main
from stations.geodata import write_stations

NANNING = {"lon": 108.37, "lat": 22.80}
RURAL_GUANGXI = {"lon": 108.0, "lat": 26.0}  # 350 km from the nearest sample station
WEEKEND_NIGHT = "2024-06-15T23:30:00+08:00"


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-riders") / "stations.gpkg"
    write_stations(make_unknown_hours_frame(), path)
    return path


@pytest.fixture(scope="module", params=[True, False], ids=["fast-path", "framework-route"])
def client(request: pytest.FixtureRequest, gpkg: Path) -> TestClient:
    return TestClient(create_app(ApiSettings(data=gpkg, reload_interval_s=0,
                                             fast_path=request.param, reach_m=15_000)))


def ids(answer: dict) -> set[str]:
    return {feature["id"] for feature in answer["features"]}


def test_nearest_filters_on_open_states(client):
    query = {**NANNING, "k": 10, "at": WEEKEND_NIGHT}
    everything = client.get("/nearest", params=query).json()
    states = {f["id"]: f["properties"]["open_state"] for f in everything["features"]}
    assert states == {"NN-001": "open", "NN-002": "open", "NN-003": "closed",
                      "NN-004": "closed", "YY-001": "unknown", "YY-002": "closed"}
    rider = client.get("/nearest", params={**query, "open_state": "open,unknown"}).json()
    assert ids(rider) == {"NN-001", "NN-002", "YY-001"}
    repeated = client.get("/nearest", params=[*query.items(), ("open_state", "unknown"),
                                              ("open_state", "open")]).json()
    assert repeated == rider
    known_open = client.get("/nearest", params={**query, "open_now": "true"}).json()
    assert ids(known_open) == {"NN-001", "NN-002"}


def test_bad_open_state_names_the_parameter(client):
    response = client.get("/nearest", params={**NANNING, "open_state": "open,maybe"})
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", "open_state"] and "maybe" in problem["msg"]
    for bad in ("open", ["open", 1]):
        response = client.post("/nearest/batch", json={"points": [[108.37, 22.8]],
                                                       "open_state": bad})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "open_state"]


def test_nothing_within_reach_carries_the_nearest_beyond(client):
    answer = client.get("/nearest", params={**RURAL_GUANGXI, "k": 8, "radius_m": 20_000,
                                             "open_state": "open,unknown",
                                             "at": WEEKEND_NIGHT}).json()
    assert answer["features"] == [] and answer["distance_basis"] == "straight"
    beyond = answer["nearestBeyondReach"]
    assert beyond["id"] == "NN-001" and beyond["properties"]["distance_m"] > 300_000
    batch = client.post("/nearest/batch", json={
        "points": [[NANNING["lon"], NANNING["lat"]], [RURAL_GUANGXI["lon"], RURAL_GUANGXI["lat"]]],
        "radius_m": 20_000, "open_state": ["open", "unknown"], "at": WEEKEND_NIGHT}).json()
    assert "nearestBeyondReach" not in batch["results"][0]
    assert batch["results"][1]["nearestBeyondReach"] == beyond


def test_ogc_items_and_stations_carry_and_filter_open_states(client):
    unknown = client.get("/collections/stations/items", params={"open_state": "unknown"})
    assert unknown.status_code == 200
    assert ids(unknown.json()) == {"YY-001"}
    assert unknown.json()["features"][0]["properties"]["open_state"] == "unknown"
    closed = client.get("/collections/stations/items", params={"open_state": "closed"}).json()
    assert "NN-004" in ids(closed) and "YY-001" not in ids(closed)  # temporarily closed
    bad = client.get("/collections/stations/items", params={"open_state": "shut"})
    assert bad.status_code == 400 and "open_state" in bad.text
    station = client.get("/stations/NN-004").json()
    assert station["properties"]["open_state"] == "closed"
    assert station["properties"]["open_now"] is False


def test_the_page_gets_the_operators_reach(client):
    page = client.get("/", headers={"Accept": "text/html"}).text
    vocabulary = json.loads(re.search(r'<script id="vocabulary"[^>]*>(.*?)</script>', page,
                                      re.S).group(1))
    assert vocabulary["reach_m"] == 15_000


@pytest.mark.parametrize("reach", ["0", "-5", "nan", "3000000"])
def test_serve_refuses_a_reach_out_of_range(gpkg, capsys, reach):
    assert main(["serve", "--data", str(gpkg), "--reach-m", reach]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "--reach-m" in err and "Traceback" not in err
