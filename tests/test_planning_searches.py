"""Search counts: cells and days only, a privacy threshold when read, counted by the API."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from fastapi.testclient import TestClient
from planning_data import at_km

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.crs import wgs84_to_gcj02
from stations.errors import PlanningError
from stations.planning.reach import StraightLineReach
from stations.planning.search_counts import SearchCounter, cell_centres, cell_of
from stations.planning.searches import read_search_counts, search_gaps

DAY = dt.date(2026, 11, 3)


def test_cells_are_about_500_m_and_centres_invert_them():
    lon, lat = at_km(3.3, 7.7)
    row, col = cell_of(lon, lat)
    centre_lon, centre_lat = cell_centres([row], [col])
    assert cell_of(float(centre_lon[0]), float(centre_lat[0])) == (row, col)
    assert cell_of(*at_km(3.3 + 0.5, 7.7)) == (row, col + 1)  # 500 m east: next column
    assert cell_of(*at_km(3.3, 7.7 + 0.5))[0] == row + 1  # 500 m north: next row


def test_threshold_suppresses_quiet_cells(tmp_path):
    days = iter([DAY] * 9 + [DAY, DAY + dt.timedelta(days=1)] * 5)
    counter = SearchCounter(tmp_path / "searches.sqlite", today=lambda: next(days))
    quiet, busy = at_km(1, 1), at_km(8, 8)
    for _ in range(9):
        counter.record(*quiet)
    for _ in range(10):
        counter.record(*busy)
    assert counter.flush() == 3  # quiet on one day, busy on two
    with sqlite3.connect(tmp_path / "searches.sqlite") as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(search_counts)")]
    assert columns == ["day", "cell_m", "row", "col", "count"]  # no positions, no clients
    cells = read_search_counts(tmp_path / "searches.sqlite", DAY, DAY + dt.timedelta(days=1))
    assert cells.searches.tolist() == [10]
    assert cell_of(float(cells.lon[0]), float(cells.lat[0])) == cell_of(*busy)
    # Nine searches from one cell stay hidden at the default threshold of 10, shown at 9;
    # the busy cell had only 5 on the first day alone, so it is hidden for that day.
    lowered = read_search_counts(tmp_path / "searches.sqlite", DAY, DAY, min_count=9)
    assert lowered.searches.tolist() == [9]
    with pytest.raises(PlanningError, match="at least 1"):
        read_search_counts(tmp_path / "searches.sqlite", DAY, DAY, min_count=0)


def test_search_gaps_say_how_often_and_how_far(tmp_path):
    counter = SearchCounter(tmp_path / "s.sqlite", today=lambda: DAY)
    for _ in range(1240):
        counter.record(*at_km(5, 5))
    counter.flush()
    cells = read_search_counts(tmp_path / "s.sqlite", DAY, DAY)
    station = at_km(5, 8.2)
    gaps = search_gaps(cells, StraightLineReach([station[0]], [station[1]], 1000))
    assert gaps["searches"].tolist() == [1240]
    assert gaps["nearest_m"].iloc[0] == pytest.approx(3200, abs=400)
    assert "riders searched here 1,240 times in 1 days" in gaps["text"].iloc[0]


def test_api_counts_searches_only_when_turned_on(sample_gpkg, tmp_path):
    store = tmp_path / "searches.sqlite"
    settings = ApiSettings(data=sample_gpkg, reload_interval_s=0, search_counts=True,
                           search_counts_file=store)
    clock = lambda: dt.datetime(2026, 11, 3, 12, 0)  # noqa: E731
    gcj = wgs84_to_gcj02(108.3960, 22.8170)
    with TestClient(create_app(settings, clock=clock)) as client:
        for _ in range(3):
            assert client.get("/nearest", params={"lon": 108.3960, "lat": 22.8170}).is_success
        assert client.get("/nearest", params={"lon": float(gcj[0]), "lat": float(gcj[1]),
                                              "crs": "gcj02"}).is_success
        assert client.get("/nearest", params={"lon": 500, "lat": 0}).status_code == 422
    cells = read_search_counts(store, DAY, DAY, min_count=1)
    assert cells.searches.tolist() == [4]  # the GCJ-02 search lands in the same cell
    assert cell_of(float(cells.lon[0]), float(cells.lat[0])) == cell_of(108.3960, 22.8170)
    off = ApiSettings(data=sample_gpkg, reload_interval_s=0,
                      search_counts_file=tmp_path / "off.sqlite")
    with TestClient(create_app(off, clock=clock)) as client:
        client.get("/nearest", params={"lon": 108.3960, "lat": 22.8170})
    assert not (tmp_path / "off.sqlite").exists()
