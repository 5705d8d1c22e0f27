"""Building the GeoPackage: good rows kept, bad rows listed, strict builds, determinism."""

from __future__ import annotations

import pyogrio
from source_tables import row, rows_with_ids, write_csv

from stations.crs import from_wgs84
from stations.geodata import read_build_info, read_stations
from stations.ingest.build import build_geopackage
from stations.ingest.problems import Severity
from stations.ingest.sources import make_spec


def spec(path, crs="gcj02"):
    return make_spec(path, crs, label=path.name)


def test_good_rows_kept_bad_rows_listed(tmp_path):
    bad = [row(编号="NN-009", 纬度="91.5"),
           row(编号="NN-010", 城市="", 所在区县="", 详细地址="某路1号", 经度="108.5")]
    source = write_csv(tmp_path / "nanning.csv", [*rows_with_ids(3), *bad])
    output = tmp_path / "out" / "stations.gpkg"
    report = build_geopackage([spec(source)], output)
    assert report.written
    assert (report.rows_read, report.rows_stored, report.rows_rejected) == (5, 3, 2)
    assert [str(p) for p in report.problems if p.severity is not Severity.NOTE] == [
        "nanning.csv row 5 (第5行): lat: 91.5 不是纬度（应在 ±90 之间） / 91.5 is not a latitude "
        "(must be between -90 and 90)",
        "nanning.csv row 6 (第6行): city: 缺少城市：地址和清单默认值都没有写明城市（未能从地址、"
        "区县列或默认值确定行政区划） / missing; neither the address nor the manifest's defaults "
        "name the city (no division named by the address, district column or defaults)",
    ]
    assert report.summary().startswith("5 rows read = 3 stored + 2 rejected; 2 errors, 0 warn")
    stored = read_stations(output)
    assert stored["id"].tolist() == ["NN-001", "NN-002", "NN-003"]
    assert stored.attrs["data_version"] == report.data_version
    assert read_build_info(output)["sources"] == "nanning.csv"


def test_strict_build_writes_nothing_on_a_warning(tmp_path, sample_gpkg):
    before = sample_gpkg.read_bytes()
    source = write_csv(tmp_path / "s.csv", [*rows_with_ids(2), row(编号="NN-099", 联系电话="x")])
    report = build_geopackage([spec(source)], sample_gpkg, strict=True)
    assert not report.written
    assert report.warnings == 1 and report.errors == 0
    assert report.rows_read == report.rows_stored + report.rows_rejected == 3
    assert "--strict: 1 problems, nothing written" in report.summary()
    assert sample_gpkg.read_bytes() == before


def test_strict_build_without_problems_writes(tmp_path):
    source = write_csv(tmp_path / "s.csv", rows_with_ids(2))
    report = build_geopackage([spec(source)], tmp_path / "s.gpkg", strict=True)
    assert report.written and report.errors + report.warnings == 0
    assert pyogrio.read_info(tmp_path / "s.gpkg", layer="stations")["features"] == 2


def test_no_valid_row_writes_nothing(tmp_path, sample_gpkg):
    before = sample_gpkg.read_bytes()
    source = write_csv(tmp_path / "s.csv", [row(纬度="abc"), row(编号="x", 经度="")])
    report = build_geopackage([spec(source)], sample_gpkg)
    assert not report.written
    assert report.refusal == "no valid station, nothing written"
    assert (report.rows_read, report.rows_rejected) == (2, 2)
    assert sample_gpkg.read_bytes() == before


def test_two_builds_same_version_and_bytes(tmp_path):
    rows = rows_with_ids(40)
    first_source = write_csv(tmp_path / "a.csv", rows)
    reordered = write_csv(tmp_path / "b.csv", rows[::-1])
    first = build_geopackage([spec(first_source)], tmp_path / "one.gpkg")
    again = build_geopackage([spec(first_source)], tmp_path / "two.gpkg")
    other_order = build_geopackage([make_spec(reordered, "gcj02", label="a.csv")],
                                   tmp_path / "three.gpkg")
    assert first.data_version == again.data_version == other_order.data_version
    one = (tmp_path / "one.gpkg").read_bytes()
    assert one == (tmp_path / "two.gpkg").read_bytes() == (tmp_path / "three.gpkg").read_bytes()


def test_sources_in_different_coordinate_systems_meet_in_wgs84(tmp_path):
    # Places written as Amap (GCJ-02) and Baidu (BD-09) show them.
    gcj = from_wgs84(108.39, 22.81, "gcj02")
    bd = from_wgs84(108.40, 22.81, "bd09")
    amap = write_csv(tmp_path / "amap.csv", [row(编号="A", 经度=f"{gcj[0]:.9f}",
                                                纬度=f"{gcj[1]:.9f}")])
    baidu = write_csv(tmp_path / "baidu.csv", [row(编号="B", 经度=f"{bd[0]:.9f}",
                                                  纬度=f"{bd[1]:.9f}")])
    build_geopackage([spec(amap, "gcj02"), spec(baidu, "bd09")], tmp_path / "s.gpkg")
    stored = read_stations(tmp_path / "s.gpkg").set_index("id")
    assert abs(stored.loc["A"].geometry.x - 108.39) < 1e-7
    assert abs(stored.loc["B"].geometry.x - 108.40) < 1e-7
    assert abs(stored.loc["B"].geometry.y - 22.81) < 1e-7


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    source = write_csv(tmp_path / "s.csv", rows_with_ids(2))
    build_geopackage([spec(source)], tmp_path / "s.gpkg", progress=True)
    captured = capsys.readouterr()
    assert "validating 2 rows" in captured.err
    assert "writing 2 stations" in captured.err
    assert captured.out == ""
