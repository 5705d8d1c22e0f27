"""The shipped sample: real stations from public reports, as office sheets really arrive."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stations.cli import main
from stations.crs import gcj02_to_wgs84, outside_china
from stations.geodata import read_build_info, read_stations
from stations.index import haversine_m
from stations.ingest.sources import decode_text, read_manifest, read_source
from stations.model import DEFAULT_GEOPACKAGE, DEFAULT_MANIFEST

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / DEFAULT_MANIFEST
SHIPPED = ROOT / DEFAULT_GEOPACKAGE
GB18030_SHEET = MANIFEST.parent / "guangxi-gcj02-gb18030.csv"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The manifest built from scratch, strictly: any problem in the sample fails the build."""
    out = tmp_path_factory.mktemp("sample") / "stations.gpkg"
    code = main(["build", "--manifest", str(MANIFEST), "--output", str(out), "--strict",
                 "--no-progress"])
    assert code == 0
    return out


def test_sample_builds_without_a_single_problem(built):
    stations = read_stations(built)
    assert len(stations) >= 20
    assert stations["city"].nunique() >= 2
    assert not outside_china(stations.geometry.x, stations.geometry.y).any()


def test_shipped_geopackage_is_the_build_of_the_shipped_sources(built):
    """A source edit without a rebuild (or the reverse) would ship stale stations."""
    assert read_build_info(SHIPPED)["data_version"] == read_build_info(built)["data_version"]


def test_every_sample_city_gets_its_maps_and_they_are_repeatable(tmp_path):
    """maps/ is generated, not shipped: drawing the sample twice gives a map pair per city,
    same bytes."""
    drawn = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert main(["map", "--data", str(SHIPPED), "--all", "--out", str(out), "--no-progress",
                     "--reports", str(tmp_path / "no-reports.sqlite")]) == 0
        drawn.append({p.name: p.read_bytes() for p in out.glob("*.html")})
    cities = set(read_stations(SHIPPED)["city"])
    assert {f"{city}-stations.html" for city in cities} <= set(drawn[0])
    assert {f"{city}-coverage.html" for city in cities} <= set(drawn[0])
    assert drawn[0] == drawn[1]


def test_office_sheet_is_gb18030_with_chinese_headings():
    data = GB18030_SHEET.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = decode_text(data, "auto", GB18030_SHEET.name)
    headings = text.splitlines()[0].split(",")
    assert {"驿站名称", "详细地址", "所在区县", "经度", "纬度", "联系电话", "开放时间",
            "服务设施"} <= set(headings)


def test_gcj02_sheet_is_stored_in_wgs84(built):
    spec = next(s for s in read_manifest(MANIFEST) if s.path.name == GB18030_SHEET.name)
    assert spec.crs.value == "gcj02"
    table = read_source(spec)
    sheet_lon = table.frame["lon"].astype(float).to_numpy()
    sheet_lat = table.frame["lat"].astype(float).to_numpy()
    stations = read_stations(built).set_index("id").loc[table.frame["id"]]
    stored_lon, stored_lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    expected_lon, expected_lat = gcj02_to_wgs84(sheet_lon, sheet_lat)
    assert haversine_m(stored_lon, stored_lat, expected_lon, expected_lat).max() < 0.01
    # GCJ-02 is off by hundreds of metres in Guangxi; storing the sheet as is would show.
    assert haversine_m(stored_lon, stored_lat, sheet_lon, sheet_lat).min() > 100


def test_the_stations_of_the_founding_report_are_there(built):
    stations = read_stations(built).set_index("name")
    for name, district in (("民族大道枫林路口工会驿站", "青秀区"),
                           ("五象大道体强路口工会驿站", "良庆区")):
        station = stations.loc[name]
        assert station["district"] == district
        assert station["operator"] == "南宁市建设工会"
        assert station["opening_hours"] == "24/7"
        assert "工人日报" in station["source"]
    fenglin = stations.loc["民族大道枫林路口工会驿站"]
    for column in ("has_drinking_water", "has_fridge", "has_microwave", "has_air_conditioning",
                   "has_washing_machine", "has_phone_charging", "has_reading_corner",
                   "has_union_signup", "has_legal_aid"):
        assert fenglin[column], column
    assert stations.loc["月光草坪工会驿站"]["district"] == "云阳县"


def test_every_row_says_where_it_comes_from_and_that_positions_are_approximate(built):
    stations = read_stations(built)
    assert stations["source"].str.contains("坐标为近似值").all()
    # Every source names a publication: a newspaper, a union website or its address.
    assert stations["source"].str.contains(r"报|网站|https?://").all()


def test_no_made_up_phone_numbers(built):
    """Only the union hotline 12351 behind the city's area code, never a guessed number."""
    phones = read_stations(built)["phone"]
    assert phones.map(lambda p: p == "" or re.fullmatch(r"0\d{2,3}-12351", p) is not None).all()
