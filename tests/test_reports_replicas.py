"""Riders' reports on a national deployment: two real ``stations serve --database`` replicas on
one PostGIS share the reports, their budgets and their resolutions."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from live_server import stations_serve
from store_fixtures import AT, needs_database, sample_store

from stations.store import Scope

pytestmark = [pytest.mark.postgis, needs_database]


@pytest.fixture
def pg_store(tmp_path):
    yield from sample_store("postgis", tmp_path)


def test_replicas_share_reports_budgets_and_resolutions(pg_store, sample_gpkg):
    _, nanning_key = pg_store.create_key("南宁市总工会", Scope(city="南宁市"), AT)
    _, yunyang_key = pg_store.create_key("云阳县总工会", Scope(district="云阳县"), AT)
    env = {**os.environ, "STATIONS_REPORTS_PER_ADDRESS": "2"}
    with ExitStack() as servers:
        a, b = (servers.enter_context(stations_serve(sample_gpkg, "--database", pg_store.url,
                                                     env=env))[0] for _ in range(2))
        shared_budget_and_resolution(a, b, {"Authorization": f"Bearer {nanning_key}"},
                                     {"Authorization": f"Bearer {yunyang_key}"})


def shared_budget_and_resolution(a: str, b: str, nanning: dict[str, str],
                                 yunyang: dict[str, str]) -> None:
    # Eight riders' reports from one address at once, half to each replica: the budget of two
    # open reports per address holds across both (one transaction per report in PostGIS).
    burst = [(replica, station, kind) for station in ("NN-001", "NN-002", "NN-003", "NN-004")
             for replica, kind in ((a, "other"), (b, "charger_missing"))]

    def send(target: tuple[str, str, str]) -> httpx.Response:
        replica, station, kind = target
        return httpx.post(f"{replica}/stations/{station}/reports", json={"kind": kind},
                          timeout=30)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, burst))
    assert sorted(r.status_code for r in answers) == [201] * 2 + [429] * 6
    limited = next(r for r in answers if r.status_code == 429)
    assert int(limited.headers["retry-after"]) > 0 and "this address" in limited.json()["detail"]
    stored = sorted(r.json()["id"] for r in answers if r.status_code == 201)

    # Each replica's office API lists both reports, whichever replica took them.
    for replica in (a, b):
        listed = httpx.get(f"{replica}/office/reports", headers=nanning).json()["reports"]
        assert sorted(r["id"] for r in listed) == stored
        assert httpx.get(f"{replica}/office/reports", headers=yunyang).json() == {"reports": []}

    # Another office may not resolve them; the office of the station resolves one on B.
    refused = httpx.post(f"{b}/office/reports/{stored[0]}/resolve", headers=yunyang,
                         json={"note": "不是我们的"})
    assert refused.status_code == 403
    resolved = httpx.post(f"{b}/office/reports/{stored[0]}/resolve", headers=nanning,
                          json={"note": "已修好 <b>微波炉</b>"})
    assert resolved.status_code == 200, resolved.text
    seen_on_a = httpx.get(f"{a}/office/reports", params={"include_resolved": "true"},
                          headers=nanning).json()["reports"]
    closed = next(r for r in seen_on_a if r["id"] == stored[0])
    assert (closed["outcome"], closed["resolution_note"], closed["open"]) == (
        "resolved", "已修好 <b>微波炉</b>", False)
    assert closed["resolved_by"].startswith("南宁市总工会") and closed["resolved_at"]
    again = httpx.post(f"{a}/office/reports/{stored[0]}/dismiss", headers=nanning)
    assert again.status_code == 409 and again.json()["report"] == closed

    # The resolved report stops counting on both replicas: one more fits, then none.
    assert send((a, "YY-001", "other")).status_code == 201
    assert send((b, "YY-002", "other")).status_code == 429
