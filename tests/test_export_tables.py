"""Amap/Tencent (GCJ-02) and Baidu (BD-09) POI import tables."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pyogrio
import pytest
from export_checks import assert_round_trip, codes_from_labels, ground_distance_m, hostile_frame

from stations.cli import main
from stations.export import default_filename, get_exporter
from stations.export.tables import neutralise_formula
from stations.geodata import read_stations
from stations.model import AMENITY_COLUMNS, TEXT_FIELDS


@pytest.fixture
def frame():
    return hostile_frame()


def _rows(path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel on Chinese Windows needs the UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


@pytest.mark.parametrize(("name", "crs", "label", "category"), [
    ("csv-gcj02", "gcj02", "GCJ-02", "分类"),
    ("csv-bd09", "bd09", "BD-09", "标签"),
])
def test_table_round_trips_in_its_coordinate_system(frame, tmp_path, name, crs, label, category):
    exporter = get_exporter(name)
    assert default_filename(exporter) == f"stations-{crs}.csv"
    path = tmp_path / default_filename(exporter)
    exporter.write(frame, path)
    rows = _rows(path)
    assert list(rows[0])[:6] == ["名称", "地址", "经度", "纬度", "电话", "营业时间"]
    assert category in rows[0]
    assert {row["坐标系"] for row in rows} == {label}
    read_back = pd.DataFrame({
        "id": [row["编号"] for row in rows],
        "name": [row["名称"].removeprefix("'") if row["名称"][1:2] in "=+-@\t" else row["名称"]
                 for row in rows],
        "codes": [codes_from_labels(row["服务设施"]) for row in rows],
        "lon": [float(row["经度"]) for row in rows],
        "lat": [float(row["纬度"]) for row in rows],
    })
    assert_round_trip(frame, read_back, crs)


def test_gdal_reads_the_table_with_chinese_headings(frame, tmp_path):
    path = tmp_path / "stations-bd09.csv"
    get_exporter("csv-bd09").write(frame, path)
    table = pyogrio.read_dataframe(path, X_POSSIBLE_NAMES="经度", Y_POSSIBLE_NAMES="纬度")
    assert len(table) == len(frame)
    assert table.geometry.x.between(73, 136).all()
    by_id = table.set_index("编号")
    assert by_id.loc["NN-001", "名称"] == "民族大道枫林路口工会驿站"
    assert by_id.loc["NN-001", "服务设施"].startswith("饮水、冰箱、微波炉")
    assert by_id.loc["NN-004", "状态"] == "暂停开放"


def test_formulas_are_neutralised_in_every_text_cell(frame, tmp_path):
    path = tmp_path / "stations-gcj02.csv"
    get_exporter("csv-gcj02").write(frame, path)
    rows = {row["编号"]: row for row in _rows(path)}
    assert rows["XX-001"]["名称"] == "'" + '=HYPERLINK("http://evil.example","点我")'
    assert rows["XX-002"]["名称"] == "'+1 中山路驿站"
    assert rows["XX-003"]["名称"].startswith("'-2 ")
    assert rows["XX-004"]["名称"].startswith("'@SUM")
    assert rows["XX-005"]["名称"] == "'\t制表符开头的驿站"
    assert rows["XX-001"]["电话"] == "'-12351"
    assert rows["NN-001"]["名称"] == "民族大道枫林路口工会驿站"
    for row in rows.values():
        for heading, cell in row.items():
            if heading not in ("经度", "纬度"):
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (heading, cell)


@pytest.mark.parametrize(("text", "expected"), [
    ("=1+1", "'=1+1"), ("+86 771", "'+86 771"), ("-1", "'-1"), ("@A1", "'@A1"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("民族大道", "民族大道"), ("a=b", "a=b"), ("", ""),
])
def test_neutralise_formula(text, expected):
    assert neutralise_formula(text) == expected


@pytest.mark.parametrize(("name", "crs"), [("csv-gcj02", "gcj02"), ("csv-bd09", "bd09")])
def test_stations_build_reads_the_table_back_to_the_same_stations(sample_gpkg, tmp_path, name,
                                                                  crs):
    table = tmp_path / f"stations-{crs}.csv"
    rebuilt = tmp_path / "rebuilt.gpkg"
    assert main(["export", "--format", name, "--data", str(sample_gpkg),
                 "--output", str(table)]) == 0
    assert main(["build", str(table), "--crs", crs, "--output", str(rebuilt)]) == 0
    before, after = read_stations(sample_gpkg), read_stations(rebuilt)
    made = ("division_code", "opening_hours_text")  # the build works these out
    columns = [*(f for f in TEXT_FIELDS if f not in made), *AMENITY_COLUMNS]
    pd.testing.assert_frame_equal(before[columns], after[columns])
    assert (after["division_code"] != "").all()  # worked out from the addresses
    distance = ground_distance_m(before.geometry.x, before.geometry.y,
                                 after.geometry.x, after.geometry.y)
    assert distance.max() < 0.5
