"""Offices edit their stations over HTTP: keys, scopes, versions, history, revert, reports."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from store_fixtures import AT

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.store import Scope
from stations.store.gpkg import GeoPackageStore


@pytest.fixture
def setup(sample_gpkg):
    store = GeoPackageStore(sample_gpkg)
    _, nanning = store.create_key("南宁市总工会", Scope(city="南宁市"), AT)
    _, yunyang = store.create_key("云阳县总工会", Scope(district="云阳县"), AT)
    client = TestClient(create_app(ApiSettings(data=sample_gpkg, reload_interval_s=0)))
    return client, {"Authorization": f"Bearer {nanning}"}, {"Authorization": f"Bearer {yunyang}"}


def unchanged(client, auth) -> None:
    station = client.get("/office/stations/NN-001", headers=auth)
    assert station.json()["version"] == 1 and station.headers["etag"] == '"1"'
    assert client.get("/stations/NN-001/history", headers=auth).json() == {"entries": []}


def test_an_office_edits_its_station_and_riders_see_it(setup):
    client, nanning, _ = setup
    answer = client.patch("/stations/NN-001", json={"name": "新<b>名</b>"},
                          headers={**nanning, "If-Match": '"1"'})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 2 and answer.headers["etag"] == '"2"'
    public = client.get("/stations/NN-001").json()
    assert public["properties"]["name"] == "新<b>名</b>"
    (entry,) = client.get("/stations/NN-001/history", headers=nanning).json()["entries"]
    assert entry["who"].startswith("南宁市总工会") and entry["action"] == "update"
    assert entry["changes"][0]["before"]["name"] == "民族大道枫林路口工会驿站"


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"Authorization": "Bearer kdeadbeef.nothing"}, 401),
    ({"Authorization": "Basic abc"}, 401),
])
def test_without_a_valid_key_nothing_changes(setup, headers, status):
    client, nanning, _ = setup
    answer = client.patch("/stations/NN-001", json={"name": "x"},
                          headers={**headers, "If-Match": '"1"'})
    assert answer.status_code == status and "detail" in answer.json()
    assert answer.headers["www-authenticate"] == "Bearer"
    unchanged(client, nanning)


def test_out_of_scope_stale_and_bad_writes_change_nothing(setup):
    client, nanning, yunyang = setup
    out = client.patch("/stations/NN-001", json={"name": "x"}, headers={**yunyang, "If-Match": "1"})
    assert out.status_code == 403
    missing = client.patch("/stations/NN-001", json={"name": "x"}, headers=nanning)
    assert missing.status_code == 428
    stale = client.patch("/stations/NN-001", json={"name": "x"},
                         headers={**nanning, "If-Match": '"5"'})
    assert stale.status_code == 412
    assert stale.json()["current"]["version"] == 1
    assert stale.json()["current"]["name"] == "民族大道枫林路口工会驿站"
    bad = client.patch("/stations/NN-001", json={"lat": 95},
                       headers={**nanning, "If-Match": '"1"'})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "lat"]
    unknown = client.patch("/stations/NN-001", json={"colour": "red"},
                           headers={**nanning, "If-Match": '"1"'})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "colour"]
    assert client.patch("/stations/NN-404", json={}, headers={**nanning, "If-Match": "1"}
                        ).status_code == 404
    unchanged(client, nanning)


def test_two_offices_editing_at_once_lose_nothing(setup):
    client, nanning, _ = setup
    first = client.patch("/stations/NN-002", json={"phone": "111"},
                         headers={**nanning, "If-Match": '"1"'})
    second = client.patch("/stations/NN-002", json={"phone": "222"},
                          headers={**nanning, "If-Match": '"1"'})
    assert (first.status_code, second.status_code) == (200, 412)
    assert second.json()["current"]["phone"] == "111"


def test_create_close_reopen_and_revert(setup):
    client, nanning, yunyang = setup
    body = {"id": "NN-100", "name": "新站", "address": "南宁市某路", "city": "南宁市",
            "lon": 108.41, "lat": 22.81, "amenities": ["微波炉", "wifi"]}
    created = client.post("/stations", json=body, headers=nanning)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/stations/NN-100"
    assert created.json()["amenities"] == ["microwave", "wifi"]
    assert client.post("/stations", json=body, headers=nanning).status_code == 409
    assert client.post("/stations", json={**body, "id": "NN-101", "city": "南宁市"},
                       headers=yunyang).status_code == 403
    nearest = client.get("/nearest", params={"lon": 108.41, "lat": 22.81, "k": 1}).json()
    assert nearest["features"][0]["id"] == "NN-100"

    closed = client.post("/stations/NN-100/status", json={"status": "temporarily_closed"},
                         headers={**nanning, "If-Match": '"1"'})
    assert closed.json()["status"] == "temporarily_closed"
    reopened = client.post("/stations/NN-100/status", json={"status": "reopened"},
                           headers={**nanning, "If-Match": '"2"'})
    assert reopened.json()["status"] == "open" and reopened.json()["version"] == 3
    assert client.post("/stations/NN-100/status", json={"status": "gone"},
                       headers={**nanning, "If-Match": '"3"'}).status_code == 422

    entries = client.get("/stations/NN-100/history", headers=nanning).json()["entries"]
    assert [e["action"] for e in entries] == ["status", "status", "create"]
    assert client.post(f"/history/{entries[0]['id']}/revert", headers=yunyang).status_code == 403
    undone = client.post(f"/history/{entries[0]['id']}/revert", headers=nanning)
    assert undone.status_code == 200 and undone.json()["revert_of"] == entries[0]["id"]
    assert client.get("/office/stations/NN-100", headers=nanning).json()["status"] == \
        "temporarily_closed"
    assert client.post(f"/history/{entries[2]['id']}/revert", headers=nanning).status_code == 412
    assert client.post("/history/9999/revert", headers=nanning).status_code == 404


def test_offices_see_and_resolve_only_their_reports(setup):
    client, nanning, yunyang = setup
    for station in ("NN-001", "YY-001"):
        assert client.post(f"/stations/{station}/reports", json={"kind": "other"}
                           ).status_code == 201
    mine = client.get("/office/reports", headers=nanning).json()["reports"]
    assert [r["station_id"] for r in mine] == ["NN-001"]
    theirs = client.get("/office/reports", headers=yunyang).json()["reports"]
    assert client.post(f"/office/reports/{theirs[0]['id']}/resolve",
                       headers=nanning).status_code == 403
    resolved = client.post(f"/office/reports/{mine[0]['id']}/resolve", headers=nanning)
    assert resolved.status_code == 200 and resolved.json()["open"] is False
    assert resolved.json()["resolved_by"].startswith("南宁市总工会")
    assert client.get("/office/reports", headers=nanning).json()["reports"] == []


def test_reports_are_resolved_or_dismissed_with_a_note_once(setup):
    client, nanning, yunyang = setup
    ids = [client.post(f"/stations/{station}/reports", json={"kind": kind}).json()["id"]
           for station, kind in (("NN-001", "other"), ("NN-001", "charger_missing"),
                                 ("NN-002", "other"))]
    dismissed = client.post(f"/office/reports/{ids[1]}/dismiss", headers=nanning,
                            json={"note": "充电器在前台 <i>ask</i>"})
    assert dismissed.status_code == 200, dismissed.text
    assert (dismissed.json()["outcome"], dismissed.json()["resolution_note"]) == (
        "dismissed", "充电器在前台 <i>ask</i>")
    again = client.post(f"/office/reports/{ids[1]}/resolve", headers=nanning,
                        json={"note": "x"})
    assert again.status_code == 409 and again.json()["report"] == dismissed.json()
    too_long = client.post(f"/office/reports/{ids[0]}/resolve", headers=nanning,
                           json={"note": "字" * 501})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "note"]
    assert client.post("/office/reports/999/resolve", headers=nanning).status_code == 404
    assert client.post(f"/office/reports/{ids[0]}/dismiss", json={"note": "x"}
                       ).status_code == 401
    station = client.get("/office/reports?station=NN-001&include_resolved=true",
                         headers=nanning).json()["reports"]
    assert [r["id"] for r in station] == [ids[1], ids[0]]  # newest first
    assert client.get("/office/reports?station=NN-001", headers=yunyang).status_code == 403
    assert client.get("/office/reports?station=NN-404", headers=nanning).status_code == 404
    assert [r["id"] for r in client.get("/office/reports", headers=nanning).json()["reports"]
            ] == [ids[2], ids[0]]


def test_the_office_sees_its_key_and_stations(setup):
    client, nanning, _ = setup
    me = client.get("/office", headers=nanning).json()
    assert me["office"] == "南宁市总工会" and me["scope"]["city"] == "南宁市"
    stations = client.get("/office/stations", headers=nanning).json()["stations"]
    assert [s["id"] for s in stations] == ["NN-001", "NN-002", "NN-003", "NN-004"]
    assert client.get("/office/stations/YY-001", headers=nanning).status_code == 403
