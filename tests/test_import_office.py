"""An office's sheets through ``stations import`` end to end: review, apply, read back.

Every good station must land within 0.5 m of its true WGS84 position, the rows read must be the
stations stored plus the rows rejected, and the report names each bad row in Chinese with the
English beside it.
"""

from __future__ import annotations

import pytest
from office_sheets import check_positions, office_csv, office_workbook

from stations.cli import main
from stations.geodata import read_stations, station_frame, write_stations


def import_sheet(capsys, sheet, crs: str, data) -> str:
    """Review the sheet (--dry-run), then apply exactly that review; the output of both."""
    args = ["import", str(sheet), "--crs", crs, "--data", str(data), "--review",
            str(data.parent / "review.html")]
    assert main([*args, "--dry-run"]) == 1  # warnings or rejected rows: exit 1
    reviewed = capsys.readouterr()
    key = reviewed.out.split("review key: ")[1].split()[0]
    assert main([*args, "--confirm", key]) == 1
    applied = capsys.readouterr()
    assert "applied as history entry" in applied.out
    return reviewed.out + reviewed.err


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "stations.gpkg"
    write_stations(station_frame({}, [], []), path)
    return path


def test_an_excel_csv_in_bd09_lands_where_the_stations_are(tmp_path, data, capsys):
    office_csv(tmp_path / "南宁.csv")
    report = import_sheet(capsys, tmp_path / "南宁.csv", "bd09", data)
    assert "33 rows read = 30 valid + 3 rejected" in report
    for line in ("row 35 (第35行): lon: 「东经」不是数字 / '东经' is not a number",
                 "row 36 (第36行): name: 缺少名称 (name) / missing; every station needs 名称",
                 "row 37 (第37行): lon/lat: 经度和纬度两列似乎填反了 / (22.8, 108.3) lies outside"):
        assert f"南宁.csv {line}" in report
    stored = read_stations(data)
    assert len(stored) == 30
    check_positions(stored, 30)
    assert set(stored["city"]) == {"南宁市"} and set(stored["division_code"]) == {"450103"}


def test_a_workbook_of_district_sheets_lands_where_the_stations_are(tmp_path, data, capsys):
    office_workbook(tmp_path / "南宁.xlsx")
    report = import_sheet(capsys, tmp_path / "南宁.xlsx", "gcj02", data)
    assert "12 rows read = 12 valid + 0 rejected" in report
    assert "南宁.xlsx › 说明 row 1 (第1行): heading: 警告 warning: 找不到表头" in report
    stored = read_stations(data)
    assert len(stored) == 12
    check_positions(stored, 12)
    assert sorted(stored["district"]) == ["兴宁区"] * 6 + ["青秀区"] * 6
