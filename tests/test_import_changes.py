"""A re-imported sheet without ids: the change set counts exactly what happened to each station.

A month after the first import the office sends its sheet again with one station renamed
where it stands, three moved (200 m, 60 m, 30 m), one phone changed, one gone and three new
stations 100 m from existing ones under other names (one beside the gone station, one beside
the renamed one).  Stations are found again by name and place, so none of the new ones may be
taken for an old one.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from office_sheets import excel_csv, nanning_rows, true_positions
from store_fixtures import fresh_database, needs_database

from stations.cli import main
from stations.crs import from_wgs84
from stations.geodata import station_frame, write_stations
from stations.ingest.build import check_sources
from stations.ingest.changes import apply_changes, diff
from stations.ingest.sources import make_spec
from stations.store import open_store
from stations.store.gpkg import GeoPackageStore
from stations.store.migrate import copy_store
from stations.store.postgis import PostGISStore

HEADING = ["驿站名称", "详细地址", "所在区县", "经度", "纬度", "联系电话", "开放时间", "服务设施"]
COUNT = 8
EXPECTED = {"added": 3, "changed": 5, "moved": 2, "missing": 1, "unchanged": 2}
EXPECTED_LINE = ("新增 3 added, 修改 5 changed (其中移动超过 50 米 2 moved > 50 m), "
                 "缺失 1 missing, 不变 2 unchanged")


def shift(row: list[str], index: int, east_deg: float = 0.0, north_deg: float = 0.0) -> None:
    """Put station ``index``'s row at its true position moved east/north, in BD-09."""
    lon, lat = true_positions(COUNT)
    shown = from_wgs84(lon[index] + east_deg, lat[index] + north_deg, "bd09")
    row[3], row[4] = f"{float(shown[0]):.7f}", f"{float(shown[1]):.7f}"


def next_month(rows: list[list[str]]) -> list[list[str]]:
    later = [list(r) for r in rows]
    later[1][0] = "青秀区民族大道职工驿站"  # renamed where it stands
    shift(later[2], 2, east_deg=0.002)  # ~205 m
    shift(later[4], 4, east_deg=0.00059)  # ~60 m
    shift(later[5], 5, east_deg=0.0003)  # ~31 m: re-picked, not moved
    later[6][5] = "0771-5555555"
    for name, beside in (("新开甲驿站", 0), ("新开乙驿站", 3), ("新开丙驿站", 1)):
        new = list(rows[beside])
        new[0] = name
        shift(new, beside, north_deg=0.0009)  # ~100 m
        later.append(new)
    del later[3]  # gone
    return later


@pytest.fixture
def imported(tmp_path):
    """The first month applied to a store; the second month's sheet beside it."""
    data = tmp_path / "stations.gpkg"
    write_stations(station_frame({}, [], []), data)
    rows = nanning_rows("bd09", COUNT)
    excel_csv(tmp_path / "m1.csv", [HEADING, *rows])
    excel_csv(tmp_path / "m2.csv", [HEADING, *next_month(rows)])
    first = check_sources([make_spec(tmp_path / "m1.csv", "bd09")])
    store = open_store(data)
    try:
        apply_changes(store, diff(first.stations, store.snapshot(), first.made_ids),
                      missing=None, who="test", at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    finally:
        store.close()
    return data, tmp_path / "m2.csv", rows


def test_the_change_set_counts_each_kind_of_change(imported):
    data, sheet, rows = imported
    checked = check_sources([make_spec(sheet, "bd09")])
    assert (checked.rows_read, checked.rows_stored, checked.rows_rejected) == (10, 10, 0)
    store = open_store(data)
    try:
        before = {s.record["name"]: s.id for s in store.snapshot().stations}
        changes = diff(checked.stations, store.snapshot(), checked.made_ids)
    finally:
        store.close()
    assert {"added": len(changes.added), "changed": len(changes.changed),
            "moved": len(changes.moved), "missing": len(changes.missing),
            "unchanged": changes.unchanged} == EXPECTED
    assert changes.summary() == EXPECTED_LINE
    assert sorted(r["name"] for r in changes.added) == ["新开丙驿站", "新开乙驿站", "新开甲驿站"]
    assert [r["name"] for r in changes.missing] == [rows[3][0]]
    renamed = before[rows[1][0]]
    assert [(c.field, c.after) for c in changes.changed[renamed]] == [
        ("name", "青秀区民族大道职工驿站")]
    assert changes.records[renamed]["id"] == renamed  # keeps its id under the new name
    moved = {m.station_id: round(m.metres) for m in changes.moved}
    assert moved.keys() == {before[rows[2][0]], before[rows[4][0]]}
    assert 200 < moved[before[rows[2][0]]] < 210 and 55 < moved[before[rows[4][0]]] < 65
    assert [c.field for c in changes.changed[before[rows[5][0]]]] == ["position"]
    assert [(c.field, c.before, c.after) for c in changes.changed[before[rows[6][0]]]] == [
        ("phone", "0771-12351", "0771-5555555")]


def test_the_dry_run_prints_the_same_counts_and_writes_nothing(imported, tmp_path, capsys):
    data, sheet, _ = imported
    stored = data.read_bytes()
    review = tmp_path / "review.html"
    code = main(["import", str(sheet), "--crs", "bd09", "--data", str(data), "--dry-run",
                 "--review", str(review)])
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert EXPECTED_LINE in out
    assert out.count("新增 new") == 3 and out.count("missing from the sheet") == 1
    page = review.read_text(encoding="utf-8")
    assert page.count("<tr><td>") == 3 + 5 + 1  # the changes, not every station
    assert data.read_bytes() == stored


@pytest.mark.postgis
@needs_database
def test_a_sheet_imports_into_postgis_after_review(imported, tmp_path, capsys):
    data, sheet, _ = imported
    url = fresh_database()
    copy_store(GeoPackageStore(data), PostGISStore(url))
    args = ["import", str(sheet), "--crs", "bd09", "--database", url]
    assert main([*args, "--dry-run", "--review", str(tmp_path / "review.html")]) in (0, 1)
    key = re.search(r"review key: (\w+)", capsys.readouterr().out).group(1)  # type: ignore[union-attr]
    store = PostGISStore(url, migrate=False)
    try:
        before = store.snapshot()
        assert len(before.stations) == COUNT and len(store.history()) == 1
        assert main([*args, "--confirm", "0" * len(key), "--missing", "close"]) == 2
        assert store.snapshot() == before  # a stale review writes nothing
        assert main([*args, "--confirm", key, "--missing", "close"]) in (0, 1)
        entry = store.history(limit=1)[0]
        assert entry.action == "import" and entry.who == "stations import"
        assert key in entry.note and len(entry.changes) == 3 + 5 + 1
        after = {s.record["name"]: s for s in store.snapshot().stations}
        assert len(after) == COUNT + 3 and after["新开甲驿站"].version == 1
        assert sum(s.record["status"] == "closed" for s in after.values()) == 1
        assert store.snapshot().data_version != before.data_version
    finally:
        store.close()
