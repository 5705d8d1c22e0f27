"""Every validation rule, each with a tiny bad-input file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from source_tables import read_csv_rows, row, rows_with_ids

from stations.crs import gcj02_to_wgs84
from stations.index import haversine_m
from stations.ingest.amenities import parse_amenities, suggest_amenity
from stations.ingest.problems import Severity
from stations.ingest.sources import make_spec, read_source
from stations.ingest.validate import validate_tables
from stations.phones import phone_looks_right


def check(tmp_path, rows, crs="gcj02", name="s.csv"):
    return validate_tables([read_csv_rows(tmp_path / name, rows, crs=crs)])


def lines(result) -> list[str]:
    """The English side of each error and warning (notes on what was inferred left out)."""
    shown = {Severity.ERROR: "", Severity.WARNING: "warning: "}
    return [f"{p.file}:{p.row}: {p.field}: {shown[p.severity]}{p.message}"
            for p in result.problems if p.severity is not Severity.NOTE]


def test_good_row_passes_and_is_converted_to_wgs84(tmp_path):
    result = check(tmp_path, [row()])
    assert lines(result) == []
    assert (result.rows_read, result.rows_stored, result.rows_rejected) == (1, 1, 0)
    station = result.stations.iloc[0]
    lon, lat = gcj02_to_wgs84(108.3960, 22.8170)
    assert station.geometry.x == pytest.approx(float(lon), abs=1e-9)
    assert station.geometry.y == pytest.approx(float(lat), abs=1e-9)
    assert haversine_m(station.geometry.x, station.geometry.y, 108.3960, 22.8170) > 100
    assert station["status"] == "open"
    assert station[["has_drinking_water", "has_microwave", "has_air_conditioning",
                    "has_toilet"]].tolist() == [True, True, True, False]


def test_wgs84_source_is_stored_unchanged(tmp_path):
    station = check(tmp_path, [row()], crs="wgs84").stations.iloc[0]
    assert (station.geometry.x, station.geometry.y) == (108.3960, 22.8170)


@pytest.mark.parametrize(("heading", "field", "label"), [
    ("驿站名称", "name", "名称 (name)"), ("详细地址", "address", "地址 (address)"),
])
def test_required_field_missing(tmp_path, heading, field, label):
    result = check(tmp_path, [row(**{heading: ""})])
    assert lines(result) == [f"s.csv:2: {field}: missing; every station needs {label}"]
    assert (result.rows_stored, result.rows_rejected) == (0, 1)


@pytest.mark.parametrize(("cells", "expected"), [
    ({"纬度": "91.5"}, "s.csv:2: lat: 91.5 is not a latitude (must be between -90 and 90)"),
    ({"经度": "1e308"}, "s.csv:2: lon: 1e308 is not a longitude (must be between -180 and 180)"),
    ({"经度": "东经一百零八度"}, "s.csv:2: lon: '东经一百零八度' is not a number"),
    ({"纬度": "NaN"}, "s.csv:2: lat: 'NaN' is not a finite number"),
    ({"经度": "inf"}, "s.csv:2: lon: 'inf' is not a finite number"),
    ({"纬度": ""}, "s.csv:2: lat: missing; every station needs a latitude (纬度)"),
    ({"经度": "22.8170", "纬度": "108.3960"},
     "s.csv:2: lon/lat: (22.8170, 108.3960) lies outside China but swapped it lies in China: "
     "the longitude and latitude columns look swapped"),
    ({"经度": "2.35", "纬度": "48.85"},
     "s.csv:2: lon/lat: (2.35, 48.85) is far outside China; check the coordinates and their "
     "order (lon, lat)"),
])
def test_bad_coordinates(tmp_path, cells, expected):
    result = check(tmp_path, [row(**cells), row(编号="NN-102", 经度="108.5")])
    assert lines(result) == [expected]
    assert result.stations["id"].tolist() == ["NN-102"]


def test_full_width_digits_and_degree_signs_are_numbers(tmp_path):
    result = check(tmp_path, [row(经度="１０８．３９６０", 纬度="22.8170°")], crs="wgs84")
    assert lines(result) == []
    assert (result.stations.geometry.x[0], result.stations.geometry.y[0]) == (108.396, 22.817)


def test_swapped_coordinates_within_both_ranges(tmp_path):
    # (30.93, 108.70) is a valid lon/lat pair in the Indian Ocean; swapped it is Yunyang.
    result = check(tmp_path, [row(经度="30.93", 纬度="108.70")])
    assert "look swapped" in lines(result)[0]


def test_unknown_amenity_is_a_warning_with_a_suggestion(tmp_path):
    result = check(tmp_path, [row(服务设施="饮水、微波 炉、卫星电视")])
    assert lines(result) == [
        "s.csv:2: amenities: warning: unknown amenity '微波 炉' (ignored); "
        "did you mean 微波炉 (microwave)?",
        "s.csv:2: amenities: warning: unknown amenity '卫星电视' (ignored)",
    ]
    assert result.rows_stored == 1
    station = result.stations.iloc[0]
    assert station["has_drinking_water"]
    assert not station["has_microwave"]


@pytest.mark.parametrize(("cell", "codes"), [
    ("饮水、微波炉，空调;手机充电；卫生间", {"drinking_water", "microwave", "air_conditioning",
                                  "phone_charging", "toilet"}),
    ("Drinking water, Microwave; E-bike charging / battery swap",
     {"drinking_water", "microwave", "ebike_charging"}),
    ("wifi toilet 冰箱", {"wifi", "toilet", "fridge"}),
    ("ＷＩＦＩ、法律援助、扫码入会", {"wifi", "legal_aid", "union_signup"}),
    ("", set()),
])
def test_amenity_cells_in_chinese_and_english(cell, codes):
    parsed = parse_amenities(cell)
    assert set(parsed.codes) == codes
    assert parsed.unknown == ()


def test_suggestions_for_typos():
    assert suggest_amenity("Microwav") == "微波炉 (microwave)"
    assert suggest_amenity("washing machines") == "洗衣机 (washing_machine)"
    assert suggest_amenity("卫星电视") is None


@pytest.mark.parametrize(("value", "osm", "severity"), [
    ("24小时", "24/7", Severity.NOTE),
    ("８：００—１８：００", "08:00-18:00", Severity.NOTE),
    ("Mo-Fx 08:00-18:00", "", Severity.WARNING),
    ("有人就开", "", Severity.WARNING),
])
def test_hours_are_normalised_or_unknown_never_rejected(tmp_path, value, osm, severity):
    result = check(tmp_path, [row(开放时间=value)])
    [problem] = [p for p in result.problems if p.field == "opening_hours"]
    assert problem.severity is severity
    assert problem.zh and problem.message
    assert result.rows_rejected == 0
    station = result.stations.iloc[0]
    assert (station["opening_hours"], station["opening_hours_text"]) == (osm, value)


def test_good_opening_hours_pass(tmp_path):
    hours = ["24/7", "Mo-Fr 08:00-18:00", "06:00-22:00", "Mo-Su 07:00-21:00; PH off", ""]
    rows = [row(编号=f"NN-{i}", 经度=f"{108.3 + i / 100}", 开放时间=h) for i, h in enumerate(hours)]
    assert lines(check(tmp_path, rows)) == []


def test_status_in_english_or_chinese_and_bad_status(tmp_path):
    values = ["open", "暂停开放", "已关闭", "", "temporarily closed", "坏了"]
    rows = [row(编号=f"NN-{i}", 经度=f"{108.3 + i / 100}", 状态=v) for i, v in enumerate(values)]
    result = check(tmp_path, rows)
    assert lines(result) == ["s.csv:7: status: '坏了' is not a status; allowed: open (开放), "
                             "temporarily_closed (暂停开放), closed (已关闭)"]
    assert result.stations["status"].tolist() == [
        "open", "temporarily_closed", "closed", "open", "temporarily_closed"]


def test_duplicate_ids_across_sources(tmp_path):
    first = read_csv_rows(tmp_path / "nanning.csv", rows_with_ids(2))
    second = read_csv_rows(tmp_path / "more.csv", rows_with_ids(2, start=2, step_deg=0.013))
    result = validate_tables([first, second])
    assert lines(result) == [
        "more.csv:2: id: id 'NN-002' is already used at nanning.csv row 3 (第3行)"]
    assert sorted(result.stations["id"]) == ["NN-001", "NN-002", "NN-003"]
    assert result.stations.set_index("id").loc["NN-002"].geometry.x == pytest.approx(
        float(gcj02_to_wgs84(108.31, 22.817)[0]), abs=1e-9)


def _east(lon: float, lat: float, metres: float) -> float:
    return lon + metres / (111_195.0 * np.cos(np.radians(lat)))


@pytest.mark.parametrize(("metres", "second_name", "warned"), [
    (12.0, "民族大道枫林路口驿站", True),      # similar name, 12 m: one station entered twice
    (0.0, "民族大道枫林路口工会驿站", True),    # same name, same place
    (45.0, "民族大道枫林路口工会驿站", False),  # same name but 45 m away
    (12.0, "南宁市第三中学门卫室", False),      # 12 m away but another place
])
def test_likely_duplicate_stations(tmp_path, metres, second_name, warned):
    lon = _east(108.3960, 22.8170, metres)
    result = check(tmp_path, [row(), row(编号="NN-102", 驿站名称=second_name, 经度=f"{lon:.7f}")])
    assert result.rows_stored == 2
    expected = [f"s.csv:3: name: warning: likely the same station as s.csv row 2 (第2行) "
                f"(NN-101 民族大道枫林路口工会驿站), {metres:.0f} m away"]
    assert lines(result) == (expected if warned else [])


def test_duplicates_are_found_in_metres_not_degrees(tmp_path):
    # At 60°N a degree of longitude is half as long: 0.0004° is about 22 m, 0.0004° of
    # latitude about 44 m.  Degrees would treat both pairs alike.
    rows = [row(经度="100.0", 纬度="50.0"), row(编号="B", 经度="100.0004", 纬度="50.0"),
            row(编号="C", 经度="101.0", 纬度="50.0"), row(编号="D", 经度="101.0", 纬度="50.0004")]
    warned = {p.row for p in check(tmp_path, rows, crs="wgs84").problems if p.field == "name"}
    assert warned == {3}


@pytest.mark.parametrize("phone", ["abc", "123", "077112345678901", "电话待定"])
def test_phone_that_looks_wrong_is_a_warning(tmp_path, phone):
    assert not phone_looks_right(phone)
    result = check(tmp_path, [row(联系电话=phone)])
    assert lines(result) == [f"s.csv:2: phone: warning: {phone!r} does not look like a "
                             "phone number"]
    assert result.rows_stored == 1


def test_formula_like_text_is_stored_as_text(tmp_path):
    result = check(tmp_path, [row(驿站名称="=cmd|' /C calc'!A0", 详细地址="@SUM(A1)")])
    assert lines(result) == []
    assert result.stations.iloc[0][["name", "address"]].tolist() == [
        "=cmd|' /C calc'!A0", "@SUM(A1)"]


def test_geojson_non_point_is_rejected_with_one_problem(tmp_path):
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []},
         "properties": {"id": "G-1", "name": "甲", "address": "路", "city": "南宁市"}},
    ]}), encoding="utf-8")
    result = validate_tables([read_source(make_spec(path, "wgs84", label="s.geojson"))])
    assert lines(result) == ["s.geojson:1: geometry: a Polygon is not a point; a station is "
                             "one Point"]
    assert result.rows_rejected == 1


def test_problems_are_ordered_by_file_and_row(tmp_path):
    rows = [row(编号="A", 纬度="95"), row(编号="", 联系电话="x"),
            row(编号="C", 城市="", 所在区县="", 详细地址="某路1号", 经度="108.5")]
    result = check(tmp_path, rows)
    assert [(p.row, p.field) for p in result.problems] == [
        (2, "lat"), (3, "division_code"), (3, "phone"), (3, "id"), (4, "city")]
    assert result.problems[3].severity is Severity.NOTE  # the made id
    assert result.rows_read == result.rows_stored + result.rows_rejected == 3
